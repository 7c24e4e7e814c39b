"""Operations: `berakhlak health`, `berakhlak backup` and `berakhlak restore`, as HR runs them.

Docker is not available where these tests run, so the container's entrypoint commands are
run here directly: in-process through `bot.app.cli.main`, and as subprocesses of the installed
console script for the round trips.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import make_url, text, update
from sqlmodel import select

from bot.app.cli import main
from bot.core.config import Settings
from content.loader import Content, shipped_content
from db.engine import Database
from db.migrate import alembic_config, upgrade
from db.models import Delivery, Unit, utcnow
from db.queries import outbox
from db.queries.content import sync_bank
from db.queries.units import RosterRow, import_roster
from sandbox.pytest_plugin import free_port
from tests.conftest import KEDIRI

SETTING_NAMES = {name.upper() for name in Settings.model_fields}
CHECKS = ["database", "migrations", "content", "bot_api", "outbox"]


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


def console_script() -> str:
    beside = Path(sys.executable).parent / "berakhlak"
    found = str(beside) if beside.exists() else shutil.which("berakhlak")
    assert found, "the berakhlak console script is not installed"
    return found


def clean_environ(**values: str) -> dict[str, str]:
    """This process's environment without any of the bot's settings, plus `values`."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in SETTING_NAMES}
    env.update(values)
    return env


