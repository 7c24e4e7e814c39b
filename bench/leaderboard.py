"""Bench: the leaderboard at the issue's size, 300 units, 50,000 members and 5,000,000 quiz
answers, on SQLite and on PostgreSQL. Target: a board (`unit_stats` + `rank`, as
`bot.boards.cards.ranking` computes it) for this week, this month and all time in at most 200 ms,
warm; a chart in at most 1 s.

    python -m bench.leaderboard [--units 300] [--members 50000] [--answers 5000000]

The data is generated once (numpy, fixed seed) and bulk-loaded into each database: polls
and answers as the app records them, and the maintained aggregates (`score`,
`unit_value_score`) summed from the same answers. A naive board computed straight from
`quiz_answer` is then timed once per period kind and must equal the maintained one, which
both shows why the aggregates exist and proves the loaded aggregates consistent.

Not generated, as the boards do not read them: reflections, streak bonuses (they would
only add to the same score rows) and `member_day`.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import case, distinct, func, insert, text
from sqlmodel import Session, col, select

from bench.common import FIRST_USER_ID, PG_URL, emit, fresh_database, now, postgres_available
from bot.boards.charts import Bar, ranking_png, values_png
from bot.boards.ranking import Ranking, UnitStats, rank
from bot.scores.scoring import PointRules
from content.loader import shipped_content
from db.engine import Database
from db.models import Broadcast, Member, QuizAnswer, Unit
from db.queries.content import sync_bank
from db.queries.leaderboard import unit_stats
from db.queries.scores import ALL, month_key, week_key

SEED = 20261129
WEEKS = 40
TZ = "Asia/Jakarta"
REPEATS = 5
BOARD_TARGET_MS = 200.0
CHART_TARGET_MS = 1000.0
# Rows per executemany call or COPY write: big enough to amortise the call, small enough
# that one chunk's Python strings stay a few hundred MB at most.
CHUNK = 250_000
# Poll ids look like Telegram's (19 digits) so the unique index has a realistic width.
POLL_ID_BASE = 5_800_000_000_000_000_000

OPD_TOPICS = (
    "Pendidikan",
    "Kesehatan",
    "Pekerjaan Umum dan Penataan Ruang",
    "Perumahan dan Kawasan Permukiman",
    "Sosial",
    "Tenaga Kerja",
    "Pemberdayaan Perempuan dan Perlindungan Anak",
    "Ketahanan Pangan dan Pertanian",
    "Lingkungan Hidup",
    "Kependudukan dan Pencatatan Sipil",
    "Perhubungan",
    "Komunikasi dan Informatika",
    "Koperasi dan Usaha Mikro",
    "Penanaman Modal dan PTSP",
    "Kepemudaan dan Olahraga",
)
OPD_KINDS = ("Dinas", "Badan")
UNIT_KINDS = (
    "Sekretariat",
    "Bidang Perencanaan",
    "Bidang Pelayanan",
    "Bidang Pengawasan",
    "Bidang Pengembangan",
    "Subbagian Keuangan",
    "Subbagian Umum dan Kepegawaian",
    "UPT Wilayah Utara",
    "UPT Wilayah Selatan",
    "UPT Wilayah Timur",
    "UPT Wilayah Barat",
)


@dataclass(frozen=True)
class Dataset:
    """Everything generated, as indexes into small tables; ids come from each database."""

    unit_names: list[str]
    unit_parent: list[int | None]  # index of the OPD, None for an OPD
    member_unit: NDArray[np.int64]  # unit index per member
    show_name: NDArray[np.bool_]
    days: list[date]  # working days, local
    day_start_utc: NDArray[np.int64]  # epoch seconds of each day's local midnight
    question_ids: list[str]
    question_values: list[str]
    # One entry per answer, in time order (the order the app would have written them).
    member: NDArray[np.int64]
    day: NDArray[np.int64]
    second: NDArray[np.int64]  # seconds after local midnight
    question: NDArray[np.int64]
    option: NDArray[np.int64]
    correct: NDArray[np.bool_]
    practice: NDArray[np.bool_]
    points: NDArray[np.int64]
    wait: NDArray[np.int64]  # seconds from poll to answer

    @property
    def answered_at(self) -> NDArray[np.int64]:
        return self.day_start_utc[self.day] + self.second


def unit_sizes(rng: np.random.Generator, units: int, members: int) -> NDArray[np.int64]:
    """Skewed sizes summing to `members`: a tenth of the units have 2-4 members (the small
    units the ranking pools), the rest follow a log-normal with a long tail of big ones."""
    sizes = np.zeros(units, dtype=np.int64)
    small = rng.choice(units, size=units // 10, replace=False)
    sizes[small] = rng.integers(2, 5, size=small.size)
    rest = np.setdiff1d(np.arange(units), small)
    raw = rng.lognormal(0.0, 1.1, size=rest.size)
    left = members - int(sizes.sum())
    sizes[rest] = np.maximum(5, np.floor(raw / raw.sum() * left)).astype(np.int64)
    sizes[rest[np.argmax(sizes[rest])]] += members - int(sizes.sum())
    if sizes.min() < 1:
        raise ValueError("too few members for that many units")
    return sizes


def working_days(today: date) -> list[date]:
    """Monday to Friday of the `WEEKS` weeks ending with this one."""
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=WEEKS - 1)
    return [first + timedelta(weeks=w, days=d) for w in range(WEEKS) for d in range(5)]


def generate(units: int, members: int, answers: int, today: date) -> Dataset:
    """About a tenth of the units are OPDs, the rest their unit kerja; members answer on
    working days in office hours, each at their own pace and accuracy."""
    rng = np.random.default_rng(SEED)
    opds = max(1, round(units / 10))
    parent: list[int | None] = [None] * opds + [i % opds for i in range(units - opds)]
    names = [
        f"{OPD_KINDS[i // len(OPD_TOPICS) % 2]} {OPD_TOPICS[i % len(OPD_TOPICS)]}"
        for i in range(opds)
    ]
    names = [n if i < len(OPD_TOPICS) * 2 else f"{n} {i}" for i, n in enumerate(names)]
    seen: dict[int, int] = defaultdict(int)
    for p in parent[opds:]:
        assert p is not None
        kind = UNIT_KINDS[seen[p] % len(UNIT_KINDS)]
        suffix = f" {seen[p] // len(UNIT_KINDS) + 1}" if seen[p] >= len(UNIT_KINDS) else ""
        names.append(f"{kind}{suffix} {names[p]}")
        seen[p] += 1

    sizes = unit_sizes(rng, units, members)
    member_unit = rng.permutation(np.repeat(np.arange(units), sizes))
    # A fifth never answer; the rest differ in zeal, and whole units in how much their
    # leaders push the programme, so units differ in participation as well as points.
    zeal = rng.gamma(2.0, 1.0, size=members) * (rng.random(members) >= 0.2)
    zeal *= rng.lognormal(0.0, 0.35, size=units)[member_unit]
    skill = rng.beta(6.0, 3.0, size=members)

    days = working_days(today)
    zone = ZoneInfo(TZ)
    day_start = np.array(
        [int(datetime.combine(d, time(), zone).timestamp()) for d in days], dtype=np.int64
    )
    bank = shipped_content().questions
    right = np.array([q.correct for q in bank], dtype=np.int64)
    choices = np.array([len(q.options) for q in bank], dtype=np.int64)

    member = rng.choice(members, size=answers, p=zeal / zeal.sum())
    day = rng.integers(0, len(days), size=answers)
    second = rng.integers(7 * 3600 + 1800, 16 * 3600, size=answers)  # 07:30-16:00 local
    order = np.lexsort((second, day))
    member, day, second = member[order], day[order], second[order]
    question = rng.integers(0, len(bank), size=answers)
    correct = rng.random(answers) < skill[member]
    wrong = (right[question] + rng.integers(1, choices[question])) % choices[question]
    option = np.where(correct, right[question], wrong)
    practice = rng.random(answers) < 0.05
    rules = PointRules()
    points = np.where(
        practice,
        rules.practice_correct * correct,
        rules.answered + rules.correct * correct,
    ).astype(np.int64)
    return Dataset(
        unit_names=names,
        unit_parent=parent,
        member_unit=member_unit,
        show_name=rng.random(members) < 0.3,
        days=days,
        day_start_utc=day_start,
        question_ids=[q.id for q in bank],
        question_values=[q.value for q in bank],
        member=member,
        day=day,
        second=second,
        question=question,
        option=option,
        correct=correct,
        practice=practice,
        points=points,
        wait=rng.integers(3, 600, size=answers),
    )


@dataclass(frozen=True)
class ScoreRows:
    """The maintained aggregates the app would have written for the generated answers."""

    score: list[tuple[int, str, int, int, int, int, int]]  # member idx, period, unit idx, ...
    unit_value: list[tuple[int, str, str, int, int]]  # unit idx, period, value, ...


def aggregates(data: Dataset) -> ScoreRows:
    """Sums per member and period (week, month, all), and per unit, period and value, with
    the keys of `db.queries.scores` so the bench and the app agree on what a week is. Rows
    come in the order the app would have inserted them, by their period's first answer
    (week, month, all for the same answer), so the tables' physical layout is the app's."""
    values = sorted(set(data.question_values))
    value_of = np.array([values.index(v) for v in data.question_values], dtype=np.int64)[
        data.question
    ]
    weeks = sorted({week_key(d) for d in data.days})
    months = sorted({month_key(d) for d in data.days})
    kinds = [
        (weeks, np.array([weeks.index(week_key(d)) for d in data.days])[data.day]),
        (months, np.array([months.index(month_key(d)) for d in data.days])[data.day]),
        ([ALL], np.zeros(data.day.size, dtype=np.int64)),
    ]
    rounds = ~data.practice
    round_points = np.where(rounds, data.points, 0)
    practice_points = np.where(rounds, 0, data.points)
    round_correct = rounds & data.correct
    answer_unit = data.member_unit[data.member]
    round_at = np.flatnonzero(rounds)  # answer positions of the round answers
    score_parts: list[list[NDArray[Any]]] = []
    value_parts: list[list[NDArray[Any]]] = []
    for kind, (keys, index) in enumerate(kinds):
        period = np.array(keys, dtype=object)
        key = data.member * len(keys) + index
        present, first = np.unique(key, return_index=True)

        def total(weights: NDArray[Any], key: NDArray[Any] = key, at: Any = present) -> Any:
            return np.bincount(key, weights=weights).astype(np.int64)[at]

        score_parts.append(
            [
                first,
                np.full(present.size, kind),
                present // len(keys),
                period[present % len(keys)],
                data.member_unit[present // len(keys)],
                total(round_points),
                total(rounds),
                total(round_correct),
                total(practice_points),
            ]
        )
        vkey = ((answer_unit * len(keys) + index) * len(values) + value_of)[rounds]
        present, first = np.unique(vkey, return_index=True)
        right = np.bincount(vkey, weights=round_correct[rounds]).astype(np.int64)
        value_parts.append(
            [
                round_at[first],
                np.full(present.size, kind),
                present // len(values) // len(keys),
                period[present // len(values) % len(keys)],
                np.array(values, dtype=object)[present % len(values)],
                np.bincount(vkey)[present],
                right[present],
            ]
        )

    def in_order(parts: list[list[NDArray[Any]]]) -> list[Any]:
        columns = [np.concatenate(c) for c in zip(*parts, strict=True)]
        order = np.lexsort((columns[1], columns[0]))
        return list(zip(*(c[order].tolist() for c in columns[2:]), strict=True))

    return ScoreRows(in_order(score_parts), in_order(value_parts))


@dataclass(frozen=True)
class Ids:
    units: list[int]
    members: list[int]
    rounds: list[int]  # one quiz round (broadcast) per working day


def load_small(db: Database, data: Dataset) -> Ids:
    """The bank, units, members and one quiz round per day, through the ORM's own paths
    (they are small); the ids the database gave them map the generated indexes."""
    content = shipped_content()
    db.run_sync(sync_bank, questions=content.questions, prompts=content.prompts)
    stamp = datetime.combine(data.days[0] - timedelta(days=7), time(), UTC)
    last_active: dict[int, datetime] = {}
    if data.day.size:
        at = data.answered_at
        latest = np.full(data.member_unit.size, -1, dtype=np.int64)
        np.maximum.at(latest, data.member, at)
        last_active = {
            m: datetime.fromtimestamp(int(latest[m]), UTC)
            for m in np.flatnonzero(latest >= 0).tolist()
        }
    with db.engine.begin() as conn:
        unit_ids: list[int] = []
        for opd_level in (True, False):
            todo = [i for i, p in enumerate(data.unit_parent) if (p is None) == opd_level]
            rows = [
                {
                    "code": f"B{i:04d}",
                    "name": data.unit_names[i],
                    "parent_id": None if p is None else unit_ids[p],
                    "timezone": TZ,
                    "active": True,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for i in todo
                for p in [data.unit_parent[i]]
            ]
            stmt = insert(Unit).returning(col(Unit.id), sort_by_parameter_order=True)
            unit_ids.extend(conn.execute(stmt, rows).scalars().all())
        member_rows = [
            {
                "telegram_user_id": FIRST_USER_ID + i,
                "chat_id": FIRST_USER_ID + i,
                "full_name": f"Anggota Bench {i}",
                "unit_id": unit_ids[u],
                "role": "member",
                "language": "id",
                "consent_at": stamp,
                "reachable": True,
                "show_name": bool(data.show_name[i]),
                "last_active_at": last_active.get(i),
                "created_at": stamp,
                "updated_at": stamp,
            }
            for i, u in enumerate(data.member_unit.tolist())
        ]
        stmt = insert(Member).returning(col(Member.id), sort_by_parameter_order=True)
        member_ids = list(conn.execute(stmt, member_rows).scalars().all())
        round_rows = [
            {
                "kind": "quiz",
                "audience": {"type": "all"},
                "content": {"questions": 3},
                "status": "done",
                "paid": True,
                "total": data.member_unit.size,
                "created_at": datetime.fromtimestamp(int(start) + 8 * 3600, UTC),
            }
            for start in data.day_start_utc.tolist()
        ]
        stmt = insert(Broadcast).returning(col(Broadcast.id), sort_by_parameter_order=True)
        round_ids = list(conn.execute(stmt, round_rows).scalars().all())
    return Ids(unit_ids, member_ids, round_ids)


@dataclass(frozen=True)
class Columns:
    """The big tables' columns as Python lists, in the database's ids (one chunk)."""

    poll_id: list[str]
    member_id: list[int]
    chat_id: list[int]
    question_id: list[str]
    value: list[str]
    option: list[int]
    correct: list[bool]
    seconds: list[int]
    practice: list[bool]
    round_id: list[int | None]
    points: list[int]
    answered_at: NDArray[np.int64]
    sent_at: NDArray[np.int64]


def chunks(data: Dataset, ids: Ids) -> Iterator[tuple[int, Columns]]:
    member_ids = np.array(ids.members, dtype=np.int64)
    round_ids = np.array(ids.rounds, dtype=object)
    qids = np.array(data.question_ids, dtype=object)
    qvalues = np.array(data.question_values, dtype=object)
    at = data.answered_at
    for start in range(0, data.member.size, CHUNK):
        part = slice(start, start + CHUNK)
        member = data.member[part]
        practice = data.practice[part]
        rounds = round_ids[data.day[part]]
        rounds[practice] = None
        yield (
            start,
            Columns(
                poll_id=[str(POLL_ID_BASE + i) for i in range(start, start + member.size)],
                member_id=member_ids[member].tolist(),
                chat_id=(member + FIRST_USER_ID).tolist(),
                question_id=qids[data.question[part]].tolist(),
                value=qvalues[data.question[part]].tolist(),
                option=data.option[part].tolist(),
                correct=data.correct[part].tolist(),
                seconds=data.wait[part].tolist(),
                practice=practice.tolist(),
                round_id=rounds.tolist(),
                points=data.points[part].tolist(),
                answered_at=at[part],
                sent_at=at[part] - data.wait[part],
            ),
        )


def timestamps(epoch: NDArray[np.int64], sep: str, suffix: str) -> list[str]:
    """Epoch seconds as text without a Python datetime per row: numpy formats them."""
    text_ = np.datetime_as_string(epoch.astype("datetime64[s]"), unit="s")
    return [s[:10] + sep + s[11:] + suffix for s in text_.tolist()]


POLL_COLUMNS = "poll_id, member_id, question_id, practice, chat_id, message_id, sent_at, round_id"
# The answers come with their scores already loaded: they count as scored.
ANSWER_COLUMNS = (
    "poll_id, member_id, question_id, value, option, correct, seconds, practice, round_id, "
    "points, answered_at, scored"
)
SCORE_COLUMNS = (
    "member_id, period, unit_id, points, answered, correct, reflections, practice_points"
)
UNIT_VALUE_COLUMNS = "unit_id, period, value, answered, correct"
BIG_TABLES = ("quiz_poll", "quiz_answer", "score", "unit_value_score")


class Phases:
    """Prints how long each step of a load took, so a slow load says where."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = now()

    def done(self, step: str) -> None:
        print(f"  {self.name} {step}: {now() - self.started:.1f} s", flush=True)
        self.started = now()


