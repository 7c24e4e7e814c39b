"""Fixtures: a real database per test (SQLite, or PostgreSQL with TEST_DATABASE_URL) and
our real bot wired to the Bot API sandbox over HTTP."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.config import Settings
from bot.members.roster import parse_roster
from db.engine import Database
from db.migrate import upgrade
from db.queries.units import RosterRow, import_roster

pytest_plugins = ["sandbox.pytest_plugin"]

ROOT = Path(__file__).resolve().parent.parent
KEDIRI = ROOT / "content" / "units" / "kota_kediri.yaml"


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (`test_gw0`, ...):
    tests truncate, migrate and even kill the connections of their database, which must not
    reach another worker's tests."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = os.environ.get("TEST_DATABASE_URL")
    if not worker or not base:
        return
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base.replace("postgresql+psycopg://", "postgresql://"))
    name = f"{url.database}_{worker}"
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["TEST_DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url or None


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run the migrations once per session; each test starts from a copy or a truncation."""
    pg = _postgres_url()
    if pg:
        db = Database(pg)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.close()
        upgrade(pg)
        return pg
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> str:
    if migrated_template.startswith("postgresql"):
        db = Database(migrated_template)
        with db.engine.begin() as conn:
            tables = conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ).scalars()
            names = ", ".join(f'"{t}"' for t in tables)
            if names:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            # Other instansi's schemas (db/tenancy.py) a test made.
            for schema in (
                conn.execute(
                    text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'instansi\\_%'")
                )
                .scalars()
                .all()
            ):
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        db.close()
        return migrated_template
    path = tmp_path / "test.sqlite3"
    shutil.copy(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.close()


@pytest.fixture
def kediri(db: Database) -> Database:
    """The database with the shipped Kota Kediri roster loaded."""
    rows = [RosterRow(r.code, r.name, r.parent, r.timezone) for r in parse_roster(KEDIRI)]
    db.run_sync(import_roster, rows=rows)
    return db


@pytest.fixture
def settings(sandbox, bot_token: str, database_url: str, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        telegram_bot_token=bot_token,
        bot_api_base_url=sandbox.api_base_url,
        bot_api_file_url=sandbox.file_base_url,
        database_url=database_url,
        vote_journal=tmp_path / "votes.jsonl",
        superadmin_ids=[],
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def bot(sandbox, settings: Settings, kediri: Database) -> AsyncIterator[object]:  # type: ignore[no-untyped-def]
    """Our application, polling the sandbox with its real HTTP request class."""
    from tests.utils import running_bot

    async with running_bot(settings, kediri) as app:
        yield app
        # Let the bot answer the last button press before it stops listening.
        await sandbox.settle_callbacks()
