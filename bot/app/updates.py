"""Process updates concurrently across users but in order for each user, and handle an
update again when the database was unavailable the first time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from db.engine import Database, deferring, unavailable

log = logging.getLogger(__name__)

Rerun = Callable[[object], Awaitable[None]]


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Two quick messages from one person must not race over their registration draft,
    while thousands of people answering a quiz at once should not wait for each other.

    A handler that fails because the database is unavailable says nothing to the person
    (`handlers.errors.on_error` defers it): the update is handled again from the start once
    the database is back, while the person's later updates wait behind it, and while it
    waits no getUpdates call confirms anything more to Telegram (`Database.until_clear`).
    Past `Database.outage_wait` it is handled once more as usual, so a failure then gets
    the usual error message."""

    def __init__(self, db: Database | None = None, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self.db = db
        # Handles an update from the start: the application's process_update (bot/app/wiring.py).
        self.rerun: Rerun | None = None
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _key(update)
        if key is None:
            await self._handle(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        started = time.monotonic()
        try:
            async with lock:
                await self._handle(update, coroutine)
        finally:
            if log.isEnabledFor(logging.DEBUG):
                # What kind of update and how long, never what it said or who sent it.
                log.debug(
                    "update %s (%s) handled in %.0f ms",
                    getattr(update, "update_id", "?"),
                    _kind(update),
                    (time.monotonic() - started) * 1000,
                )
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                del self._locks[key]

    async def _handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        with deferring() as failed:
            await coroutine
        if not failed:
            return
        if self.db is None or self.rerun is None:
            return
        rerun = self.rerun

        async def attempt() -> None:
            with deferring() as again:
                await rerun(update)
            if again:
                raise again[-1]

        what = f"update {getattr(update, 'update_id', '?')}"
        first = failed[-1]
        try:
            await self.db.wait_out(
                attempt, what=what, failed=first if isinstance(first, Exception) else None
            )
        except Exception as error:
            if unavailable(error) is None:
                raise
            # Past the wait: handled as any failing update, with the person told.
            await rerun(update)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _key(update: object) -> int | None:
    # Votes need no order: each names its own poll, and the answer store takes the first.
    if isinstance(update, Update) and update.poll_answer is not None:
        return None
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None


def _kind(update: object) -> str:
    if not isinstance(update, Update):
        return type(update).__name__
    for kind in ("message", "callback_query", "my_chat_member", "edited_message"):
        if getattr(update, kind) is not None:
            return kind
    return "other"
