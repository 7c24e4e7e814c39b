"""The sender: works through the outbox within Telegram's limits, never sending a row twice.

State machine of a delivery row (table `delivery`)::

    pending ──claim──▶ sending ──2xx──────────────▶ sent
       ▲                  │  ──403───────────────▶ blocked   (member marked unreachable)
       │                  │  ──400───────────────▶ failed    (reason kept; admin may retry)
       │                  │  ──400 migrated──────▶ pending   (chat id updated, at once)
       │                  │  ──429 retry_after───▶ pending   (after retry_after; all sends pause)
       └──────────────────┘  ──connect error─────▶ pending   (backoff 2^n s, up to 5 tries)
    pending ──/broadcast_batal──▶ cancelled

Rows are claimed (`sending`, committed) in small chunks, as many as leave within 20 ms
(one row at 30/s), and each request is written as soon as its rate-limit slot comes.

The one uncertain edge: the process dies, or a response times out, after the request
left but before the result was recorded. Telegram may have delivered that message or not,
and the Bot API cannot tell us. We resolve it towards *never twice*: at start-up every
row still `sending` becomes `sent` with `unconfirmed = true` (a read timeout is recorded
the same way) and is not retried; the broadcast report counts them. A crash can also strand the
rest of a claimed chunk that had not gone out yet; those rows are recorded the same way
(at most 20 ms of sending, one row at the default 30/s). Errors that prove a request never
arrived (connection refused, connect or pool timeout) are retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import Session
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBUserWarning

from bot.delivery.pacer import Limits, Pacer, Ticket
from db.engine import Database
from db.models import DeliveryState, utcnow
from db.queries import outbox
from db.queries.outbox import DueRow, Outcome

log = logging.getLogger(__name__)
# Stored payloads are raw Bot API calls, so the sender posts them with do_api_request;
# PTB would warn on every one that a typed method exists.
warnings.filterwarnings("ignore", message="Please use 'Bot.", category=PTBUserWarning)

MAX_NETWORK_RETRIES = 5
MAX_RATE_RETRIES = 20
BATCH = 500
FLUSH_EVERY = 0.05
FLUSH_ROWS = 200
CLAIM_WINDOW = 0.02  # seconds of sending claimed per commit

# (session, [(row, messages as dicts)]) run in the transaction that records them, e.g. to
# remember which poll went to whom.
SentHook = Callable[[Session, list[tuple[DueRow, list[dict[str, Any]]]]], None]


class Sender:
    def __init__(
        self,
        db: Database,
        bot: Bot,
        limits: Limits | None = None,
        *,
        poll_interval: float = 1.0,
        pacer: Pacer | None = None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.limits = limits or Limits()
        self.pacer = pacer or Pacer(self.limits)
        self.poll_interval = poll_interval
        self.hooks: dict[str, SentHook] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(self.limits.max_in_flight)
        self._in_flight: set[asyncio.Task[None]] = set()
        # Rows launched but perhaps not yet claimed in the database: never launch twice.
        self._launched: set[int] = set()
        self._results: list[tuple[DueRow, Outcome]] = []
        self._results_ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        # Polls that reached Telegram while the rest of their delivery (a quiz round's later
        # messages, at one a second per chat) is still going out: their mapping is written
        # with the delivery's result, so an answer to one waits for that (settle_polls).
        self._polls_pending: dict[str, asyncio.Event] = {}
        self._row_polls: dict[int, list[str]] = {}

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        recovered = await self.db.run(outbox.recover)
        if recovered:
            log.warning(
                "%d deliveries were in flight when the sender stopped; recorded as sent "
                "(unconfirmed), never sent twice",
                recovered,
            )
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-sender")
        self._flusher = asyncio.create_task(self._flush_loop(), name="outbox-flusher")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        self._results_ready.set()
        if self._flusher is not None:
            await self._flusher
        await self._flush()

    def wake(self) -> None:
        self._wake.set()

    async def flush_now(self) -> None:
        """Write buffered results (and their hooks) now, e.g. before looking up a poll."""
        async with self._flush_lock:
            await self._flush_unlocked()

    async def settle_polls(self, poll_ids: Iterable[str], *, within: float = 60.0) -> None:
        """Until what the sender knows of these polls is in the database: those of a delivery
        still going out once it is recorded, the others at once (the buffer is written)."""
        events = [self._polls_pending[p] for p in poll_ids if p in self._polls_pending]
        if events:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await asyncio.gather(*(event.wait() for event in events))
        await self.flush_now()

    def _release_polls(self, row_id: int) -> None:
        for poll_id in self._row_polls.pop(row_id, []):
            event = self._polls_pending.pop(poll_id, None)
            if event is not None:
                event.set()

    async def drain(self, *, within: float = 60.0) -> None:
        """Wait until every row is settled: sent, failed, blocked or cancelled."""
        async with asyncio.timeout(within):
            while True:
                self._idle.clear()
                self.wake()
                await self._idle.wait()
                if not self._in_flight and not self._results:
                    if await self.db.run(outbox.open_rows) == 0:
                        return
                    await asyncio.sleep(0.1)  # rows waiting for a retry time

    # --- the loop ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            try:
                rows = await self.db.run(outbox.due, now=utcnow(), limit=BATCH)
            except Exception:
                log.exception("outbox: reading due rows failed; retrying")
                await asyncio.sleep(self.poll_interval)
                continue
            launched = 0
            chunk: list[DueRow] = []
            chats: set[int] = set()
            for row in rows:
                if self._stopping:
                    break
                if row.id in self._launched or row.chat_id in chats:
                    continue
                if self.pacer.chat_wait(row.chat_id) > 0:
                    continue  # this chat had a message just now; the row comes round again
                chunk.append(row)
                chats.add(row.chat_id)
                if len(chunk) >= self._chunk_size(row.paid):
                    launched += await self._launch(chunk)
                    chunk, chats = [], set()
            if chunk and not self._stopping:
                launched += await self._launch(chunk)
            if launched == 0:
                if not self._in_flight and not self._results:
                    self._idle.set()
                self._wake.clear()
                await _wait(self._wake, self.poll_interval if not rows else 0.05)

    def _chunk_size(self, paid: bool) -> int:
        """Rows claimed in one commit: as many as leave within CLAIM_WINDOW, so that a
        crash can strand only a handful of claimed rows that had not gone out yet."""
        rate = self.limits.paid_per_second if paid else self.limits.per_second
        return max(1, min(self.limits.max_in_flight, int(rate * CLAIM_WINDOW)))

    async def _launch(self, chunk: list[DueRow]) -> int:
        try:
            claimed = await self.db.run(outbox.mark_sending, ids=[r.id for r in chunk])
        except Exception:
            log.exception("outbox: claiming rows failed")
            await asyncio.sleep(self.poll_interval)
            return 0
        launched = 0
        for row in chunk:
            if row.id not in claimed:
                continue  # cancelled meanwhile
            await self._slots.acquire()
            # A reply may have taken this chat's turn since the row was chosen: then the row
            # waits for the chat in its own task, and the others go on meanwhile.
            ticket = None
            if self.pacer.chat_wait(row.chat_id) == 0:
                ticket = await self.pacer.send_slot(row.chat_id, paid=row.paid)
            self._launched.add(row.id)
            task = asyncio.create_task(self._send_claimed(row, ticket))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            launched += 1
        return launched

    async def _send_claimed(self, row: DueRow, ticket: Ticket | None) -> None:
        recorded = False
        try:
            outcome = await self._send(row, ticket)
            self._results.append((row, outcome))
            recorded = True  # forgotten by _flush once the database has it
            if len(self._results) >= FLUSH_ROWS:
                self._results_ready.set()
        finally:
            if ticket is not None:
                ticket.done()  # done already when its answer came, unless it never left
            self._slots.release()
            if not recorded:
                self._launched.discard(row.id)
                self._release_polls(row.id)

    async def _send(self, row: DueRow, ticket: Ticket | None) -> Outcome:
        messages = row.payload.get("messages", [])
        sent: list[dict[str, Any]] = []
        try:
            for index, message in enumerate(messages):
                if index or ticket is None:
                    ticket = await self._chat_turn(row.chat_id, row.paid)
                with ticket:  # the pacer counts this send until its answer is back
                    result = await self.bot.do_api_request(
                        message["method"], api_kwargs={"chat_id": row.chat_id, **message["params"]}
                    )
                sent.append(result if isinstance(result, dict) else {})
                poll = sent[-1].get("poll")
                if isinstance(poll, dict) and poll.get("id"):
                    poll_id = str(poll["id"])
                    self._polls_pending[poll_id] = asyncio.Event()
                    self._row_polls.setdefault(row.id, []).append(poll_id)
        except RetryAfter as exc:
            seconds = _seconds(exc._retry_after)  # the public one warns of a type change
            self.pacer.pause(seconds)
            log.warning("outbox: 429, pausing all sends for %.0f s", seconds)
            if row.attempts >= MAX_RATE_RETRIES or sent:
                return self._failed(row, "429 too many times" if not sent else "partly sent")
            return Outcome(
                row.id,
                DeliveryState.PENDING,
                retry_at=utcnow() + timedelta(seconds=seconds),
                error="429",
            )
        except ChatMigrated as exc:
            return Outcome(
                row.id,
                DeliveryState.PENDING,
                new_chat_id=exc.new_chat_id,
                old_chat_id=row.chat_id,
                error="migrated",
            )
        except Forbidden as exc:
            return Outcome(
                row.id, DeliveryState.BLOCKED, error=exc.message[:200], member_id=row.member_id
            )
        except BadRequest as exc:
            return self._failed(row, exc.message)
        except NetworkError as exc:  # TimedOut included
            if not _never_arrived(exc):
                # The request may have reached Telegram: never send it twice.
                return Outcome(row.id, DeliveryState.SENT, unconfirmed=True, error=_uncertain(exc))
            if sent:
                return self._failed(row, "partly sent")
            return self._retry(row, exc.message)
        except TelegramError as exc:
            return self._failed(row, exc.message)
        message_id = sent[0].get("message_id") if sent else None
        return Outcome(row.id, DeliveryState.SENT, message_id=message_id, result=sent)

    async def _chat_turn(self, chat_id: int, paid: bool) -> Ticket:
        """The next message of a multi-message delivery (a quiz round) waits for its chat's
        turn, without holding an in-flight slot while it waits."""
        if self.pacer.chat_wait(chat_id) > 0:
            self._slots.release()
            try:
                await self.pacer.chat_free(chat_id)
            finally:
                await self._slots.acquire()
        return await self.pacer.send_slot(chat_id, paid=paid)

    def _retry(self, row: DueRow, reason: str) -> Outcome:
        if row.attempts >= MAX_NETWORK_RETRIES:
            return self._failed(row, f"network: {reason}")
        return Outcome(
            row.id, DeliveryState.PENDING, retry_at=outbox.retry_time(row.attempts), error=reason
        )

    @staticmethod
    def _failed(row: DueRow, reason: str) -> Outcome:
        return Outcome(row.id, DeliveryState.FAILED, error=reason[:200])

    # --- results -----------------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while not self._stopping:
            await _wait(self._results_ready, FLUSH_EVERY)
            self._results_ready.clear()
            await self._flush()

    async def _flush(self) -> None:
        async with self._flush_lock:
            await self._flush_unlocked()

    async def _flush_unlocked(self) -> None:
        if not self._results:
            return
        batch, self._results = self._results, []
        try:
            await self.db.run(self._record, batch=batch)
            self._launched.difference_update(row.id for row, _ in batch)
            for row, _ in batch:
                self._release_polls(row.id)
        except Exception:
            # Keep them: the next flush tries again; the rows stay "sending" meanwhile.
            log.exception("outbox: recording %d results failed", len(batch))
            self._results = batch + self._results
            await asyncio.sleep(0.5)
            return
        if any(o.state == DeliveryState.PENDING for _, o in batch):
            self.wake()

    def _record(self, *, session: Session, batch: list[tuple[DueRow, Outcome]]) -> list[int]:
        outbox.record(session=session, outcomes=[o for _, o in batch])
        by_kind: dict[str, list[tuple[DueRow, list[dict[str, Any]]]]] = {}
        for row, outcome in batch:
            if outcome.state == DeliveryState.SENT and outcome.result:
                by_kind.setdefault(row.kind, []).append((row, outcome.result))
        for kind, sent in by_kind.items():
            hook = self.hooks.get(kind)
            if hook is not None:
                hook(session, sent)
        return outbox.finish_done(session=session)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Until the event is set or the time is up. (Not wait_for: on Python 3.11 a cancel
    during wait_for can be lost, and stopping would hang.)"""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


def _never_arrived(exc: NetworkError) -> bool:
    """Whether Telegram cannot have received the request, so sending it again is safe.

    Only a failure before any byte was written qualifies: the connection was refused, never
    opened, or never got a pool slot; or Telegram itself answered with an error (a 5xx, no
    transport error behind it). A reset, a remote disconnect, a write or read failure or
    time-out happen with the request on the wire: it may have arrived."""
    cause = exc.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return True
    if isinstance(cause, httpx.HTTPError):
        return False
    if isinstance(exc, TimedOut):
        return "Pool timeout" in exc.message
    return True


def _uncertain(exc: NetworkError) -> str:
    cause = exc.__cause__
    kind = type(cause).__name__ if isinstance(cause, httpx.HTTPError) else type(exc).__name__
    return f"may have arrived: {kind}"


def _seconds(value: timedelta | float) -> float:
    # A timedelta in PTB 22.2 and later, a number of seconds before.
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
