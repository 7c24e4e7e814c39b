"""Helpers for end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram.ext import Application

from bot.app import build_application, polling
from bot.config import Settings
from db.engine import Database


@asynccontextmanager
async def running_bot(settings: Settings, db: Database) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    async with polling(build_application(settings, db)) as app:
        yield app
