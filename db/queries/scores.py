"""Maintained scores: every answer or reflection adds to its member's week, month and
all-time rows (and the unit's accuracy per value) in the transaction that records it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from db.models import MemberDay, Score, UnitValueScore

ALL = "all"


def week_key(day: date) -> str:
    return f"W{(day - timedelta(days=day.weekday())).isoformat()}"


def month_key(day: date) -> str:
    return f"M{day:%Y-%m}"


def periods(day: date) -> tuple[str, str, str]:
    return week_key(day), month_key(day), ALL


def _upsert(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str], add: list[str]
) -> None:
    """INSERT … ON CONFLICT DO UPDATE adding to counters (SQLite and PostgreSQL alike)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    changes = {c: table.c[c] + stmt.excluded[c] for c in add}
    if "unit_id" in table.c and "unit_id" not in keys:
        changes["unit_id"] = stmt.excluded.unit_id
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changes), list(rows))


def add_score(
    *,
    session: Session,
    member_id: int,
    unit_id: int | None,
    day: date,
    points: int = 0,
    answered: int = 0,
    correct: int = 0,
    reflections: int = 0,
    practice_points: int = 0,
    value: str | None = None,
) -> None:
    """Add to the member's three periods; a round answer also adds to its unit's value."""
    keys = periods(day)
    counters = {
        "points": points,
        "answered": answered,
        "correct": correct,
        "reflections": reflections,
        "practice_points": practice_points,
    }
    _upsert(
        session,
        Score.__table__,  # type: ignore[arg-type]
        [{"member_id": member_id, "period": p, "unit_id": unit_id, **counters} for p in keys],
        ["member_id", "period"],
        list(counters),
    )
    if value and unit_id is not None and answered:
        _upsert(
            session,
            UnitValueScore.__table__,  # type: ignore[arg-type]
            [
                {
                    "unit_id": unit_id,
                    "period": p,
                    "value": value,
                    "answered": answered,
                    "correct": correct,
                }
                for p in keys
            ],
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
        select(MemberDay.day, MemberDay.kind).where(
            MemberDay.member_id == member_id, col(MemberDay.day) >= since
        )
    ).all()
    return {d for d, k in rows if k == "active"}, {d for d, k in rows if k != "active"}


def member_score(*, session: Session, member_id: int, period: str) -> Score | None:
    return session.get(Score, (member_id, period))
