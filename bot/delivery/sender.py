"""The sender: works through the outbox within Telegram's limits, never sending a row twice.

State machine of a delivery row (table `delivery`)::

    pending ─slot, then claim─▶ sending ─2xx──────────▶ sent
       ▲                          │ ─403──────────▶ blocked (member marked unreachable)
       │                          │ ─400──────────▶ failed  (reason kept; admin may retry)
       │                          │ ─400 migrated─▶ pending (chat id updated, at once)
       │                          │ ─429──────────▶ pending (that chat, or all, wait)
       │                          │ ─refused, DNS─▶ pending (the sender waits the outage out)
       │                          │ ─reset, hang──▶ sent, unconfirmed (may have arrived)
       └──────────────────────────┘ ─5xx──────────▶ pending (backoff 2^n s, up to 5 tries)
    pending ─/broadcast_batal─▶ cancelled
    pending ─outage longer than SEND_OUTAGE_LIMIT─▶ failed

A row is marked `sending` (committed) only once its request may leave: the sender first
waits for the row's rate-limit slot, then claims the row, then writes the request at once.
Claims are committed in groups (every row whose slot came while the previous commit ran,
so one row at 30/s, a handful at paid rates), never ahead of their slots. A claim does not
hold an in-flight place while its commit runs: a few rows (half of MAX_IN_FLIGHT) are
claimed while the in-flight places are busy writing, and each takes a place as one frees.
A kill can therefore strand only those few rows claimed and not yet written, instead of
every row claimed in advance and still waiting for its slot. (A hook in the HTTP client
that marks the row as its bytes go out would be closer still, but it would have to write
to the database from inside the request, blocking it; a commit just before is as close as
we can get without making the write itself depend on the database.)

The one uncertain edge: the process dies, or a response times out, after the request
left but before the result was recorded. Telegram may have delivered that message or not,
and the Bot API cannot tell us. We resolve it towards *never twice*: at start-up every
row still `sending` becomes `sent` with `unconfirmed = true` (a read timeout or a reset
after the request left is recorded the same way) and is not retried; the broadcast report
counts them apart, names them, and offers the admin to resend to them knowingly. Errors
that prove a request never arrived (connection refused, DNS, connect or pool timeout) are
retried.

Outages. A request that could not reach Telegram at all (refused, DNS, connect time-out)
puts the whole sender into an outage: nothing more is launched, the row goes back to
pending without using up a try, and one probe (getMe) goes out at a growing interval
(1 s, doubling, at most 60 s), each failure logged once with its cause. When a probe
succeeds sending resumes; when the outage has lasted SEND_OUTAGE_LIMIT (30 minutes) the
waiting rows fail, so the broadcast ends in a report once Telegram is back.

429s. Telegram does not say whether a 429 is the bot's overall limit or one chat's flood
control, so the sender decides by evidence. A 429 for a chat whose own limit we have been
using (a burst's worth of sends to it, 3, within the burst's span, 3.3 s: the chat is busy),
while no other chat had a 429 within the last second, is that chat's: only its rows wait
`retry_after`, the others go on. Anything else is the overall limit: a 429 for a chat we
had left alone cannot be that chat's flood control, and two chats with a 429 within a
second mean the bot's. Then every send pauses for `retry_after` and the pacer slows down
for a while. The rule errs towards pausing everything: sending on during a global
retry_after is what gets a bot throttled for longer, while holding back a whole broadcast
for one chat costs only time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
# An outage is probed after 1 s, then at twice the last interval, at most a minute apart.
PROBE_FIRST = 1.0
PROBE_MAX = 60.0
# Half of MAX_IN_FLIGHT claimed ahead covers a claim's commit at paid rates (a quarter
# lost 2.6 a kill instead of 4.8-7.4, but reached only 0.81 of the ceiling, not 0.88-0.93).
CLAIM_AHEAD_SHARE = 2


def claim_ahead(max_in_flight: int) -> int:
    """How many rows may be claimed ahead of an in-flight place."""
    return max(1, max_in_flight // CLAIM_AHEAD_SHARE)


# (session, [(row, messages as dicts)]) run in the transaction that records them, e.g. to
# remember which poll went to whom.
SentHook = Callable[[Session, list[tuple[DueRow, list[dict[str, Any]]]]], None]


@dataclass
class Outage:
    """Telegram cannot be reached: since when (monotonic), why, and the next probe's wait."""

    since: float
    cause: str
    interval: float = PROBE_FIRST
    failed_rows: int = 0