def berakhlak(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script(), *args],
        cwd=cwd,  # no .env from the checkout
        env=clean_environ(**settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., None]:
    """In-process runs of `main`: only the settings a test gives, and no .env file."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.upper() in SETTING_NAMES:
            monkeypatch.delenv(name)

    def set_settings(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_settings


@pytest.fixture
def loaded(db: Database) -> Content:
    """The question bank and prompts in the database, as the bot loads them on start.

    Read without the template check: these tests are about the rows, not the templates."""
    content = shipped_content()
    db.run_sync(sync_bank, questions=content.questions, prompts=content.prompts)
    return content


def lines_by_check(out: str) -> dict[str, str]:
    found = {}
    for line in out.splitlines():
        status, rest = line.split(None, 1)
        name, detail = rest.split(": ", 1)
        found[name] = f"{status} {detail}"
    assert list(found) == CHECKS, out
    return found


async def health(*args: str) -> int:
    # In a thread: getMe goes to the sandbox, which runs on this test's event loop.
    return await asyncio.to_thread(main, ["health", *args])


# --- health ----------------------------------------------------------------------------------


async def test_health_passes_on_a_prepared_database(
    sandbox: Any,
    bot_token: str,
    database_url: str,
    loaded: Content,
    environment: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment(
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=bot_token,
        BOT_API_BASE_URL=sandbox.api_base_url,
    )
    assert await health() == 0
    captured = capsys.readouterr()
    checks = lines_by_check(captured.out)
    assert all(line.startswith("ok ") for line in checks.values()), captured.out
    assert checks["migrations"] == f"ok at head {head_revision()}"
    assert checks["content"] == (
        f"ok {len(loaded.questions)} active questions, {len(loaded.prompts)} active prompts"
    )
    assert checks["bot_api"].startswith(f"ok @{sandbox.bot_username} at 127.0.0.1:")
    assert checks["outbox"] == "ok 0 open deliveries, none due"
    assert bot_token not in captured.out + captured.err


async def test_health_fails_when_migrations_are_missing_or_behind(
    sandbox: Any,
    bot_token: str,
    tmp_path: Path,
    environment: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "fresh.sqlite3"
    sqlite3.connect(path).close()
    url = f"sqlite:///{path}"
    environment(
        DATABASE_URL=url, TELEGRAM_BOT_TOKEN=bot_token, BOT_API_BASE_URL=sandbox.api_base_url
    )
    assert await health() == 1
    checks = lines_by_check(capsys.readouterr().out)
    assert checks["database"].startswith("ok ")
    assert checks["migrations"].startswith(f"FAIL none applied (head is {head_revision()})")
    assert checks["content"] == "FAIL not checked: the schema is not current"
    assert checks["outbox"] == "FAIL not checked: the schema is not current"
    assert checks["bot_api"].startswith("ok ")

    # One migration short of head: a bot that has not started since an upgrade.
    script = ScriptDirectory.from_config(alembic_config(url))
    previous = script.get_revision(head_revision()).down_revision
    assert isinstance(previous, str)
    upgrade(url, previous)
    assert await health() == 1
    checks = lines_by_check(capsys.readouterr().out)
    assert checks["migrations"] == (
        f"FAIL at {previous}, head is {head_revision()}: run `berakhlak db upgrade`"
    )


async def test_health_fails_on_an_empty_bank(
    sandbox: Any,
    bot_token: str,
    database_url: str,
    environment: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment(
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=bot_token,
        BOT_API_BASE_URL=sandbox.api_base_url,
    )
    assert await health() == 1
    checks = lines_by_check(capsys.readouterr().out)
    assert checks["content"].startswith("FAIL 0 active questions, 0 active prompts")
    assert [name for name, line in checks.items() if line.startswith("FAIL")] == ["content"]


async def test_health_fails_when_the_bot_api_is_unreachable_or_refuses_the_token(
    sandbox: Any,
    bot_token: str,
    database_url: str,
    loaded: Content,
    environment: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment(
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=bot_token,
        BOT_API_BASE_URL=sandbox.api_base_url,
    )
    assert await health() == 0  # the sandbox now knows this bot by its real token
    capsys.readouterr()

    # The same bot id with another secret: Telegram answers 401.
    wrong = bot_token.split(":")[0] + ":AAHsandbox-wrong-secret_0123456789xyz"
    environment(TELEGRAM_BOT_TOKEN=wrong)
    assert await health() == 1
    captured = capsys.readouterr()
    checks = lines_by_check(captured.out)
    assert checks["bot_api"] == (
        f"FAIL {sandbox.api_base_url.split('/')[2]} rejected the token (401): "
        "check TELEGRAM_BOT_TOKEN"
    )
    assert [name for name, line in checks.items() if line.startswith("FAIL")] == ["bot_api"]
    assert wrong not in captured.out + captured.err
    sandbox.take_violations()  # the 401 is what this test provokes

    port = free_port()  # nothing listens there
    environment(TELEGRAM_BOT_TOKEN=bot_token, BOT_API_BASE_URL=f"http://127.0.0.1:{port}/bot")
    assert await health() == 1
    captured = capsys.readouterr()
    checks = lines_by_check(captured.out)
    assert checks["bot_api"].startswith(f"FAIL 127.0.0.1:{port}: ConnectError")
    assert [name for name, line in checks.items() if line.startswith("FAIL")] == ["bot_api"]
    assert bot_token not in captured.out + captured.err


def _due_rows(db: Database, *, count: int, due_ago: timedelta) -> None:
    broadcast = db.run_sync(
        outbox.create_broadcast,
        kind="broadcast",
        created_by=None,
        audience={"type": "all"},
        content={"text": "x"},
    )
    rows = [(None, 5_000_000_000 + i, {"method": "sendMessage"}) for i in range(count)]
    db.run_sync(outbox.enqueue, broadcast_id=broadcast.id, rows=rows)

    def age(*, session: Any) -> None:
        session.execute(
            update(Delivery)
            .where(Delivery.broadcast_id == broadcast.id)
            .values(next_attempt_at=utcnow() - due_ago)
        )

    db.run_sync(age)


async def test_health_fails_when_the_outbox_backlog_is_too_old(
    sandbox: Any,
    bot_token: str,
    database_url: str,
    db: Database,
    loaded: Content,
    environment: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment(
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=bot_token,
        BOT_API_BASE_URL=sandbox.api_base_url,
    )
    # A round being sent: due five minutes ago, within the default 60 minutes.
    _due_rows(db, count=3, due_ago=timedelta(minutes=5))
    # A retry waiting for its time: open, but not due.
    _due_rows(db, count=1, due_ago=-timedelta(minutes=10))
    assert await health() == 0
    checks = lines_by_check(capsys.readouterr().out)
    assert re.fullmatch(
        r"ok 4 open deliveries, 3 due, the oldest due for [56] min \(limit 60 min\)",
        checks["outbox"],
    ), checks["outbox"]

    # The same backlog is too old for a 2-minute limit.
    assert await health("--outbox-max-age", "2") == 1
    checks = lines_by_check(capsys.readouterr().out)
    assert checks["outbox"].startswith("FAIL 4 open deliveries, 3 due, the oldest due for")
    assert checks["outbox"].endswith("(limit 2 min): is the bot running and sending?")

    # Rows due two hours ago fail the default limit.
    _due_rows(db, count=2, due_ago=timedelta(hours=2))
    assert await health() == 1
    checks = lines_by_check(capsys.readouterr().out)
    assert re.fullmatch(
        r"FAIL 6 open deliveries, 5 due, the oldest due for 2 h [01] min \(limit 60 min\): "
        r"is the bot running and sending\?",
        checks["outbox"],
    ), checks["outbox"]
    assert [name for name, line in checks.items() if line.startswith("FAIL")] == ["outbox"]


def test_health_creates_no_database_and_shows_no_password(
    environment: Callable[..., None], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "data" / "nothing.sqlite3"
    environment(DATABASE_URL=f"sqlite:///{missing}")
    assert main(["health"]) == 1
    checks = lines_by_check(capsys.readouterr().out)
    assert checks["database"] == f"FAIL no SQLite database file at {missing}"
    assert checks["bot_api"] == "FAIL TELEGRAM_BOT_TOKEN is not set"
    assert not missing.exists() and not missing.parent.exists()

    port = free_port()
    environment(DATABASE_URL=f"postgresql://hr:s3cret-pass@127.0.0.1:{port}/berakhlak")
    assert main(["health"]) == 1
    captured = capsys.readouterr()
    checks = lines_by_check(captured.out)
    assert checks["database"].startswith(f"FAIL 127.0.0.1:{port}/berakhlak: OperationalError")
    assert checks["migrations"] == "FAIL not checked: the database is unreachable"
    assert "s3cret-pass" not in captured.out + captured.err


# --- backup and restore: SQLite --------------------------------------------------------------


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A SQLite database of its own, whatever TEST_DATABASE_URL says: restore replaces it."""
    url = f"sqlite:///{tmp_path / 'live' / 'berakhlak.sqlite3'}"
    upgrade(url)
    database = Database(url)
    database.run_sync(import_roster, rows=_kediri_rows())
    yield database
    database.close()


