"""Bench: ideas and appreciation at a city-and-more size, 300 units, 50,000 members, 20,000
ideas, 250,000 supports and offers to help and 250,000 appreciations, on SQLite and on
PostgreSQL. Target: a member's `/ide_daftar` page and a unit's weekly digest (its ideas,
the thanks shown, and the counts across units and generations) in at most 100 ms each
(warm median over 30 random units; the worst is printed too).

    python -m bench.ideas [--members 50000] [--ideas 20000] [--votes 500000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import insert

from bench.common import PG_URL, emit, fresh_database, now, postgres_available
from bench.leaderboard import TZ, generate, load_small
from bot.ideas import rules
from db.engine import Database
from db.models import Appreciation, Idea, IdeaVote
from db.queries.appreciation import crossings_since, shown_this_week
from db.queries.ideas import help_crossings_since, ideas_for
from db.queries.units import get_unit

TARGET_MS = 100.0
SAMPLES = 30
CHUNK = 50_000
VALUES = ["BP", "AK", "KO", "HA", "LO", "AD", "KL"]
STATUSES = [rules.NEW, rules.REVIEW, rules.ACCEPTED, rules.WORKING, rules.DONE, rules.DECLINED]


def load(db: Database, members: int, ideas: int, votes: int) -> tuple[list[int], list[int]]:
    """Units and members as the leaderboard bench makes them; ideas over the last 26 weeks,
    a third for the whole instansi; half the votes on ideas, half appreciations."""
    today = datetime.now(ZoneInfo(TZ)).date()
    data = generate(300, members, 0, today)
    ids = load_small(db, data)
    rng = np.random.default_rng(20261207)
    start = datetime.now(UTC) - timedelta(weeks=26)
    unit_of = np.array(ids.units)[data.member_unit]
    author = rng.integers(0, members, size=ideas)
    seconds = np.sort(rng.integers(0, 26 * 7 * 86400, size=ideas))
    idea_rows = [
        {
            "author_id": ids.members[a],
            "unit_id": int(unit_of[a]),
            "target_unit_id": None if i % 3 == 0 else int(unit_of[a]),
            "value": VALUES[i % 7],
            "title": f"Ide bench {i}",
            "description": f"Penjelasan ide bench nomor {i}, cukup panjang untuk dibaca.",
            "fingerprint": f"{i:064x}"[-64:],
            "status": STATUSES[i % len(STATUSES)],
            "created_at": start + timedelta(seconds=int(s)),
            "updated_at": start + timedelta(seconds=int(s)),
        }
        for i, (a, s) in enumerate(zip(author.tolist(), seconds.tolist(), strict=True))
    ]
    with db.engine.begin() as conn:
        idea_ids = list(
            conn.execute(
                insert(Idea).returning(Idea.id, sort_by_parameter_order=True),  # type: ignore[arg-type]
                idea_rows,
            )
            .scalars()
            .all()
        )
    half = votes // 2
    pairs = {
        (int(i), int(m), "support" if k else "help")
        for i, m, k in zip(
            rng.integers(0, ideas, size=half).tolist(),
            rng.integers(0, members, size=half).tolist(),
            rng.integers(0, 2, size=half).tolist(),
            strict=True,
        )
    }
    # Spread over the 26 weeks, like the ideas: the digest counts the last week's help.
    vote_seconds = rng.integers(0, 26 * 7 * 86400, size=len(pairs)).tolist()
    vote_rows = [
        {
            "idea_id": idea_ids[i],
            "member_id": ids.members[m],
            "kind": k,
            "created_at": start + timedelta(seconds=int(t)),
            "cross_generation": (i + m) % 3 == 0 if k == "help" else None,
        }
        for (i, m, k), t in zip(pairs, vote_seconds, strict=True)
    ]
    givers = rng.integers(0, members, size=votes - half).tolist()
    receivers = rng.integers(0, members, size=votes - half).tolist()
    thanks = [
        {
            "giver_id": ids.members[g],
            "receiver_id": ids.members[r],
            "giver_unit_id": int(unit_of[g]),
            "receiver_unit_id": int(unit_of[r]),
            "value": VALUES[g % 7],
            "reason": "Terima kasih atas bantuannya.",
            "weight": 1.0,
            "points": 2,
            "cross_generation": (g + r) % 3 == 0,
            "created_at": start + timedelta(seconds=int(t)),
        }
        for g, r, t in zip(
            givers,
            receivers,
            rng.integers(0, 26 * 7 * 86400, size=votes - half).tolist(),
            strict=True,
        )
    ]
    with db.engine.begin() as conn:
        for table, rows in ((IdeaVote, vote_rows), (Appreciation, thanks)):
            for n in range(0, len(rows), CHUNK):
                conn.execute(insert(table), rows[n : n + CHUNK])
    return ids.units, ids.members


def measure(name: str, url: str, units: list[int]) -> tuple[dict[str, Any], bool]:
    db = Database(url)
    rng = np.random.default_rng(7)
    chosen = rng.choice(units, size=min(SAMPLES, len(units)), replace=False).tolist()
    week_ago = datetime.now(UTC) - timedelta(days=7)
    pages, digests = [], []
    for unit_id in chosen:
        unit = db.run_sync(get_unit, unit_id=unit_id)
        scope = [u for u in (unit_id, unit.parent_id if unit else None) if u]
        for _ in range(2):  # the first warms the cache; the second counts
            started = now()
            db.run_sync(ideas_for, unit_ids=scope, limit=5)
            page = (now() - started) * 1000
            started = now()
            db.run_sync(ideas_for, unit_ids=scope, since=week_ago, limit=10)
            db.run_sync(
                ideas_for,
                unit_ids=scope,
                changed_since=week_ago,
                statuses=[rules.DONE],
                limit=10,
            )
            # The rest of the Friday post: the unit's thanks shown, and its week of thanks
            # and help across units and generations.
            db.run_sync(shown_this_week, unit_ids=[unit_id], since=week_ago)
            db.run_sync(crossings_since, unit_ids=[unit_id], since=week_ago)
            db.run_sync(help_crossings_since, unit_ids=[unit_id], since=week_ago)
            digest = (now() - started) * 1000
        pages.append(page)
        digests.append(digest)
    db.close()
    figures = {
        f"{name}_list_ms": round(statistics.median(pages), 1),
        f"{name}_list_max_ms": round(max(pages), 1),
        f"{name}_digest_ms": round(statistics.median(digests), 1),
        f"{name}_digest_max_ms": round(max(digests), 1),
    }
    ok = statistics.median(pages) <= TARGET_MS and statistics.median(digests) <= TARGET_MS
    print(
        f"{name}: /ide_daftar page median {statistics.median(pages):.1f} ms (max "
        f"{max(pages):.1f}), weekly digest median {statistics.median(digests):.1f} ms (max "
        f"{max(digests):.1f}) -> {'PASS' if ok else 'FAIL'} (target {TARGET_MS:.0f} ms)",
        flush=True,
    )
    return figures, ok


def run(members: int, ideas: int, votes: int) -> dict[str, Any]:
    figures: dict[str, Any] = {"bench": "ideas", "members": members, "ideas": ideas}
    figures["votes_and_appreciations"] = votes
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", f"sqlite:///{Path(tmp) / 'ideas.sqlite3'}")]
        if postgres_available():
            targets.append(("postgresql", PG_URL))
        for name, url in targets:
            db = fresh_database(url)
            started = now()
            units, _ = load(db, members, ideas, votes)
            db.close()
            print(f"{name}: loaded in {now() - started:.1f} s", flush=True)
            measured, passed = measure(name, url, units)
            figures.update(measured)
            ok &= passed
    figures["targets_met"] = ok
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ideas")
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--ideas", type=int, default=20_000)
    parser.add_argument("--votes", type=int, default=500_000)
    args = parser.parse_args(argv)
    emit(run(args.members, args.ideas, args.votes))


if __name__ == "__main__":
    main()
