"""Where each instansi's data lives: a PostgreSQL schema of its own, or a SQLite file of its own.

The default instansi (the one `.env` describes) keeps the database it always had; every other
instansi gets the same tables in `instansi_<code>` (PostgreSQL, through the connection's
search_path) or in `<name>.<code>.sqlite3` beside the default file. A connection made for
one instansi sees no other instansi's tables, so no query can read another's rows, whatever
it forgets to filter.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

SCHEMA_PREFIX = "instansi_"
_SEARCH_PATH = "-csearch_path="


def tenant_url(base_url: str, code: str) -> str:
    """The database URL of instansi `code`, given the default instansi's."""
    url = make_url(base_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        return str(url.set(database=str(path.with_name(f"{path.stem}.{code}{path.suffix}"))))
    return _render(url.update_query_dict({"options": f"{_SEARCH_PATH}{SCHEMA_PREFIX}{code}"}))


def schema_of(database_url: str) -> str | None:
    """The PostgreSQL schema a tenant URL is confined to; None for the default or SQLite."""
    options = make_url(database_url).query.get("options")
    if isinstance(options, str) and options.startswith(_SEARCH_PATH):
        return options.removeprefix(_SEARCH_PATH)
    return None


def ensure_schema(database_url: str) -> None:
    """Create the tenant's schema if it is missing (before its migrations run)."""
    schema = schema_of(database_url)
    if schema is None:
        return
    base = make_url(database_url).difference_update_query(["options"])
    engine = create_engine(base, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    except sa_exc.IntegrityError:
        pass  # IF NOT EXISTS is no guard against another process creating it at this moment
    finally:
        engine.dispose()


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)