def load_sqlite(path: Path, data: Dataset, ids: Ids, scores: ScoreRows) -> None:
    """One transaction on a plain sqlite3 connection with the journal and syncing off: a
    bulk load into a throw-away file, not how the app writes (it keeps WAL and FKs on)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "foreign_keys=OFF",
            "cache_size=-1000000",  # 1 GB: the indexes being built stay in memory
            "temp_store=MEMORY",
            "threads=2",  # CREATE INDEX sorts with a helper thread
        ):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN")
        # Secondary indexes are dropped and built again after the load: one sort each
        # instead of millions of inserts at random places. Autoindexes (primary and unique
        # keys, no SQL of their own) stay; the poll ids arrive in order for them.
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join(repr(t) for t in BIG_TABLES)})"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        message = 0
        phases = Phases("sqlite")
        for _, c in chunks(data, ids):
            # SQLAlchemy's SQLite DATETIME text format, so its range filters compare right.
            sent = timestamps(c.sent_at, " ", ".000000")
            answered = timestamps(c.answered_at, " ", ".000000")
            messages = range(message + 1, message + 1 + len(c.poll_id))
            message += len(c.poll_id)
            conn.executemany(
                f"INSERT INTO quiz_poll ({POLL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                zip(
                    c.poll_id,
                    c.member_id,
                    c.question_id,
                    c.practice,
                    c.chat_id,
                    messages,
                    sent,
                    c.round_id,
                    strict=True,
                ),
            )
            conn.executemany(
                f"INSERT INTO quiz_answer ({ANSWER_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                zip(
                    c.poll_id,
                    c.member_id,
                    c.question_id,
                    c.value,
                    c.option,
                    c.correct,
                    c.seconds,
                    c.practice,
                    c.round_id,
                    c.points,
                    answered,
                    strict=True,
                ),
            )
        phases.done("polls and answers")
        conn.executemany(
            f"INSERT INTO score ({SCORE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
            (
                (ids.members[m], p, ids.units[u], pts, a, r, pp)
                for m, p, u, pts, a, r, pp in scores.score
            ),
        )
        conn.executemany(
            f"INSERT INTO unit_value_score ({UNIT_VALUE_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            ((ids.units[u], p, v, a, r) for u, p, v, a, r in scores.unit_value),
        )
        phases.done("scores")
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        phases.done("indexes")
    finally:
        conn.close()


def _copy(cursor: Any, table: str, columns: str, lines: Iterator[str]) -> None:
    """COPY … FREEZE: the rows are written already frozen and all-visible, as they would be
    after autovacuum, so index-only scans work at once. The queued writer sends from a
    thread while this one formats the next lines, so Python and the server overlap."""
    with cursor.copy(
        f"COPY {table} ({columns}) FROM STDIN (FREEZE)", writer=QueuedLibpqWriter(cursor)
    ) as copy:
        buffer: list[str] = []
        for line in lines:
            buffer.append(line)
            if len(buffer) >= CHUNK // 5:
                copy.write("".join(buffer))
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))


def load_postgresql(db: Database, data: Dataset, ids: Ids, scores: ScoreRows) -> None:
    """COPY in one transaction, the big tables truncated first so FREEZE is allowed. As a
    superuser the load skips the per-row foreign-key triggers (the generated rows are
    consistent by construction); secondary indexes are dropped and built again after."""
    raw = db.engine.raw_connection()
    try:
        pg: Any = raw.driver_connection
        with pg.cursor() as cur:
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cur.fetchone()[0]:
                cur.execute("SET LOCAL session_replication_role = replica")
            cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cur.execute(f"TRUNCATE {', '.join(BIG_TABLES)}")
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema() AND tablename = ANY(%s) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint) "
                # nor an index a foreign key stands on (the answer's key to its poll)
                "AND indexname NOT IN (SELECT i.relname FROM pg_constraint k "
                "JOIN pg_class i ON i.oid = k.conindid WHERE k.contype = 'f')",
                [list(BIG_TABLES)],
            )
            indexes = cur.fetchall()
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            message = 0
            phases = Phases("postgresql")
            for _, c in chunks(data, ids):
                sent = timestamps(c.sent_at, " ", "+00")
                answered = timestamps(c.answered_at, " ", "+00")
                rounds = [r"\N" if r is None else str(r) for r in c.round_id]
                practice = ["t" if p else "f" for p in c.practice]
                first = message + 1
                message += len(c.poll_id)
                _copy(
                    cur,
                    "quiz_poll",
                    POLL_COLUMNS,
                    (
                        f"{p}\t{m}\t{q}\t{pr}\t{ch}\t{first + i}\t{s}\t{r}\n"
                        for i, (p, m, q, pr, ch, s, r) in enumerate(
                            zip(
                                c.poll_id,
                                c.member_id,
                                c.question_id,
                                practice,
                                c.chat_id,
                                sent,
                                rounds,
                                strict=True,
                            )
                        )
                    ),
                )
                _copy(
                    cur,
                    "quiz_answer",
                    ANSWER_COLUMNS,
                    (
                        f"{p}\t{m}\t{q}\t{v}\t{o}\t{'t' if ok else 'f'}\t"
                        f"{s}\t{pr}\t{r}\t{pts}\t{a}\tt\n"
                        for p, m, q, v, o, ok, s, pr, r, pts, a in zip(
                            c.poll_id,
                            c.member_id,
                            c.question_id,
                            c.value,
                            c.option,
                            c.correct,
                            c.seconds,
                            practice,
                            rounds,
                            c.points,
                            answered,
                            strict=True,
                        )
                    ),
                )
            phases.done("polls and answers")
            _copy(
                cur,
                "score",
                SCORE_COLUMNS,
                (
                    f"{ids.members[m]}\t{p}\t{ids.units[u]}\t{pts}\t{a}\t{r}\t0\t{pp}\n"
                    for m, p, u, pts, a, r, pp in scores.score
                ),
            )
            _copy(
                cur,
                "unit_value_score",
                UNIT_VALUE_COLUMNS,
                (f"{ids.units[u]}\t{p}\t{v}\t{a}\t{r}\n" for u, p, v, a, r in scores.unit_value),
            )
            phases.done("scores")
            for _, sql in indexes:
                cur.execute(sql)
            phases.done("indexes")
        raw.commit()
    finally:
        raw.close()
    # Planner statistics, as autovacuum would have gathered them by now.
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def naive_stats(
    *, session: Session, start: datetime | None, end: datetime | None
) -> list[UnitStats]:
    """The board straight from the answers: what `unit_stats` would cost without the
    maintained scores. Same result by construction (no reflections or bonuses here)."""
    units = {u.id: u for u in session.exec(select(Unit)).all()}
    sizes = dict(
        session.exec(
            select(Member.unit_id, func.count())
            .where(col(Member.deleted_at).is_(None), col(Member.unit_id).is_not(None))
            .group_by(Member.unit_id)
        ).all()
    )
    rounds = [col(QuizAnswer.practice).is_(False)]
    if start is not None and end is not None:
        rounds += [col(QuizAnswer.answered_at) >= start, col(QuizAnswer.answered_at) < end]
    right = func.sum(case((col(QuizAnswer.correct), 1), else_=0))
    totals = {
        row[0]: row[1:]
        for row in session.exec(
            select(
                Member.unit_id,
                func.count(distinct(QuizAnswer.member_id)),
                func.sum(QuizAnswer.points),
                func.count(),
                right,
            )
            .join(Member, col(Member.id) == QuizAnswer.member_id)
            .where(*rounds)
            .group_by(Member.unit_id)
        ).all()
    }
    values: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for unit_id, value, answered, correct in session.exec(
        select(Member.unit_id, QuizAnswer.value, func.count(), right)
        .join(Member, col(Member.id) == QuizAnswer.member_id)
        .where(*rounds)
        .group_by(Member.unit_id, QuizAnswer.value)
    ).all():
        values[unit_id][value] = (int(answered), int(correct))
    stats = []
    for unit_id, size in sizes.items():
        unit = units[unit_id]
        opd = units[unit.parent_id] if unit.parent_id else unit
        participants, points, answered, correct = totals.get(unit_id, (0, 0, 0, 0))
        stats.append(
            UnitStats(
                unit_id=unit_id,
                name=unit.name,
                opd_id=opd.id or unit_id,
                opd_name=opd.name,
                active_members=size,
                participants=min(int(participants), size),
                points=int(points or 0),
                answered=int(answered),
                correct=int(correct or 0),
                values=values.get(unit_id, {}),
            )
        )
    return stats


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    """(first run ms, the next `repeats` runs in ms, the last result)."""
    result = None
    times = []
    for _ in range(repeats + 1):
        started = now()
        result = fn()
        times.append((now() - started) * 1000)
    return times[0], times[1:], result


def local_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(TZ)
    return (
        datetime.combine(first, time(), zone).astimezone(UTC),
        datetime.combine(last, time(), zone).astimezone(UTC),
    )


@dataclass(frozen=True)
class Boards:
    figures: dict[str, Any]
    ranking: Ranking
    ok: bool


def measure(name: str, url: str, today: date) -> Boards:
    db = Database(url)
    figures: dict[str, Any] = {}
    ok = True
    ranking = None
    monday = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    periods = {
        "week": (week_key(today), local_bounds(monday, monday + timedelta(days=7))),
        "month": (month_key(today), local_bounds(month_start, next_month)),
        "all": (ALL, (None, None)),
    }
    for kind, (period, _) in periods.items():
        first, warm, ranking_ = timed(
            lambda p=period: rank(db.run_sync(unit_stats, period=p)), REPEATS
        )
        median, worst = statistics.median(warm), max(warm)
        passed = median <= BOARD_TARGET_MS
        ok &= passed
        figures[f"{name}_{kind}_ms"] = round(median, 1)
        figures[f"{name}_{kind}_max_ms"] = round(worst, 1)
        print(
            f"{name} {kind:5} ({period}): median {median:.1f} ms, max {worst:.1f} ms, "
            f"first {first:.1f} ms, {len(ranking_.units)} entries, "
            f"{len(ranking_.opds)} OPDs -> {'PASS' if passed else 'FAIL'} "
            f"(target {BOARD_TARGET_MS:.0f} ms)",
            flush=True,
        )
        if kind == "week":
            ranking = ranking_
    # Once per kind of scan: a week is a range over the answers, all time all of them.
    for kind in ("week", "all"):
        period, (start, end) = periods[kind]
        maintained = db.run_sync(unit_stats, period=period)
        started = now()
        naive = db.run_sync(naive_stats, start=start, end=end)
        naive_board = rank(naive)
        elapsed = (now() - started) * 1000
        same = sorted(naive, key=lambda s: s.unit_id) == sorted(
            maintained, key=lambda s: s.unit_id
        ) and naive_board == rank(maintained)
        ok &= same
        figures[f"{name}_naive_{kind}_ms"] = round(elapsed, 1)
        figures[f"{name}_consistent_{kind}"] = same
        print(
            f"{name} naive {kind} straight from quiz_answer: {elapsed:.0f} ms; "
            f"equals the maintained board: {'yes' if same else 'NO'}",
            flush=True,
        )
    db.close()
    assert ranking is not None
    return Boards(figures, ranking, ok)


def charts(ranking: Ranking) -> tuple[dict[str, Any], bool]:
    """The Friday unit post (every entry, one highlighted below the top) and a score card's
    accuracy per value; the first render pays for importing matplotlib and is shown apart."""
    mine = ranking.units[len(ranking.units) * 2 // 3].key if ranking.units else None
    bars = [Bar(s.name, s.score, s.key == mine) for s in ranking.units]
    values = [Bar(v.name, 40.0 + 8.0 * i, False) for i, v in enumerate(shipped_content().values)]
    title, subtitle = "Peringkat Unit Kerja", "23-11-2026 – 27-11-2026"
    cold, ranking_ms, png = timed(lambda: ranking_png(title, subtitle, bars), REPEATS)
    _, values_ms, _ = timed(
        lambda: values_png("Akurasi per Nilai", "Anggota Bench", values), REPEATS
    )
    figures = {
        "chart_ranking_ms": round(statistics.median(ranking_ms), 1),
        "chart_ranking_max_ms": round(max(ranking_ms), 1),
        "chart_values_ms": round(statistics.median(values_ms), 1),
        "chart_values_max_ms": round(max(values_ms), 1),
        "chart_first_ms": round(cold, 1),
    }
    ok = True
    for label, key, count in (
        ("ranking_png", "chart_ranking", len(bars)),
        ("values_png", "chart_values", len(values)),
    ):
        passed = figures[f"{key}_ms"] <= CHART_TARGET_MS
        ok &= passed
        print(
            f"{label} ({count} bars): median {figures[f'{key}_ms']:.0f} ms, "
            f"max {figures[f'{key}_max_ms']:.0f} ms -> {'PASS' if passed else 'FAIL'} "
            f"(target {CHART_TARGET_MS:.0f} ms)"
        )
    print(f"first render (imports matplotlib): {cold:.0f} ms; PNG {len(png) // 1024} KB")
    return figures, ok


def run(units: int, members: int, answers: int) -> dict[str, Any]:
    began = now()
    today = datetime.now(ZoneInfo(TZ)).date()
    figures: dict[str, Any] = {
        "bench": "leaderboard",
        "units": units,
        "members": members,
        "answers": answers,
    }
    started = now()
    data = generate(units, members, answers, today)
    scores = aggregates(data)
    figures["generate_s"] = round(now() - started, 1)
    figures["score_rows"] = len(scores.score)
    figures["unit_value_rows"] = len(scores.unit_value)
    sizes = np.bincount(data.member_unit, minlength=units)
    print(
        f"generated {units} units ({sum(p is None for p in data.unit_parent)} OPDs; members "
        f"per unit {sizes.min()}-{sizes.max()}, median {np.median(sizes):.0f}, "
        f"{int((sizes < 5).sum())} units under 5), {members} members "
        f"({np.unique(data.member).size} ever answered), {answers} answers over {WEEKS} "
        f"weeks; {len(scores.score)} score rows, {len(scores.unit_value)} unit_value_score "
        f"rows in {figures['generate_s']} s",
        flush=True,
    )
    ok = True
    ranking = None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        targets = [("sqlite", f"sqlite:///{path}")]
        if postgres_available():
            targets.append(("postgresql", PG_URL))
        else:
            print("PostgreSQL not reachable: skipped")
        for name, url in targets:
            started = now()
            db = fresh_database(url)
            ids = load_small(db, data)
            if name == "sqlite":
                db.close()
                load_sqlite(path, data, ids, scores)
            else:
                load_postgresql(db, data, ids, scores)
                db.close()
            figures[f"load_s_{name}"] = round(now() - started, 1)
            print(f"{name}: loaded in {figures[f'load_s_{name}']} s", flush=True)
            boards = measure(name, url, today)
            figures.update(boards.figures)
            ok &= boards.ok
            ranking = ranking or boards.ranking
    assert ranking is not None
    chart_figures, charts_ok = charts(ranking)
    figures.update(chart_figures)
    ok &= charts_ok
    figures["targets_met"] = ok
    figures["total_s"] = round(now() - began, 1)
    print(f"all targets met: {'yes' if ok else 'NO'}; total {figures['total_s']} s")
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.leaderboard")
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--answers", type=int, default=5_000_000)
    args = parser.parse_args(argv)
    emit(run(args.units, args.members, args.answers))


if __name__ == "__main__":
    main()
