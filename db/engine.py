"""The engine, and the one way code reaches it: in a worker thread, never on the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

T = TypeVar("T")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip on every checkout; stale connections are recycled.
    return create_engine(url, pool_size=8, max_overflow=8, pool_recycle=1800)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run while one writer commits; the busy timeout makes a
    # second writer wait instead of failing; SQLite leaves foreign keys off unless asked.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: each commit is on disk before it returns. NORMAL loses the last commits of a
    # power cut or a read-only remount, and a lost "sent" record means a message sent twice.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


class Database:
    """Runs data functions `fn(*, session, ...)` in a small thread pool, one transaction each."""

    def __init__(self, url: str, *, workers: int = 4) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db")

    async def run(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(self.run_sync, fn, **kwargs))

    def run_sync(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        with Session(self.engine, expire_on_commit=False) as session:
            result = fn(session=session, **kwargs)
            session.commit()
            return result

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()
