"""Maintained scores: every answer or reflection adds to its member's week, month and
all-time rows (and the unit's accuracy per value) in the transaction that records it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert, Update
from sqlmodel import Session, col, select

from db.models import MemberDay, Score, UnitValueScore

ALL = "all"


def week_key(day: date) -> str:
    return f"W{(day - timedelta(days=day.weekday())).isoformat()}"


def month_key(day: date) -> str:
    return f"M{day:%Y-%m}"


def periods(day: date) -> tuple[str, str, str]:
    return week_key(day), month_key(day), ALL


# --- bulk writes ----------------------------------------------------------------------------
# A batch of quiz answers writes hundreds of rows per table. SQLite's executemany is a loop
# in C; psycopg's runs a statement per row (a parse, bind and execute each in the server),
# so on PostgreSQL each column travels as one array and a single statement unnests them.

_PG = postgresql.dialect()


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@cache
def _unnest(table: Table, columns: tuple[str, ...]) -> str:
    """`unnest(CAST(%(a)s AS INTEGER[]), …) AS v(a, …)`: one row per array position."""
    quote = _PG.identifier_preparer.quote
    arrays = ", ".join(
        f"CAST(%({c})s AS {table.c[c].type.compile(dialect=_PG)}[])" for c in columns
    )
    return f"unnest({arrays}) AS v({', '.join(quote(c) for c in columns)})"


def _arrays(rows: Sequence[dict[str, Any]], columns: tuple[str, ...]) -> dict[str, list[Any]]:
    return {c: [row[c] for row in rows] for c in columns}


@cache
def _pg_insert(
    table: Table, columns: tuple[str, ...], keys: tuple[str, ...], add: tuple[str, ...]
) -> str:
    quote = _PG.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    sql = f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM {_unnest(table, columns)}"
    if keys:
        changes = [
            f"{quote(c)} = {quote(table.name)}.{quote(c)} + EXCLUDED.{quote(c)}" for c in add
        ]
        if "unit_id" in table.c and "unit_id" not in keys:
            changes.append('"unit_id" = EXCLUDED."unit_id"')
        sql += (
            f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {', '.join(changes)}"
        )
    return sql


@cache
def _pg_update(table: Table, columns: tuple[str, ...], keys: tuple[str, ...]) -> str:
    quote = _PG.identifier_preparer.quote
    name = quote(table.name)
    sets = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns if c not in keys)
    match = " AND ".join(f"{name}.{quote(k)} = v.{quote(k)}" for k in keys)
    return f"UPDATE {name} SET {sets} FROM {_unnest(table, columns)} WHERE {match}"


@cache
def _sqlite_update(table: Table, columns: tuple[str, ...], keys: tuple[str, ...]) -> Update:
    # Parameters named apart from the columns: an UPDATE reserves the columns' own names.
    return (
        update(table)
        .where(*(table.c[k] == bindparam(f"key_{k}") for k in keys))
        .values({c: bindparam(f"new_{c}") for c in columns if c not in keys})
    )


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT rows that all have the same keys."""
    if not rows:
        return
    if _postgres(session):
        columns = tuple(rows[0])
        sql = _pg_insert(table, columns, (), ())
        session.connection().exec_driver_sql(sql, _arrays(rows, columns))
    else:
        session.connection().execute(insert(table), list(rows))


def bulk_update(
    session: Session, table: Table, keys: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> None:
    """UPDATE one row per dict, found by `keys`, to the dict's other values (the rows
    all have the same keys, and no two the same key values)."""
    if not rows:
        return
    columns = tuple(rows[0])
    if _postgres(session):
        sql = _pg_update(table, columns, keys)
        session.connection().exec_driver_sql(sql, _arrays(rows, columns))
    else:
        session.connection().execute(
            _sqlite_update(table, columns, keys),
            [
                {(f"key_{c}" if c in keys else f"new_{c}"): v for c, v in row.items()}
                for row in rows
            ],
        )


@cache
def _sqlite_upsert(table: Table, keys: tuple[str, ...], add: tuple[str, ...]) -> Insert:
    """Built once per shape: building `excluded` anew costs more than running the upsert."""
    stmt = sqlite.insert(table)
    changes = {c: table.c[c] + stmt.excluded[c] for c in add}
    if "unit_id" in table.c and "unit_id" not in keys:
        changes["unit_id"] = stmt.excluded.unit_id
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=changes)


def _upsert(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str], add: list[str]
) -> None:
    """INSERT … ON CONFLICT DO UPDATE adding to counters (SQLite and PostgreSQL alike).
    No two rows may have the same key (PostgreSQL refuses to update a row twice)."""
    if not rows:
        return
    if _postgres(session):
        columns = tuple(rows[0])
        sql = _pg_insert(table, columns, tuple(keys), tuple(add))
        session.connection().exec_driver_sql(sql, _arrays(rows, columns))
        return
    session.connection().execute(_sqlite_upsert(table, tuple(keys), tuple(add)), list(rows))


COUNTERS = ("points", "answered", "correct", "reflections", "practice_points")


@dataclass(frozen=True)
class ScoreChange:
    """What one answer or reflection adds to its member's scores (see `add_score`)."""

    member_id: int
    unit_id: int | None
    day: date
    points: int = 0
    answered: int = 0
    correct: int = 0
    reflections: int = 0
    practice_points: int = 0
    value: str | None = None


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
    add_scores(
        session=session,
        changes=[
            ScoreChange(
                member_id=member_id,
                unit_id=unit_id,
                day=day,
                points=points,
                answered=answered,
                correct=correct,
                reflections=reflections,
                practice_points=practice_points,
                value=value,
            )
        ],
    )


def add_scores(*, session: Session, changes: Iterable[ScoreChange]) -> None:
    """Many `add_score`s in two statements. Changes to the same row are summed first: one
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
    _upsert(
        session,
        Score.__table__,  # type: ignore[arg-type]
        list(members.values()),
        ["member_id", "period"],
        list(COUNTERS),
    )
    _upsert(
        session,
        UnitValueScore.__table__,  # type: ignore[arg-type]
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
        select(MemberDay.day, MemberDay.kind).where(
            MemberDay.member_id == member_id, col(MemberDay.day) >= since
        )
    ).all()
    return {d for d, k in rows if k == "active"}, {d for d, k in rows if k != "active"}
