"""Maintained scores: every answer or reflection adds to its member's week, month and
all-time rows (and the unit's accuracy per value)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from db import bulk
from db.models import MemberDay, Score, UnitValueScore, table_of

ALL = "all"


def week_key(day: date) -> str:
    return f"W{(day - timedelta(days=day.weekday())).isoformat()}"


def month_key(day: date) -> str:
    return f"M{day:%Y-%m}"


def periods(day: date) -> tuple[str, str, str]:
    return week_key(day), month_key(day), ALL


COUNTERS = ("points", "answered", "correct", "reflections", "practice_points")


@dataclass(frozen=True)
class ScoreChange:
    """What one answer or reflection adds to its member's three periods; a round answer also
    adds to its unit's accuracy for the value."""

    member_id: int
    unit_id: int | None
    day: date
    points: int = 0
    answered: int = 0
    correct: int = 0
    reflections: int = 0
    practice_points: int = 0
    value: str | None = None


def add_scores(*, session: Session, changes: Iterable[ScoreChange]) -> None:
    """Add the changes in two statements. Changes to the same row are summed first: one
    statement must not touch a row twice (PostgreSQL refuses), and the sums are the same."""
    members: dict[tuple[int, str], dict[str, Any]] = {}
    units: dict[tuple[int, str, str], dict[str, Any]] = {}
    for change in changes:
        for period in periods(change.day):
            row = members.get((change.member_id, period))
            if row is None:
                row = members[(change.member_id, period)] = {
                    "member_id": change.member_id,
                    "period": period,
                    "unit_id": change.unit_id,
                    **dict.fromkeys(COUNTERS, 0),
                }
            # The last change's unit wins, as it would one statement after another.
            row["unit_id"] = change.unit_id
            for counter in COUNTERS:
                row[counter] += getattr(change, counter)
            if change.value and change.unit_id is not None and change.answered:
                key = (change.unit_id, period, change.value)
                unit = units.setdefault(
                    key,
                    {
                        "unit_id": change.unit_id,
                        "period": period,
                        "value": change.value,
                        "answered": 0,
                        "correct": 0,
                    },
                )
                unit["answered"] += change.answered
                unit["correct"] += change.correct
    bulk.upsert_adding(
        session,
        table_of(Score),
        list(members.values()),
        ["member_id", "period"],
        list(COUNTERS),
    )
    bulk.upsert_adding(
        session,
        table_of(UnitValueScore),
        list(units.values()),
        ["unit_id", "period", "value"],
        ["answered", "correct"],
    )


def mark_day(*, session: Session, member_id: int, day: date, kind: str = "active") -> bool:
    """Record the member's day; True when it is new (the first activity of that day)."""
    existing = session.get(MemberDay, (member_id, day))
    if existing is not None:
        if existing.kind != kind and kind == "active":
            existing.kind = kind  # took part on a day they had shielded: it counts as active
            session.add(existing)
            return True
        return False
    session.add(MemberDay(member_id=member_id, day=day, kind=kind))
    session.flush()
    return True


def member_days(*, session: Session, member_id: int, since: date) -> tuple[set[date], set[date]]:
    """(active days, shield days) from `since` on."""
    rows = session.exec(
        select(col(MemberDay.day), MemberDay.kind).where(
            MemberDay.member_id == member_id, col(MemberDay.day) >= since
        )
    ).all()
    return {d for d, k in rows if k == "active"}, {d for d, k in rows if k != "active"}
