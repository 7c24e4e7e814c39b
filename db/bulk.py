"""Writing many rows in one statement, on SQLite and PostgreSQL alike.

A batch of quiz answers writes hundreds of rows per table. SQLite's executemany is a loop
in C. psycopg's runs a statement per row (a parse, bind and execute each in the server),
so on PostgreSQL new rows are copied in (COPY, formatted in C), and changes travel as one
array per column that a single statement unnests.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert, Update
from sqlmodel import Session

# SQLAlchemy's dialect constructors carry no annotations.
_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


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
def _pg_upsert(
    table: Table, columns: tuple[str, ...], keys: tuple[str, ...], add: tuple[str, ...]
) -> str:
    quote = _PG.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    changes = [f"{quote(c)} = {quote(table.name)}.{quote(c)} + EXCLUDED.{quote(c)}" for c in add]
    if "unit_id" in table.c and "unit_id" not in keys:
        changes.append('"unit_id" = EXCLUDED."unit_id"')
    return (
        f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM {_unnest(table, columns)}"
        f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {', '.join(changes)}"
    )


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
    if not _postgres(session):
        session.connection().execute(insert(table), list(rows))
        return
    columns = tuple(rows[0])
    quote = _PG.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    # The session's own connection, so the rows are part of its transaction.
    raw: Any = session.connection().connection.dbapi_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row[c] for c in columns])


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


def upsert_adding(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str], add: list[str]
) -> None:
    """INSERT … ON CONFLICT DO UPDATE adding to counters (SQLite and PostgreSQL alike).
    No two rows may have the same key (PostgreSQL refuses to update a row twice)."""
    if not rows:
        return
    if _postgres(session):
        columns = tuple(rows[0])
        sql = _pg_upsert(table, columns, tuple(keys), tuple(add))
        session.connection().exec_driver_sql(sql, _arrays(rows, columns))
        return
    session.connection().execute(_sqlite_upsert(table, tuple(keys), tuple(add)), list(rows))
