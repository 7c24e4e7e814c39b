"""The engine, and the one way code reaches it: in a worker thread, never on the event loop.

It also knows when the database is unavailable (a restart, killed connections, a lock held
too long, a read-only or full disk) as opposed to refusing one statement, and waits such an
outage out (`Database.wait_out`): whatever waits keeps Telegram from being told that its
update was handled (`Database.until_clear`), so nothing is confirmed before it is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc
from sqlmodel import Session, create_engine

T = TypeVar("T")

log = logging.getLogger(__name__)

# How long an update waits for the database before it is given up (DB_OUTAGE_WAIT).
OUTAGE_WAIT = 1800.0  # seconds
# The pause between two tries while the database is unavailable grows from this to that.
BACKOFF_FIRST = 0.2  # seconds
BACKOFF_MAX = 10.0  # seconds
CAUSE_MAX = 160  # characters of the driver's message in the log

# What SQLite says when it cannot write now but may later; anything else it calls an
# OperationalError ("no such table", a syntax error) is a mistake of ours, not an outage.
SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "readonly",
    "read-only",
    "disk i/o error",
    "unable to open database",
    "database or disk is full",
    "disk is full",
)


def unavailable(error: BaseException) -> str | None:
    """The cause, in one short line without personal data, when `error` says the database
    cannot be reached or written for now; None for any other error (a constraint, a bug).

    Only the driver's own message is quoted: SQLAlchemy's text adds the statement and its
    parameters, which can hold a member's data."""
    if isinstance(error, sa_exc.TimeoutError):
        return "no connection free in the pool"
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    orig = error.orig
    message = " ".join(str(orig).split())
    cause = f"{type(orig).__name__}: {message}"[:CAUSE_MAX]
    if error.connection_invalidated:
        return cause
    if not isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return None
    if type(orig).__module__.startswith("sqlite3"):
        lowered = message.lower()
        return cause if any(m in lowered for m in SQLITE_UNAVAILABLE) else None
    # PostgreSQL: a lost or refused connection, a server shutting down, a failed
    # serialization: all of them pass, and the same work succeeds when tried again.
    return cause


# Set around the handling of one update (`deferring`): a handler that fails because the
# database is unavailable leaves its error here, and the update is handled again later.
_deferred: ContextVar[list[BaseException] | None] = ContextVar("deferred", default=None)


@contextmanager
def deferring() -> Iterator[list[BaseException]]:
    """The outage errors `Database.defer` took while the block ran."""
    taken: list[BaseException] = []
    token = _deferred.set(taken)
    try:
        yield taken
    finally:
        _deferred.reset(token)


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

    def __init__(
        self,
        url: str,
        *,
        workers: int = 4,
        outage_wait: float = OUTAGE_WAIT,
    ) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.outage_wait = outage_wait
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db")
        # Outage state, shared by everything that waits one out.
        self._waiting = 0
        self._holding = 0  # of them, those that hold back updates (`until_clear`)
        self._clear = asyncio.Event()
        self._clear.set()
        self._next_log = 0.0

    def defer(self, error: BaseException) -> bool:
        """True when `error` means the database is unavailable and the update being handled
        will be handled again once it is back (see `deferring`): nothing is said to the
        person meanwhile."""
        taken = _deferred.get()
        if taken is None or unavailable(error) is None:
            return False
        taken.append(error)
        return True

    async def wait_out(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        what: str,
        failed: Exception | None = None,
        holds_updates: bool = True,
    ) -> T:
        """`attempt()`, tried again while it fails because the database is unavailable, at
        growing intervals, for up to `outage_wait` seconds; then its last error is raised.
        Any other error is raised at once. `what` names the work in the log (no personal
        data); `failed` is the error of a first try made elsewhere, so this waits first.
        While it waits, `until_clear` holds back the next updates, unless `holds_updates`
        is False (work whose input is kept elsewhere meanwhile, like the vote journal's).
        """
        loop = asyncio.get_running_loop()
        delay = BACKOFF_FIRST
        deadline: float | None = None
        back = False
        try:
            while True:
                try:
                    if failed is not None:
                        first, failed = failed, None
                        raise first
                    result = await attempt()
                    back = True
                    return result
                except Exception as error:
                    cause = unavailable(error)
                    if cause is None:
                        raise
                    now = loop.time()
                    if deadline is None:
                        deadline = now + self.outage_wait
                        self._waiting += 1
                        if holds_updates:
                            self._holding += 1
                            self._clear.clear()
                    if now >= deadline:
                        log.error(
                            "database unavailable for %.0f s (%s): %s is given up",
                            self.outage_wait,
                            cause,
                            what,
                        )
                        raise
                    if now >= self._next_log:
                        # One line per interval for the whole process, however many wait.
                        self._next_log = now + delay
                        log.warning(
                            "database unavailable (%s): %d waiting, %s tries again in %.1f s",
                            cause,
                            self._waiting,
                            what,
                            delay,
                        )
                    await asyncio.sleep(min(delay, deadline - now))
                    delay = min(delay * 2, BACKOFF_MAX)
        finally:
            if deadline is not None:
                self._waiting -= 1
                if holds_updates:
                    self._holding -= 1
                    if self._holding == 0:
                        self._clear.set()
                if self._waiting == 0:
                    self._next_log = 0.0
                    if back:
                        log.info("database available again")

    @property
    def waiting(self) -> int:
        """How many pieces of work are waiting for the database to come back."""
        return self._waiting

    async def until_clear(self) -> None:
        """Returns when nothing that holds back updates waits for the database (at once,
        most of the time)."""
        while self._holding:
            await self._clear.wait()

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
