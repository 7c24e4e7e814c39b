"""Which quiz questions a member gets in a round, and the Leitner boxes that bring misses back.

Pure functions over plain data: the caller loads the active questions (`Candidate`) and the
member's history (`Seen`, one row per question ever sent) and stores what comes back.

The rules, strongest first:

1. **No repeats until the pool is seen.** A *cycle* is one pass through all active
   questions; a question is *fresh* if it was not sent in the current cycle
   (`current_cycle`). Picks come from fresh questions. When fewer fresh ones remain than the
   round needs, they are all taken and the rest of the round opens the next cycle,
   preferring questions not sent in the last 14 days. `round_cycles` gives the cycle to
   store for each pick (the leftovers close the old cycle, the rest open the new one).
   History of questions that are no longer active is ignored, except by rule 3.
2. **Missed questions come back (Leitner).** `next_box`: a correct answer moves the question
   up a box (at most 5), a wrong one puts it in box 1; it is due again 3, 7, 14, 30 or 60
   days later for boxes 1 to 5. A box-1 question (last answer wrong) is held back until it
   is due, then may be chosen even though it is not fresh: at most one such review per
   round, and only in rounds of two or more, so most of a round is new. A review that goes
   unanswered waits for its turn in the cycle. Correct answers are not reviewed early; they
   come round in the next cycle, lowest box first.
3. **All seven values within a fortnight.** Values are taken least recently sent first, so
   those not sent in the last 14 days come before those that were; a round repeats a value
   only when the questions it may still use leave no other choice.
4. **Difficulty follows accuracy.** `target_difficulty`: fewer than 5 answers or accuracy
   below 0.5 gives 1, below 0.8 gives 2, otherwise 3. Within a value the question closest to
   the target wins, then the lowest box, then the least recently sent.
5. **Deterministic.** Remaining ties are broken by `random.Random(seed)`; the inputs are
   sorted by id first, so the same data and seed give the same ids in any input order.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

MAX_BOX = 5
# Days until a question comes back, by the box it has just moved into.
INTERVAL_DAYS = {1: 3, 2: 7, 3: 14, 4: 30, 5: 60}
FORTNIGHT = timedelta(days=14)
MIN_ANSWERS_FOR_LEVEL = 5


@dataclass(frozen=True)
class Candidate:
    """An active question in the bank."""

    id: str  # e.g. "BP-014"
    value: str  # one of BP AK KO HA LO AD KL
    difficulty: int  # 1 (easy) .. 3 (hard)


@dataclass(frozen=True)
class Seen:
    """One question this member was sent (in practice or in a round)."""

    question_id: str
    value: str
    last_sent: date  # the member's local date
    box: int  # 0: sent but never answered; 1..5 once answered
    due: date | None  # set by next_box; None until answered
    cycle: int  # the pass through the pool it was last sent in, from 0


def target_difficulty(accuracy: float | None, answered: int) -> int:
    """The difficulty (1..3) to aim for, given the share of correct answers so far."""
    # A handful of answers says little about the member, so they start easy.
    if accuracy is None or answered < MIN_ANSWERS_FOR_LEVEL or accuracy < 0.5:
        return 1
    return 2 if accuracy < 0.8 else 3


def next_box(box: int, correct: bool, today: date) -> tuple[int, date]:
    """The question's box after an answer and the date it may come back.

    A never-answered question (box 0) counts as being in box 1, so a first correct answer
    moves it to box 2: box 1 then always means "the last answer was wrong", which is what
    makes a question due for review.
    """
    if not 0 <= box <= MAX_BOX:
        raise ValueError(f"box must be 0..{MAX_BOX}, not {box}")
    new = min(max(box, 1) + 1, MAX_BOX) if correct else 1
    return new, today + timedelta(days=INTERVAL_DAYS[new])


def current_cycle(candidates: Sequence[Candidate], seen: Sequence[Seen]) -> int:
    """The cycle the next pick belongs to: the latest one, or the one after it once every
    active question has been sent in it."""
    ids = {c.id for c in candidates}
    return _cycle(ids, {(s.question_id, s.cycle) for s in seen if s.question_id in ids})


def round_cycles(
    candidates: Sequence[Candidate], seen: Sequence[Seen], chosen: Sequence[str]
) -> dict[str, int]:
    """The cycle to store with each chosen question, as if they were recorded one by one.

    Stamping a whole round with `current_cycle` would file the repeats of a round that
    finishes a cycle under the old cycle, and they would come back again in the new one.
    """
    ids = {c.id for c in candidates}
    sends = {(s.question_id, s.cycle) for s in seen if s.question_id in ids}
    start = _cycle(ids, sends)
    picks = [q for q in dict.fromkeys(chosen) if q in ids]
    # The questions still owed to the current cycle go first, whatever the order of the
    # round, so that they close it and only the repeats open the next one.
    picks.sort(key=lambda q: (q, start) in sends)
    stamps: dict[str, int] = {}
    for question_id in picks:
        stamps[question_id] = _cycle(ids, sends)
        sends.add((question_id, stamps[question_id]))
    return stamps


def choose(
    candidates: Sequence[Candidate],
    seen: Sequence[Seen],
    *,
    today: date,
    count: int,
    seed: str,
    accuracy: float | None = None,
    answered: int = 0,
) -> list[str]:
    """The ids of the questions for this member's round: at most `count`, fewer only when
    the bank is smaller, never the same one twice. See the module docstring for the rules."""
    pool = _pool(candidates)
    slots = min(count, len(pool))
    if slots <= 0:
        return []
    ids = {c.id for c in pool}
    history = sorted(seen, key=_history_order)

    rng = random.Random(seed)
    # Drawn up front in id order, so the result depends neither on the input order nor on
    # how many comparisons the picks below happen to make.
    question_tiebreak = {c.id: rng.random() for c in pool}
    value_tiebreak = {v: rng.random() for v in sorted({c.value for c in pool})}

    latest: dict[str, Seen] = {}
    value_last: dict[str, date] = {}
    for row in history:
        if row.question_id in ids:
            latest[row.question_id] = row  # a question's rows are in sending order
        # Retired questions count here: the member did see that value on that day.
        value_last[row.value] = max(row.last_sent, value_last.get(row.value, date.min))

    cycle = current_cycle(pool, history)
    sent_this_cycle = {r.question_id for r in history if r.question_id in ids and r.cycle >= cycle}
    target = target_difficulty(accuracy, answered)
    fortnight_ago = today - FORTNIGHT
    chosen: list[Candidate] = []

    def held(c: Candidate) -> bool:
        row = latest.get(c.id)
        return row is not None and row.box == 1 and row.due is not None and row.due > today

    def value_rank(value: str) -> tuple[int, date, float]:
        in_round = sum(c.value == value for c in chosen)
        return in_round, value_last.get(value, date.min), value_tiebreak[value]

    def question_rank(c: Candidate) -> tuple[bool, int, int, date, float]:
        row = latest.get(c.id)
        if row is None:
            return False, abs(c.difficulty - target), 0, date.min, question_tiebreak[c.id]
        # Only matters once a cycle has turned over: do not show again what was just shown.
        recent = row.last_sent > fortnight_ago
        gap = abs(c.difficulty - target)
        return recent, gap, row.box, row.last_sent, question_tiebreak[c.id]

    def take(eligible: list[Candidate]) -> None:
        # Value first, then the question within it, so that rule 3 outranks rule 4.
        remaining = [c for c in eligible if c not in chosen]
        while len(chosen) < slots and remaining:
            value = min({c.value for c in remaining}, key=value_rank)
            best = min((c for c in remaining if c.value == value), key=question_rank)
            chosen.append(best)
            remaining.remove(best)

    reviews = {c.id: due for c in pool if (due := _review_due(latest.get(c.id), today)) is not None}
    if slots >= 2 and reviews:
        chosen.append(
            min(
                (c for c in pool if c.id in reviews),
                key=lambda c: (reviews[c.id], value_rank(c.value), question_rank(c)),
            )
        )
    take([c for c in pool if c.id not in sent_this_cycle and not held(c)])
    # Still short: the cycle is over and the rest of the round opens the next one.
    take([c for c in pool if not held(c)])
    # Only questions waiting for their review date are left; a short round would be worse.
    take(pool)
    return [c.id for c in chosen]


def _pool(candidates: Sequence[Candidate]) -> list[Candidate]:
    unique: dict[str, Candidate] = {}
    for c in sorted(candidates, key=lambda c: (c.id, c.value, c.difficulty)):
        unique.setdefault(c.id, c)
    return list(unique.values())


def _history_order(row: Seen) -> tuple[str, date, int, int, date]:
    return row.question_id, row.last_sent, row.cycle, row.box, row.due or date.min


def _cycle(ids: set[str], sends: set[tuple[str, int]]) -> int:
    if not sends:
        return 0
    last = max(cycle for _, cycle in sends)
    done = {question_id for question_id, cycle in sends if cycle == last}
    return last + 1 if done >= ids else last


def _review_due(row: Seen | None, today: date) -> date | None:
    """The due date of a missed question that may be reviewed today, else None."""
    if row is None or row.box != 1 or row.due is None or row.due > today:
        return None
    # Sent again on or after the due date and not answered yet: the review already went
    # out, and repeating it every round would crowd out new questions.
    return row.due if row.last_sent < row.due else None