def _kediri_rows() -> list[RosterRow]:
    from bot.members.roster import parse_roster

    return [RosterRow(r.code, r.name, r.parent, r.timezone) for r in parse_roster(KEDIRI)]


def units(db: Database) -> dict[str, str]:
    def read(*, session: Any) -> dict[str, str]:
        return {u.code: u.name for u in session.exec(select(Unit)).all()}

    return db.run_sync(read)


def _change_units(db: Database) -> None:
    """What happens after a backup: a unit renamed, one deleted, one added."""

    def change(*, session: Any) -> None:
        session.execute(text("UPDATE unit SET name = 'Diganti' WHERE code = 'PKM-SUKORAME'"))
        session.execute(
            text(
                "DELETE FROM unit WHERE id = (SELECT MAX(id) FROM unit "
                "WHERE parent_id IS NOT NULL AND code <> 'PKM-SUKORAME')"
            )
        )

    db.run_sync(change)
    db.run_sync(import_roster, rows=[RosterRow("ZZ-BARU", "Unit Baru", None, "Asia/Jakarta")])


def test_sqlite_round_trip_through_the_console_script(sqlite_db: Database, tmp_path: Path) -> None:
    before = units(sqlite_db)
    assert len(before) == 209
    url = sqlite_db.url
    file = tmp_path / "backups" / "berakhlak-2026-12-07.sqlite3"
    file.parent.mkdir()

    done = berakhlak("backup", str(file), cwd=tmp_path, DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(
        rf"Backup written: {re.escape(str(file))} \(SQLite, \d+ KB\)\.\n", done.stdout
    )
    # One self-contained file, nothing half-written beside it.
    assert sorted(p.name for p in file.parent.iterdir()) == [file.name]
    assert file.read_bytes().startswith(b"SQLite format 3\x00")

    _change_units(sqlite_db)
    changed = units(sqlite_db)
    assert changed != before and "ZZ-BARU" in changed and len(changed) == 209

    # Restored while this test still holds connections to the database, as a bot would.
    done = berakhlak("restore", str(file), cwd=tmp_path, DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Restored {file} (SQLite, ")
    assert done.stdout.rstrip().endswith(f"schema revision {head_revision()}. Start the bot again.")
    assert units(sqlite_db) == before
    fresh = Database(url)
    try:
        assert units(fresh) == before
    finally:
        fresh.close()


def _text_file(path: Path) -> None:
    path.write_text("kode,nama,induk\n", "utf-8")


def _pg_dump_header(path: Path) -> None:
    path.write_bytes(b"PGDMP\x01\x0f\x00" + bytes(64))


def _other_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    conn.close()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (None, "{file}: no such file"),
        (
            lambda p: p.write_text("nama,unit\n"),
            "{file} is not a backup made by `berakhlak backup`",
        ),
        (_other_sqlite, "{file} is a SQLite file but not a backup of this bot"),
        (_pg_dump_header, "{file} is a PostgreSQL backup (pg_dump), but DATABASE_URL is SQLite"),
    ],
    ids=["missing", "text", "other-sqlite", "pg-dump"],
)
def test_restore_refuses_what_is_not_a_sqlite_backup_of_this_bot(
    sqlite_db: Database,
    tmp_path: Path,
    environment: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], object] | None,
    message: str,
) -> None:
    before = units(sqlite_db)
    file = tmp_path / "backup.bin"
    if make is not None:
        make(file)
        kept = file.read_bytes()
    environment(DATABASE_URL=sqlite_db.url)
    assert main(["restore", str(file)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"berakhlak restore: {message.format(file=file)}\nNothing restored.\n"
    assert units(sqlite_db) == before
    if make is not None:
        assert file.read_bytes() == kept


def test_backup_refuses_a_missing_database_and_writes_nothing(
    tmp_path: Path, environment: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "data" / "berakhlak.sqlite3"
    file = tmp_path / "backup.sqlite3"
    environment(DATABASE_URL=f"sqlite:///{missing}")
    assert main(["backup", str(file)]) == 1
    assert capsys.readouterr().err == (
        f"berakhlak backup: no SQLite database at {missing}\nNo backup written.\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --- backup and restore: PostgreSQL ----------------------------------------------------------

needs_pg_tools = pytest.mark.skipif(
    shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
    reason="pg_dump and pg_restore (postgresql-client) are not installed",
)


@needs_pg_tools
def test_pg_backup_of_an_unreachable_server_hides_the_password(
    tmp_path: Path, environment: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    file = tmp_path / "backup.dump"
    environment(DATABASE_URL=f"postgresql://hr:s3cret-pass@127.0.0.1:{port}/berakhlak")
    assert main(["backup", str(file)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("berakhlak backup: pg_dump failed: ")
    assert captured.err.endswith("No backup written.\n")
    assert f"port {port} failed" in captured.err
    assert "s3cret-pass" not in captured.out + captured.err
    assert list(tmp_path.iterdir()) == []


PG_DATABASE = "berakhlak_backup_rt"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database of its own on the test server: the suite's `test` database stays as it is."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set: the PostgreSQL round trip needs a server")
    import psycopg

    server = make_url(base).set(drivername="postgresql")
    admin = server.set(database="postgres").render_as_string(hide_password=False)

    def reset(create: bool) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            if create:
                conn.execute(f"CREATE DATABASE {PG_DATABASE}")

    reset(create=True)
    try:
        yield server.set(database=PG_DATABASE).render_as_string(hide_password=False)
    finally:
        reset(create=False)


@needs_pg_tools
def test_postgresql_round_trip_through_the_console_script(pg_url: str, tmp_path: Path) -> None:
    url = "postgresql+psycopg://" + pg_url.removeprefix("postgresql://")
    upgrade(url)
    database = Database(url)
    try:
        database.run_sync(import_roster, rows=_kediri_rows())
        before = units(database)
        file = tmp_path / "berakhlak.dump"

        done = berakhlak("backup", str(file), cwd=tmp_path, DATABASE_URL=pg_url)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"Backup written: {file} (PostgreSQL custom format, ")
        assert file.read_bytes().startswith(b"PGDMP")

        _change_units(database)
        assert units(database) != before
        database.engine.dispose()  # the bot is stopped for a restore

        done = berakhlak("restore", str(file), cwd=tmp_path, DATABASE_URL=pg_url)
        assert done.returncode == 0, done.stderr
        assert done.stdout.rstrip().endswith(
            f"schema revision {head_revision()}. Start the bot again."
        )
        assert units(database) == before

        # A SQLite backup is refused for a PostgreSQL database, before anything changes.
        other = tmp_path / "other.sqlite3"
        _other_sqlite(other)
        done = berakhlak("restore", str(other), cwd=tmp_path, DATABASE_URL=pg_url)
        assert done.returncode == 1
        assert done.stderr == (
            f"berakhlak restore: {other} is a SQLite backup, but DATABASE_URL is PostgreSQL\n"
            "Nothing restored.\n"
        )
        assert units(database) == before
    finally:
        database.close()