class Claims:
    """Rows are claimed (`sending`, committed) just before their requests leave. Callers
    that arrive while a commit runs are claimed together in the next one: a group commit,
    so the database's flush time bounds how many rows a kill can strand, not the rate."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: dict[int, asyncio.Future[bool]] = {}
        self._task: asyncio.Task[None] | None = None

    async def claim(self, row_id: int) -> bool:
        """True once the row is `sending` in the database; False if it is no longer pending
        (cancelled meanwhile) or the claim could not be written (it stays pending)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting[row_id] = future
        if self._task is None:
            self._task = asyncio.create_task(self._commit(), name="outbox-claims")
        return await future

    async def _commit(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                try:
                    claimed = await self.db.run(outbox.mark_sending, ids=list(batch))
                except Exception:
                    log.exception("outbox: claiming %d rows failed; they stay pending", len(batch))
                    claimed = set()
                for row_id, future in batch.items():
                    if not future.done():
                        future.set_result(row_id in claimed)
        finally:
            self._task = None


class Sender:
    def __init__(
        self,
        db: Database,
        bot: Bot,
        limits: Limits | None = None,
        *,
        poll_interval: float = 1.0,
        pacer: Pacer | None = None,
        outage_limit: float = 1800.0,
    ) -> None:
        self.db = db
        self.bot = bot
        self.limits = limits or Limits()
        self.pacer = pacer or Pacer(self.limits)
        self.poll_interval = poll_interval
        self.outage_limit = outage_limit
        self.hooks: dict[str, SentHook] = {}
        self.outage: Outage | None = None
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(self.limits.max_in_flight)
        # Rows being claimed, or claimed and waiting for an in-flight place: enough to keep
        # the in-flight places busy through a claim's commit, few enough that a kill
        # strands only these (see the module's docstring).
        self._ahead = asyncio.Semaphore(claim_ahead(self.limits.max_in_flight))
        self._next_departure = 0.0  # loop time before which no request leaves (_depart)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._claims = Claims(db)
        # Rows launched but not yet recorded: never launch twice. Their chats too: one
        # delivery at a time per chat keeps a chat's messages in order.
        self._launched: set[int] = set()
        self._busy_chats: set[int] = set()
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
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="outbox-sender")
        self._flusher = asyncio.create_task(self._flush_loop(), name="outbox-flusher")

    async def stop(self) -> None:
        self._stopping = True
        self._stop.set()
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
            if self.outage is not None:
                if not self._in_flight and not self._results:
                    self._idle.set()
                await self._probe(self.outage)
                continue
            try:
                rows = await self.db.run(outbox.due, now=utcnow(), limit=BATCH)
            except Exception:
                log.exception("outbox: reading due rows failed; retrying")
                await asyncio.sleep(self.poll_interval)
                continue
            launched = 0
            for row in rows:
                if self._stopping or self.outage is not None:
                    break
                if row.id in self._launched or row.chat_id in self._busy_chats:
                    continue
                if self.pacer.chat_wait(row.chat_id) > 0:
                    continue  # this chat had a message just now; the row comes round again
                launched += await self._launch(row)
            if launched == 0:
                if not self._in_flight and not self._results:
                    self._idle.set()
                self._wake.clear()
                await _wait(self._wake, self.poll_interval if not rows else 0.05)

    async def _launch(self, row: DueRow) -> int:
        """Wait for the row's slot (a place among the rows being claimed and its rate-limit
        turn), then hand it to a task that claims it and writes its request."""
        await self._ahead.acquire()
        ticket = await self.pacer.send_slot(row.chat_id, paid=row.paid)
        if self.outage is not None or self._stopping:
            ticket.done()  # counted as sent for a second; nothing left
            self._ahead.release()
            return 0
        self._launched.add(row.id)
        self._busy_chats.add(row.chat_id)
        task = asyncio.create_task(self._send_claimed(row, ticket))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return 1

    async def _send_claimed(self, row: DueRow, ticket: Ticket) -> None:
        """Claim, then take an in-flight place, then write. The claim's commit runs while
        other requests are on the wire, and a claimed row gives up its place among the
        claims only once it has an in-flight place: at most `_ahead`'s rows are ever
        claimed and not yet written."""
        recorded = False
        ahead, writing = True, False
        try:
            if not await self._claims.claim(row.id):
                return  # cancelled meanwhile, or the claim was not written: still pending
            await self._slots.acquire()
            writing = True
            self._ahead.release()
            ahead = False
            await self._depart(row.paid)
            ticket.leaving()
            outcome = await self._send(row, ticket)
            self._results.append((row, outcome))
            recorded = True  # forgotten by _flush once the database has it
            if len(self._results) >= FLUSH_ROWS:
                self._results_ready.set()
        finally:
            ticket.done()  # done already when its answer came, unless it never left
            if ahead:
                self._ahead.release()
            if writing:
                self._slots.release()
            self._busy_chats.discard(row.chat_id)
            if not recorded:
                self._launched.discard(row.id)
                self._release_polls(row.id)

    async def _depart(self, paid: bool) -> None:
        """Keep the pacer's spacing between requests leaving. Rows claimed in one commit are
        released together; sent back to back, one could reach Telegram a moment after the
        one before it drew a 429, before its answer could pause anything. A 429 that paused
        every send while a request waited holds it too, and when the pause ends the waiting
        requests leave spaced again, not all at once into the next 429."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            at = max(now + self.pacer.paused_for(), self._next_departure)
            self._next_departure = at + self.pacer.spacing(paid=paid)
            if at <= now:
                return
            await asyncio.sleep(at - now)
            if self.pacer.paused_for() <= 0:
                return

    async def _send(self, row: DueRow, ticket: Ticket) -> Outcome:
        messages = row.payload.get("messages", [])
        sent: list[dict[str, Any]] = []
        try:
            for index, message in enumerate(messages):
                if index:
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
            seconds = retry_seconds(exc._retry_after)  # the public one warns of a type change
            self._flooded(row.chat_id, seconds)
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
            if not never_arrived(exc):
                # The request may have reached Telegram: never send it twice.
                return Outcome(row.id, DeliveryState.SENT, unconfirmed=True, error=_uncertain(exc))
            if sent:
                return self._failed(row, "partly sent")
            if _unreachable(exc):
                # Nothing reached Telegram: the row waits for the outage to end, whatever
                # its tries so far (the outage, not the row, decides when it fails).
                self._outage_began(_cause(exc))
                return Outcome(row.id, DeliveryState.PENDING, retry_at=utcnow(), error=_cause(exc))
            self._outage_began(_cause(exc))
            return self._retry(row, exc.message)
        except TelegramError as exc:
            return self._failed(row, exc.message)
        message_id = sent[0].get("message_id") if sent else None
        return Outcome(row.id, DeliveryState.SENT, message_id=message_id, result=sent)

    def _flooded(self, chat_id: int, seconds: float) -> None:
        if self.pacer.flooded(chat_id, seconds):
            log.warning("outbox: 429, pausing all sends for %.0f s", seconds)
        else:
            log.info("outbox: 429 for one busy chat only; it waits %.0f s, others go on", seconds)

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

    # --- outages -----------------------------------------------------------------------------

    def _outage_began(self, cause: str) -> None:
        if self.outage is None:
            self.outage = Outage(since=self.pacer.now(), cause=cause)
            log.warning(
                "outbox: Telegram unreachable (%s); sends wait, next probe in %.0f s",
                cause,
                PROBE_FIRST,
            )

    async def _probe(self, outage: Outage) -> None:
        """One probe after the outage's interval: sending resumes if Telegram answers."""
        await _wait(self._stop, outage.interval)
        if self._stopping:
            return
        try:
            await self.bot.get_me()
        except NetworkError as exc:  # whatever the kind: no answer, still an outage
            outage.cause = _cause(exc)
            lasted = self.pacer.now() - outage.since
            outage.interval = min(PROBE_MAX, outage.interval * 2)
            if lasted >= self.outage_limit:
                await self._give_up(outage, lasted)
            log.warning(
                "outbox: Telegram still unreachable after %.0f s (%s); next probe in %.0f s",
                lasted,
                outage.cause,
                outage.interval,
            )
            return
        except TelegramError:
            pass  # Telegram answered, if not as hoped: it is reachable
        lasted = self.pacer.now() - outage.since
        log.warning("outbox: Telegram reachable again after %.0f s; sending resumes", lasted)
        self.outage = None
        self.wake()

    async def _give_up(self, outage: Outage, lasted: float) -> None:
        """The outage has outlasted SEND_OUTAGE_LIMIT: the rows waiting for it fail."""
        reason = f"Telegram unreachable for {lasted / 60:.0f} min: {outage.cause}"
        try:
            failed = await self.db.run(self._fail_waiting, reason=reason)
        except Exception:
            log.exception("outbox: failing the rows that waited out the outage failed")
            return
        if failed:
            outage.failed_rows += failed
            log.warning("outbox: %d rows failed after waiting %.0f s for Telegram", failed, lasted)

    @staticmethod
    def _fail_waiting(*, session: Session, reason: str) -> int:
        failed = outbox.fail_waiting(session=session, reason=reason[:200])
        outbox.finish_done(session=session)
        return failed

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


def never_arrived(exc: TelegramError) -> bool:
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
    return isinstance(exc, NetworkError)


def _unreachable(exc: NetworkError) -> bool:
    """Whether the request found no way to Telegram (refused, DNS, connect or pool time-out),
    rather than Telegram answering with an error of its own (a 5xx)."""
    return isinstance(exc.__cause__, httpx.TransportError) or (
        isinstance(exc, TimedOut) and "Pool timeout" in exc.message
    )


def _cause(exc: NetworkError) -> str:
    """What the logs and the rows name as an outage's cause."""
    cause = exc.__cause__
    if isinstance(cause, httpx.HTTPError):
        return f"{type(cause).__name__}: {cause}"[:150]
    return f"{type(exc).__name__}: {exc.message}"[:150]


def _uncertain(exc: NetworkError) -> str:
    cause = exc.__cause__
    kind = type(cause).__name__ if isinstance(cause, httpx.HTTPError) else type(exc).__name__
    return f"may have arrived: {kind}"


def retry_seconds(value: timedelta | float) -> float:
    # A timedelta in PTB 22.2 and later, a number of seconds before.
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
