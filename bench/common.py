"""Shared by the benchmarks: a sandbox process, a database of members, a broadcast."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.sandbox_proc import TOKEN
from bot.core.config import Settings
from db.engine import Database
from db.migrate import upgrade
from db.models import Member, Unit

ROOT = Path(__file__).resolve().parent.parent
FIRST_USER_ID = 5_000_000_001
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def sandbox_process(
    users: int, *, limits: bool = True, module: str = "bench.sandbox_proc", args: Sequence[str] = ()
) -> Any:
    """The sandbox in its own process (`module PORT USERS [--no-limits] ARGS...`, which prints
    READY when serving), so that "Telegram" does not share the bot's event loop."""
    port = free_port()
    while _busy(port + 1):
        port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", module, str(port), str(users)]
        + ([] if limits else ["--no-limits"])
        + list(args),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "READY" not in line:
        proc.kill()
        raise RuntimeError(f"sandbox did not start: {line!r}")
    try:
        yield port
    finally:
        proc.kill()
        proc.wait()


def _busy(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port + 1}/stats", timeout=60) as response:
        return json.loads(response.read())


def delivered(port: int, users: int) -> tuple[int, int, int]:
    """(exactly one, none, more than one) over the simulated users."""
    per_chat = Counter({int(k): v for k, v in stats(port)["per_chat"].items()})
    counts = [per_chat.get(FIRST_USER_ID + i, 0) for i in range(users)]
    return sum(c == 1 for c in counts), sum(c == 0 for c in counts), sum(c > 1 for c in counts)


def settings_for(port: int, database_url: str, **extra: Any) -> Settings:
    # A journal of its own for each run: a killed run's votes belong to its database only.
    extra.setdefault("vote_journal", Path(tempfile.mkdtemp(prefix="bench-votes-")) / "votes.jsonl")
    return Settings(
        telegram_bot_token=TOKEN,
        bot_api_base_url=f"http://127.0.0.1:{port}/bot",
        bot_api_file_url=f"http://127.0.0.1:{port}/file/bot",
        database_url=database_url,
        _env_file=None,  # type: ignore[call-arg]
        **extra,
    )


def fresh_database(url: str) -> Database:
    """An empty, migrated database (PostgreSQL: the schema is dropped first)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.close()
    upgrade(url)
    return Database(url)


def add_members(db: Database, count: int, *, first: int = FIRST_USER_ID) -> int:
    """One unit and `count` members whose chats are the sandbox's users from `first` on
    (its first users by default)."""
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        unit_id = conn.execute(
            insert(Unit)
            .values(
                code="BENCH",
                name="Unit Bench",
                timezone="Asia/Jakarta",
                active=True,
                created_at=now,
                updated_at=now,
            )
            .returning(Unit.id)
        ).scalar_one()
        conn.execute(
            insert(Member),
            [
                {
                    "telegram_user_id": first + i,
                    "chat_id": first + i,
                    "full_name": f"Anggota {i}",
                    "unit_id": unit_id,
                    "role": "member",
                    "language": "id",
                    "consent_at": now,
                    "reachable": True,
                    "show_name": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(count)
            ],
        )
    return unit_id


def postgres_available() -> bool:
    try:
        db = Database(PG_URL)
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        db.close()
        return True
    except Exception:
        return False


def emit(figures: dict[str, Any]) -> None:
    """The last line of every benchmark: its figures as one JSON object."""
    print(json.dumps(figures, sort_keys=True))


def now() -> float:
    return time.perf_counter()
