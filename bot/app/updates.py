"""Process updates concurrently across users but in order for each user."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Two quick messages from one person must not race over their registration draft,
    while thousands of people answering a quiz at once should not wait for each other."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        started = time.monotonic()
        try:
            async with lock:
                await coroutine
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
