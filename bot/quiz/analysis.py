"""Item analysis: how each question behaves with real members, and which to set aside
until HR has looked at it.

For every question with enough round answers: the difficulty index (share correct), the
discrimination (share correct among the strongest 27 % of members by overall accuracy
minus among the weakest 27 %), how often each option was chosen, and flags: everyone gets
it right, almost nobody does, or a wrong option outdraws the key among the strongest.
Flagged questions are left out of rounds and practice until HR marks them reviewed."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook

from bot.core.deps import Deps
from bot.reports.xlsx import INTEGER, PERCENT, add_sheet
from db.queries import analysis as queries
from db.queries.analysis import ItemCounts
from db.queries.content import active_questions

GROUP_SHARE = 0.27
MIN_MEMBER_ANSWERS = 5  # a member's accuracy needs this many answers to rank them
MIN_ITEM_ANSWERS = 30  # a question needs this many before it is judged
EASY = 0.95  # at or above: everyone gets it right
HARD = 0.2  # at or below: almost nobody does (below chance on four options)


@dataclass(frozen=True)
class ItemStats:
    question_id: str
    value: str
    answers: int
    difficulty: float  # share correct
    discrimination: float | None  # upper minus lower share correct
    options: tuple[int, ...]  # how often each option was chosen
    correct: int  # the key's index
    flags: tuple[str, ...]  # "easy" | "hard" | "distractor"


def _share(counts: dict[int, int], key: int) -> float | None:
    total = sum(counts.values())
    return counts.get(key, 0) / total if total else None


def judge(question_id: str, value: str, key: int, n_options: int, counts: ItemCounts) -> ItemStats:
    answers = sum(counts.options.values())
    difficulty = counts.options.get(key, 0) / answers if answers else 0.0
    upper, lower = _share(counts.upper, key), _share(counts.lower, key)
    discrimination = upper - lower if upper is not None and lower is not None else None
    flags: list[str] = []
    if answers >= MIN_ITEM_ANSWERS:
        if difficulty >= EASY:
            flags.append("easy")
        if difficulty <= HARD:
            flags.append("hard")
        strong_key = counts.upper.get(key, 0)
        if any(n > strong_key for o, n in counts.upper.items() if o != key):
            flags.append("distractor")
    return ItemStats(
        question_id=question_id,
        value=value,
        answers=answers,
        difficulty=difficulty,
        discrimination=discrimination,
        options=tuple(counts.options.get(i, 0) for i in range(n_options)),
        correct=key,
        flags=tuple(flags),
    )


async def analyse(deps: Deps) -> list[ItemStats]:
    """Every active question's statistics from all round answers so far."""
    accuracy = await deps.db.run(queries.member_accuracy, minimum=MIN_MEMBER_ANSWERS)
    ranked = [m for m, _ in sorted(accuracy, key=lambda t: (t[1], t[0]))]
    size = int(len(ranked) * GROUP_SHARE)
    lower, upper = ranked[:size], ranked[len(ranked) - size :] if size else []
    counts = await deps.db.run(queries.item_counts, upper=upper, lower=lower)
    bank = await deps.db.run(active_questions)
    return [
        judge(q.id, q.value, q.correct, len(q.options), counts.get(q.id, ItemCounts()))
        for q in bank
    ]


async def retire_flagged(deps: Deps, stats: list[ItemStats]) -> list[str]:
    """Set newly flagged questions aside; the ids set aside now (old ones stay aside)."""
    aside = await deps.db.run(queries.retired)
    new = [s.question_id for s in stats if s.flags and s.question_id not in aside]
    if new:
        now = deps.clock.now()
        aside.update({q: now.isoformat() for q in new})
        await deps.db.run(queries.set_retired, items=aside, now=now)
    return new


async def mark_reviewed(deps: Deps) -> int:
    """HR has looked at every question set aside: they come back into rounds."""
    aside = await deps.db.run(queries.retired)
    await deps.db.run(queries.set_retired, items={}, now=deps.clock.now())
    return len(aside)


async def analysis_xlsx(stats: list[ItemStats], header: list[str], now: datetime) -> bytes:
    return await asyncio.to_thread(_render, stats, header, now)


def _render(stats: list[ItemStats], header: list[str], _now: datetime) -> bytes:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    letters = "ABCDEFGH"
    rows = [
        [
            s.question_id,
            s.value,
            s.answers,
            s.difficulty if s.answers else None,
            s.discrimination,
            letters[s.correct],
            " · ".join(f"{letters[i]} {n}" for i, n in enumerate(s.options)),
            ", ".join(s.flags),
        ]
        for s in sorted(stats, key=lambda s: (not s.flags, s.question_id))
    ]
    formats = [None, None, INTEGER, PERCENT, "0.00", None, None, None]
    add_sheet(book, header[0], header[1:], rows, formats, [10, 7, 10, 12, 14, 8, 34, 24])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
