"""Process updates concurrently across users but in order for each user, keep one person's
flood from delaying anyone else, and handle an update again when the database was
unavailable the first time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from db.engine import Database, deferring, unavailable

log = logging.getLogger(__name__)

Rerun = Callable[[object], Awaitable[None]]
Dropped = Callable[[object, bool], Awaitable[None]]

# Drops from one person less than this many seconds apart are one burst, with one notice.
BURST_GAP = 60.0
# Notices (and answers to dropped buttons) being sent at once, at most.
MAX_NOTICES = 1000
NOTIFYING = 4  # of them in flight at a time
# Past this many people remembered as having had drops, those of past bursts are forgotten.
SWEEP_DROPS = 1024


@dataclass
class _Lane:
    """One person's updates: in order, one at a time; `pending` counts running and waiting."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: int = 0


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Two quick messages from one person must not race over their registration draft,
    while thousands of people answering a quiz at once should not wait for each other, and
    one person sending hundreds of messages must not make anyone else wait.

    Each person has a lane: their updates run one at a time, in order, and only the one
    whose turn it is takes one of the shared places (`max_concurrent_updates`). PTB's own
    `process_update` takes the shared place first and then lets the update wait for the
    person's turn, so 300 messages from one account held 256 places while they queued
    behind each other, and everybody else's `/profil` waited for them. A lane holds at most
    `per_person` updates (running and waiting); the rest are dropped unread, which stores
    nothing, with one notice per burst (`on_dropped`; a dropped button is still answered so
    its spinner stops). Quiz votes have no lane: each names its own poll.

    A handler that fails because the database is unavailable says nothing to the person
    (`handlers.errors.on_error` defers it): the update is handled again from the start once
    the database is back, while the person's later updates wait behind it, and while it
    waits no getUpdates call confirms anything more to Telegram (`Database.until_clear`).
    Past `Database.outage_wait` it is handled once more as usual, so a failure then gets
    the usual error message."""

    def __init__(
        self,
        db: Database | None = None,
        max_concurrent_updates: int = 256,
        *,
        per_person: int = 20,
        burst_gap: float = BURST_GAP,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.db = db
        self.per_person = per_person
        self.burst_gap = burst_gap
        # Handles an update from the start: the application's process_update (bot/app/wiring.py).
        self.rerun: Rerun | None = None
        # Tells the person their update was dropped: (update, first of this burst).
        self.on_dropped: Dropped | None = None
        self._lanes: dict[int, _Lane] = {}
        # When each person last had an update dropped (monotonic): a drop this soon after
        # the last one belongs to the same burst, and the burst has had its notice.
        self._dropped_at: dict[int, float] = {}
        self._notices: set[asyncio.Task[None]] = set()
        self._notifying = asyncio.Semaphore(NOTIFYING)
        self.dropped = 0  # since start, for the logs and the bench

    async def process_update(  # type: ignore[misc]  # final in PTB: see the class docstring
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        key = _key(update)
        if key is None:
            async with self._semaphore:
                await self.do_process_update(update, coroutine)
            return
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
        if lane.pending >= self.per_person:
            self._drop(key, update, coroutine)
            return
        lane.pending += 1
        started = time.monotonic()
        try:
            # The person's turn first, then a shared place: waiting in one's own lane
            # takes nothing from anybody else.
            async with lane.lock, self._semaphore:
                await self.do_process_update(update, coroutine)
        finally:
            if log.isEnabledFor(logging.DEBUG):
                # What kind of update and how long, never what it said or who sent it.
                log.debug(
                    "update %s (%s) handled in %.0f ms",
                    getattr(update, "update_id", "?"),
                    _kind(update),
                    (time.monotonic() - started) * 1000,
                )
            lane.pending -= 1
            if lane.pending == 0:
                del self._lanes[key]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self._handle(update, coroutine)

    def _drop(self, key: int, update: object, coroutine: Awaitable[Any]) -> None:
        if isinstance(coroutine, Coroutine):
            coroutine.close()  # never started: nothing of it ran, nothing is stored
        self.dropped += 1
        now = time.monotonic()
        last = self._dropped_at.get(key)
        first = last is None or now - last > self.burst_gap
        self._dropped_at[key] = now
        if first:
            log.warning(
                "one person's updates past %d waiting: dropping them (%s)",
                self.per_person,
                _kind(update),
            )
            self._forget_old_drops(now)
        button = isinstance(update, Update) and update.callback_query is not None
        if self.on_dropped is None or not (first or button):
            return
        if len(self._notices) >= MAX_NOTICES:
            return  # a spinner left to Telegram's own timeout rather than memory unbounded
        task = asyncio.create_task(self._notify(update, first))
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def _notify(self, update: object, first: bool) -> None:
        assert self.on_dropped is not None
        try:
            # A few at a time: a thousand forged presses must not take every connection
            # the replies need.
            async with self._notifying:
                await self.on_dropped(update, first)
        except Exception as error:
            # A notice that could not be sent changes nothing: the update stays dropped.
            log.warning("drop notice not sent: %s", type(error).__name__)

    def _forget_old_drops(self, now: float) -> None:
        if len(self._dropped_at) > SWEEP_DROPS:
            self._dropped_at = {
                k: at for k, at in self._dropped_at.items() if now - at <= self.burst_gap
            }

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
        for task in list(self._notices):
            task.cancel()
        await asyncio.gather(*self._notices, return_exceptions=True)


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
