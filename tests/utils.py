"""Helpers for end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from telegram.ext import Application

from bot.app import build_application, polling
from bot.config import Settings
from db.engine import Database


@asynccontextmanager
async def running_bot(settings: Settings, db: Database) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    async with polling(build_application(settings, db)) as app:
        yield app


async def eventually(check: Callable[[], bool], *, within: float = 5.0) -> None:
    """Wait until `check()` holds: for effects that follow an update with no reply."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - polling the database, which has no event
            await asyncio.sleep(0.02)
