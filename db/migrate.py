"""Alembic, configured in code so that the installed package migrates without an alembic.ini."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from db.tenancy import ensure_schema, schema_of

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic keeps the running migration in module globals (`alembic.context`, `alembic.op`):
# two threads migrating two instansi at once would mix them up.
_ONE_AT_A_TIME = threading.Lock()
# pg_advisory_lock's first key: "start-up"; the second is the schema's.
STARTUP_LOCK = 0x42414B48  # "BAKH"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    ensure_schema(url)  # another instansi's, on PostgreSQL (db/tenancy.py)
    with _ONE_AT_A_TIME:
        command.upgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    """Developer helper: autogenerate a migration from the models (`berakhlak db revision`)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


@contextmanager
def exclusive(url: str) -> Iterator[None]:
    """One start-up at a time per PostgreSQL schema: workers started together would both
    migrate, and both insert the question bank, into the same tables. SQLite serves one
    process, and its own locks keep a second writer out."""
    if not url.startswith("postgresql"):
        yield
        return
    crc = zlib.crc32((schema_of(url) or "public").encode())
    key = {"a": STARTUP_LOCK, "b": crc - 2**32 if crc >= 2**31 else crc}
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:a, :b)"), key)
            try:
                ensure_schema(url)
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), key)
    finally:
        engine.dispose()
