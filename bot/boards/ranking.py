"""Fair team ranking: units and OPDs of very different sizes on one board.

The method, per period (a week, a month, or all time):

1. Units with no active members are left out.
2. A unit with fewer than `min_size` active members (default 5) is never ranked alone.
   All such small units of one OPD are pooled into a single entry, "<OPD> (gabungan unit
   kecil)", that adds up their members, participants and points. A pool still below
   `min_size` is ranked, but flagged as small.
3. Each entry gets a fair score by Bayesian shrinkage toward the overall mean, so that
   size does not decide the rank. With P the overall participation (all participants /
   all active members), A the overall points per member (all points / all active
   members) and `prior` (default 10) imagined average members added to every entry:

       participation_adj = (participants + prior * P) / (members + prior)
       average_adj       = (points       + prior * A) / (members + prior)

   The score is average_adj. Points already reward taking part (every round answer earns
   points, right or wrong), so participation needs no weight of its own. A 6-member unit
   is pulled strongly toward the mean and an 80-member unit barely, so a handful of lucky
   answers in a small unit cannot put it above a large unit that is consistently strong,
   nor a bad week sink it to the bottom.
4. Entries are ordered by score, then participation_adj, then name, and ranked 1..n in
   that order (no shared ranks).
5. OPD standings add up all units of each OPD, small ones included, and are scored and
   ranked with the same formula and the same overall means.

Team points count round answers, reflections and streak bonuses; practice (/kuis) is
never part of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from db.queries.leaderboard import UnitStats

# The official order of the seven values: ties between values are broken by it.
VALUE_ORDER: tuple[str, ...] = ("BP", "AK", "KO", "HA", "LO", "AD", "KL")

POOL_SUFFIX = "(gabungan unit kecil)"

# Scores are means of integers; rounding before comparing keeps two entries with the
# same performance tied instead of split by floating-point noise.
_DIGITS = 9


@dataclass(frozen=True)
class Standing:
    # "unit:12", "opd:3", or "pool:3" for the pooled small units of OPD 3.
    key: str
    name: str
    opd_id: int
    opd_name: str
    members: int
    participation: float
    raw_average: float
    score: float
    accuracy: float | None
    rank: int
    pooled: bool
    small: bool


@dataclass(frozen=True)
class Ranking:
    units: list[Standing]
    opds: list[Standing]
    overall_average: float
    overall_participation: float


@dataclass(frozen=True)
class _Entry:
    key: str
    name: str
    opd_id: int
    opd_name: str
    members: int
    participants: int
    points: int
    answered: int
    correct: int
    pooled: bool


def _entry(key: str, name: str, pooled: bool, parts: list[UnitStats]) -> _Entry:
    return _Entry(
        key=key,
        name=name,
        opd_id=parts[0].opd_id,
        opd_name=parts[0].opd_name,
        members=sum(s.active_members for s in parts),
        participants=sum(s.participants for s in parts),
        points=sum(s.points for s in parts),
        answered=sum(s.answered for s in parts),
        correct=sum(s.correct for s in parts),
        pooled=pooled,
    )


def _standings(
    entries: Iterable[_Entry], *, min_size: int, prior: int, mean_p: float, mean_a: float
) -> list[Standing]:
    scored: list[tuple[tuple[float, float, str, str], _Entry, float]] = []
    for e in entries:
        part_adj = (e.participants + prior * mean_p) / (e.members + prior)
        score = (e.points + prior * mean_a) / (e.members + prior)
        order = (-round(score, _DIGITS), -round(part_adj, _DIGITS), e.name, e.key)
        scored.append((order, e, score))
    scored.sort(key=lambda item: item[0])
    return [
        Standing(
            key=e.key,
            name=e.name,
            opd_id=e.opd_id,
            opd_name=e.opd_name,
            members=e.members,
            participation=e.participants / e.members,
            raw_average=e.points / e.members,
            score=score,
            accuracy=e.correct / e.answered if e.answered else None,
            rank=position,
            pooled=e.pooled,
            small=e.members < min_size,
        )
        for position, (_, e, score) in enumerate(scored, start=1)
    ]


def rank(stats: list[UnitStats], *, min_size: int = 5, prior: int = 10) -> Ranking:
    present = [s for s in stats if s.active_members > 0]
    members = sum(s.active_members for s in present)
    mean_p = sum(s.participants for s in present) / members if members else 0.0
    mean_a = sum(s.points for s in present) / members if members else 0.0

    unit_entries: list[_Entry] = []
    small_by_opd: dict[int, list[UnitStats]] = {}
    by_opd: dict[int, list[UnitStats]] = {}
    for s in present:
        by_opd.setdefault(s.opd_id, []).append(s)
        if s.active_members < min_size:
            small_by_opd.setdefault(s.opd_id, []).append(s)
        else:
            unit_entries.append(_entry(f"unit:{s.unit_id}", s.name, False, [s]))
    for opd_id, parts in small_by_opd.items():
        name = f"{parts[0].opd_name} {POOL_SUFFIX}"
        unit_entries.append(_entry(f"pool:{opd_id}", name, True, parts))
    opd_entries = [
        _entry(f"opd:{opd_id}", parts[0].opd_name, False, parts) for opd_id, parts in by_opd.items()
    ]

    def standings(entries: list[_Entry]) -> list[Standing]:
        return _standings(entries, min_size=min_size, prior=prior, mean_p=mean_p, mean_a=mean_a)

    return Ranking(
        units=standings(unit_entries),
        opds=standings(opd_entries),
        overall_average=mean_a,
        overall_participation=mean_p,
    )


def most_improved(
    current: Ranking, previous: Ranking, top: int = 3
) -> list[tuple[Standing, float]]:
    """Units (or pools) present in both rankings whose score rose, biggest gain first."""
    before = {s.key: s.score for s in previous.units}
    gains = [(s, s.score - before[s.key]) for s in current.units if s.key in before]
    rising = [(s, round(gain, _DIGITS)) for s, gain in gains if round(gain, _DIGITS) > 0]
    rising.sort(key=lambda item: (-item[1], item[0].rank))
    return rising[: max(top, 0)]


def _value_position(code: str) -> tuple[int, str]:
    return (VALUE_ORDER.index(code), "") if code in VALUE_ORDER else (len(VALUE_ORDER), code)


def strongest_and_weakest(
    values: dict[str, tuple[int, int]], min_answers: int = 3
) -> tuple[str | None, str | None]:
    """The value codes with the best and the worst accuracy among those answered at least
    `min_answers` times. Weakest is None unless it is strictly below the strongest: with
    one value, or all equal, there is no weak spot to point at."""
    eligible = [
        (code, correct / answered)
        for code, (answered, correct) in values.items()
        if answered >= max(min_answers, 1)
    ]
    if not eligible:
        return None, None
    eligible.sort(key=lambda item: _value_position(item[0]))
    strongest = max(eligible, key=lambda item: item[1])
    weakest = min(eligible, key=lambda item: item[1])
    if weakest[1] >= strongest[1]:
        return strongest[0], None
    return strongest[0], weakest[0]
