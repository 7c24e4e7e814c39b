"""`berakhlak backup FILE` and `berakhlak restore FILE`.

SQLite: SQLite's online backup API (`sqlite3.Connection.backup`), which copies a consistent
snapshot while the bot keeps running, into a single self-contained file. PostgreSQL:
`pg_dump -Fc` and `pg_restore --clean --if-exists --no-owner` in one transaction. The
password travels in PGPASSWORD, never on a command line (`ps` shows those to every user)
nor in any message.

A backup is written under a temporary name and renamed when complete, so FILE is never
half a backup. A restore first checks that FILE is a backup of this bot's database, of the
kind DATABASE_URL needs, and refuses otherwise, before anything is changed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from bot.core.config import Settings
from db.tenancy import schema_of

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"  # pg_dump's custom format (-Fc)
CONNECT_TIMEOUT = "10"


class BackupError(Exception):
    """Why a backup or restore did not happen; one or a few lines for the person at the shell."""


@dataclass(frozen=True)
class Done:
    kind: str
    size: int
    revision: str | None = None


def backup_main(settings: Settings, file: Path) -> int:
    try:
        done = backup(settings.database_url, file)
    except BackupError as exc:
        print(f"berakhlak backup: {exc}\nNo backup written.", file=sys.stderr)
        return 1
    print(f"Backup written: {file} ({done.kind}, {_size(done.size)}).")
    return 0


def restore_main(settings: Settings, file: Path) -> int:
    try:
        done = restore(settings.database_url, file)
    except BackupError as exc:
        print(f"berakhlak restore: {exc}\nNothing restored.", file=sys.stderr)
        return 1
    print(
        f"Restored {file} ({done.kind}, {_size(done.size)}) into the database; "
        f"schema revision {done.revision}. Start the bot again."
    )
    return 0


def backup(database_url: str, file: Path) -> Done:
    if not file.parent.is_dir():
        raise BackupError(f"{file.parent}: no such folder")
    partial = file.with_name(f".{file.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if database_url.startswith("sqlite"):
            _sqlite_backup(_sqlite_path(database_url), partial)
            kind = "SQLite"
        else:
            _pg_backup(database_url, partial)
            kind = "PostgreSQL custom format"
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)
    return Done(kind, file.stat().st_size)


def restore(database_url: str, file: Path) -> Done:
    if not file.is_file():
        raise BackupError(f"{file}: no such file")
    found = _sniff(file)
    if database_url.startswith("sqlite"):
        if found == "postgresql":
            raise BackupError(
                f"{file} is a PostgreSQL backup (pg_dump), but DATABASE_URL is SQLite"
            )
        if found != "sqlite":
            raise BackupError(f"{file} is not a backup made by `berakhlak backup`")
        revision = _sqlite_restore(file, _sqlite_path(database_url))
        return Done("SQLite", file.stat().st_size, revision)
    if found == "sqlite":
        raise BackupError(f"{file} is a SQLite backup, but DATABASE_URL is PostgreSQL")
    if found != "postgresql":
        raise BackupError(f"{file} is not a backup made by `berakhlak backup`")
    revision = _pg_restore(database_url, file)
    return Done("PostgreSQL custom format", file.stat().st_size, revision)


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_path(database_url: str) -> Path:
    path = database_url.removeprefix("sqlite:///")
    if not path or path == ":memory:" or path == database_url:
        raise BackupError("DATABASE_URL names no SQLite file (sqlite:///path)")
    return Path(path)


def _sqlite_backup(source: Path, target: Path) -> None:
    # sqlite3.connect would create an empty database and back that up.
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    try:
        with (
            closing(sqlite3.connect(source, timeout=30)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            # One step: the snapshot is taken under one read transaction, which in WAL
            # mode does not hold up the bot's writers.
            src.backup(dst)
            # The copy stays a single file: no -wal or -shm beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
            (check,) = dst.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite: {exc}") from None
    if check != "ok":
        raise BackupError(f"the copy of {source} fails SQLite's check: {check}")


def _sqlite_restore(file: Path, target: Path) -> str:
    try:
        # Read-only, so that a refused file is left exactly as it was.
        with closing(sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)) as src:
            (check,) = src.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise BackupError(f"{file} is damaged (SQLite's check: {check})")
            revision = _sqlite_revision(src)
            if revision is None:
                raise BackupError(f"{file} is a SQLite file but not a backup of this bot")
            target.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(target, timeout=30)) as dst:
                # The backup API writes into the live file under SQLite's own locks, so
                # every connection sees the restored data, WAL and all.
                src.backup(dst)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{file}: {exc}") from None
    return revision


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if not has_table:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_backup(database_url: str, target: Path) -> None:
    # The default instansi's backup holds the whole database, every instansi's schema with
    # it; another instansi's (`--instansi`) holds its own schema only.
    schema = schema_of(database_url)
    only = [f"--schema={schema}"] if schema else []
    _pg_tool("pg_dump", database_url, ["--format=custom", f"--file={target}", *only])
    # Read the archive's table of contents back: a dump pg_restore cannot list is no backup.
    _pg_contents(target)


def _pg_restore(database_url: str, file: Path) -> str:
    contents = _pg_contents(file)
    if f"TABLE DATA {schema_of(database_url) or 'public'} alembic_version" not in contents:
        raise BackupError(f"{file} is a pg_dump archive but not a backup of this bot")
    # One transaction: a restore that fails half way leaves the database as it was.
    # --no-owner and --no-privileges: the roles of the server it came from need not exist.
    _pg_tool(
        "pg_restore",
        database_url,
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            str(file),
        ],
    )
    return _pg_revision(database_url)


def _pg_contents(file: Path) -> str:
    tool = _find("pg_restore")
    done = subprocess.run([tool, "--list", str(file)], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{file}: pg_restore cannot read it: {_last_lines(done.stderr)}")
    return done.stdout


def _pg_tool(name: str, database_url: str, args: list[str]) -> None:
    url = make_url(database_url)
    env = dict(os.environ, PGCONNECT_TIMEOUT=CONNECT_TIMEOUT)
    env.pop("PGPASSWORD", None)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # libpq takes the URL without the driver suffix and, here, without the password;
    # --dbname= keeps a URL from ever being read as an option.
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run(
        [_find(name), f"--dbname={conninfo}", *args], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        message = _last_lines(done.stderr)
        if url.password:
            message = message.replace(str(url.password), "***")
        if "version mismatch" in message:
            message += (
                f"\n{name} must be of the server's major version or newer "
                "(install a newer postgresql-client)"
            )
        raise BackupError(f"{name} failed: {message}")


def _pg_revision(database_url: str) -> str:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar())
    finally:
        engine.dispose()


def _find(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(
            f"{name} not found: install postgresql-client, of the server's major version or newer"
        )
    return tool


# --- helpers ---------------------------------------------------------------------------------


def _sniff(file: Path) -> str | None:
    with file.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    return None


def _last_lines(stderr: str, count: int = 3) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return "\n".join(lines[-count:]) or "no message"


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
