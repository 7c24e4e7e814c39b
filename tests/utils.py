"""Helpers for end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from telegram.ext import Application

from bot.app.startup import prepare
from bot.app.wiring import build_application, polling
from bot.core.calendar import Clock, FakeClock
from bot.core.config import Settings
from db.engine import Database

# Wednesday 9 December 2026, 13:00 WIB (14:00 WITA, 15:00 WIT): a working day outside every
# programme slot and its grace period in all three zones, so a test sees only what it asked
# for, whatever the hour it runs at. A test that needs another instant passes its own clock.
PINNED = datetime(2026, 12, 9, 6, 0, tzinfo=UTC)


async def build(settings: Settings, db: Database, *, clock: Clock | None = None) -> Application:  # type: ignore[type-arg]
    """The application exactly as `berakhlak run` builds it, on the pinned clock."""
    prepared = await asyncio.to_thread(prepare, settings)
    return build_application(prepared, db, clock=clock or FakeClock(PINNED))


@asynccontextmanager
async def running_bot(
    settings: Settings, db: Database, *, clock: Clock | None = None
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    async with polling(await build(settings, db, clock=clock)) as app:
        yield app


async def eventually(check: Callable[[], bool], *, within: float = 5.0) -> None:
    """Wait until `check()` holds: for effects that follow an update with no reply."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - polling the database, which has no event
            await asyncio.sleep(0.02)
