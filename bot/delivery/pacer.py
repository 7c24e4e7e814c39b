"""Telegram's flood limits, applied before a request leaves: never cause a 429.

Telegram counts a send when it *arrives*: at most 30 in any sliding second, a private chat
a short burst then one a second, a group 20 a minute. The bot only knows when a send left
and when its answer came back, and the time in between varies (the network, either side's
event loop stalling, jitter). So the pacer counts every send that left in the last second
(a deque of tickets, not a rate), allows one fewer than the limit in it, and keeps each
send in the count a little longer than a second: by a small fixed margin, and by however
much later than the quickest recent answer its own answer came. A send held up on the way
answers late, so it stays counted for as long as it may still be in Telegram's second;
when nothing is held up, the count is exact and the pacer runs at 29/1.005 s, 0.96 of 30/s.

Sends are spaced evenly on a grid at that rate, so that the second is not used up in a
burst; a send that comes late to its grid point (the sender was reading the database) may
catch up at up to twice the rate, so the time is not lost; the count is the only limit
that keeps Telegram's.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class Limits:
    """Configurable; the defaults are Telegram's published limits."""

    per_second: float = 30.0
    paid_per_second: float = 1000.0
    private_interval: float = 1.0
    # A private chat may take this many messages at once, then one per private_interval;
    # 3 is the strictest burst we know Telegram (or an emulator of it) to allow.
    private_burst: int = 3
    group_per_minute: int = 20
    max_in_flight: int = 16
    # Seconds a send stays counted beyond its second, for what its answer cannot show: the
    # clock's grain and the part of a round trip that comes after Telegram counted it.
    margin: float = 0.005
    # Added to each private_interval (and to a group's minute, tenfold): a chat's sends
    # are a second apart, so a tenth of one costs nothing and absorbs any jitter.
    chat_margin: float = 0.1


# A request unanswered this long has arrived long ago, or never will: stop counting it.
HUNG = 10.0
# How long the quickest answer is remembered as the network's own delay.
BASELINE_PERIOD = 10.0
# Private chats remembered before the idle ones are forgotten.
SWEEP_AT = 20_000
# After a 429, overall sends go one at a time (each waits for the answer before it) this long.
CAUTIOUS_FOR = 10.0
# Two chats with a 429 within this many seconds: the bot's overall limit, not a chat's.
FLOOD_WINDOW = 1.0


class Ticket:
    """One send's place in the count. `done()` when its answer (or error) is back; as a
    context manager it is done on exit. A ticket never done stops counting after HUNG."""

    __slots__ = ("_gate", "answered", "left")

    def __init__(self, gate: _Gate, left: float) -> None:
        self._gate = gate
        self.left = left
        self.answered: float | None = None

    def done(self) -> None:
        if self.answered is None:
            self._gate.answered(self)

    def leaving(self) -> None:
        """The request leaves now, later than its grant (the sender recorded it first): it is
        counted from now, so a commit's wait cannot let it arrive after the count forgot it."""
        self.left = max(self.left, self._gate.pacer.now())

    def __enter__(self) -> Ticket:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.done()


class _Gate:
    """One overall budget: at most `count` sends counted at once, granted first come, first
    served, on an even grid. Grants happen in a timer callback, never by sleeping per
    caller, so a hundred waiting replies cost one timer, not a hundred wake-ups."""

    def __init__(self, pacer: Pacer, per_second: float) -> None:
        self.pacer = pacer
        # "Under the limit": one fewer than it in any second.
        self.count = max(1, math.ceil(per_second) - 1)
        self.span = 1.0 + pacer.limits.margin
        self.base_interval = self.span / min(float(self.count), per_second)
        self.sent: deque[Ticket] = deque()
        self.next = 0.0  # the next grid point
        self.last = -math.inf  # the last grant
        self.waiters: deque[asyncio.Future[Ticket]] = deque()
        # A Handle when a look is due at once (call_soon), a TimerHandle when it is due later.
        self.timer: asyncio.Handle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.full = False  # the count, not the grid, holds the next send back

    # --- the count ---------------------------------------------------------------------------

    def expiry(self, ticket: Ticket, now: float) -> float:
        """Until when this send may still be inside Telegram's second."""
        arrived = self.pacer.arrived_by(ticket, now)
        return ticket.left if arrived is None else arrived + self.span

    def counted(self, now: float) -> list[float]:
        """When each send still counted stops counting (inf: may still arrive)."""
        sent = self.sent
        while sent and self.expiry(sent[0], now) <= now:
            sent.popleft()
        ends = []
        for ticket in sent:
            end = self.expiry(ticket, now)
            if end > now:
                ends.append(math.inf if ticket.answered is None else end)
        return ends

    def ready_at(self, now: float) -> float:
        """The earliest moment (>= now) the next send may leave."""
        interval = self.interval()
        at = max(now, self.pacer.paused_until, self.last + interval / 2)
        at = max(at, self.next)  # grid points are never skipped, only caught up
        self.full = False
        if self.pacer.cautious(self, at) and any(
            t.answered is None and now - t.left <= HUNG for t in self.sent
        ):
            # Shortly after a 429 one request at a time: one already on its way when the
            # next 429 is said would arrive inside that retry_after. Its answer wakes us.
            self.full = True
            return max(at, now + 0.05)
        if len(self.sent) >= self.count:  # cheap bound first: most grants stop here
            ends = self.counted(at)
            excess = len(ends) - self.count + 1
            if excess > 0:
                self.full = True
                ends.sort()
                free = ends[excess - 1]
                # Waiting for an answer: its arrival wakes us; look again meanwhile.
                at = free if free != math.inf else at + 0.05
        return at

    def interval(self) -> float:
        return self.base_interval / self.pacer.factor(self)

    def grant(self, now: float) -> Ticket:
        ticket = Ticket(self, now)
        self.sent.append(ticket)
        interval = self.interval()
        # A caller late to its grid point keeps the point (catch-up), but the grid never
        # lags more than a few sends behind: an idle pacer does not bank a burst.
        self.next = max(self.next, now - 4 * interval) + interval
        self.last = now
        return ticket

    def answered(self, ticket: Ticket) -> None:
        now = self.pacer.now()
        ticket.answered = now
        self.pacer.observe(now - ticket.left)
        if self.waiters and self.full:  # an answer can only bring a full count's end nearer
            self.kick()

    # --- waiting -----------------------------------------------------------------------------

    async def enter(self) -> Ticket:
        now = self.pacer.now()
        if not self.waiters and self.ready_at(now) <= now:
            return self.grant(now)
        loop = self.loop = asyncio.get_running_loop()
        future: asyncio.Future[Ticket] = loop.create_future()
        self.waiters.append(future)
        if self.timer is None:
            self.pump()
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                future.result().done()  # granted, then abandoned: counted as sent
            raise

    def kick(self) -> None:
        """Something changed (an answer, a pause): look again now rather than at the timer."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.waiters and self.loop is not None:
            self.timer = self.loop.call_soon(self.pump)

    def pump(self) -> None:
        self.timer = None
        waiters = self.waiters
        while waiters:
            future = waiters[0]
            if future.done():  # cancelled while waiting
                waiters.popleft()
                continue
            now = self.pacer.now()
            at = self.ready_at(now)
            if at > now:
                assert self.loop is not None
                self.timer = self.loop.call_later(at - now, self.pump)
                return
            waiters.popleft()
            future.set_result(self.grant(now))


class _Private:
    """A private chat's recent sends. Telegram's bucket (a burst, then one an interval) is
    replayed over the latest each may have arrived (GCRA): a burst held up on the way and
    arriving together with the next message would otherwise overdraw it."""

    __slots__ = ("reserved", "sent")

    def __init__(self) -> None:
        self.sent: deque[Ticket] = deque()
        self.reserved = 0  # sends promised this chat that wait for the overall budget

    def wait(self, pacer: Pacer, now: float) -> float:
        interval = pacer.limits.private_interval + pacer.limits.chat_margin
        due = -math.inf  # when the bucket is full again
        travelling = False
        for ticket in self.sent:
            arrived = pacer.arrived_by(ticket, now)
            if arrived is None:
                continue
            travelling = travelling or ticket.answered is None
            due = max(due, arrived) + interval
        if due <= now and not travelling:
            self.sent.clear()  # full again: the past no longer matters
        due = max(due, now) + self.reserved * interval
        return max(0.0, due - (pacer.limits.private_burst - 1) * interval - now)


class _Group:
    __slots__ = ("reserved", "sent")

    def __init__(self) -> None:
        self.sent: deque[float] = deque()
        self.reserved = 0

    def wait(self, now: float, limit: int, period: float) -> float:
        sent = self.sent
        while sent and sent[0] <= now - period:
            sent.popleft()
        index = len(sent) + self.reserved - limit
        if index < 0:
            return 0.0
        if index >= len(sent):
            return period  # every place is promised: look again later
        return max(0.0, sent[index] + period - now)


class Pacer:
    """One pacer serves the whole process: the outbox sender and the replies handlers send
    (through PoliteRateLimiter) draw on the same budget, so together they stay in limits.

    `send_slot(chat_id)` is the way to send: it waits for the chat's turn, promises the
    chat that place, waits for the overall budget and counts the chat's send at the moment
    it leaves (a place taken earlier would let two sends leave closer than it counted).
    The ticket it returns must be done when the answer is back."""

    def __init__(self, limits: Limits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.now = clock
        self.paused_until = 0.0
        self._overall = _Gate(self, limits.per_second)
        self._paid = _Gate(self, limits.paid_per_second)
        self._private: dict[int, _Private] = {}
        self._sweep_at = SWEEP_AT
        self._groups: dict[int, _Group] = {}
        # Chats Telegram asked us to leave alone for a while (a 429 for that chat only).
        self._held: dict[int, float] = {}
        # When each chat last had sends, for telling a chat's 429 from the bot's (the
        # buckets above forget a chat's past as soon as it no longer holds anything back).
        self._recent: dict[int, deque[float]] = {}
        self._recent_sweep_at = SWEEP_AT
        self._floods: deque[tuple[float, int | None]] = deque()
        self._factor = 1.0
        self._last_429 = -1e9
        # The quickest answer in this period and the last: the network's own delay.
        self._quickest = (math.inf, math.inf)
        self._period_ends = 0.0

    # --- the overall budget --------------------------------------------------------------

    async def slot(self, *, paid: bool = False) -> Ticket:
        """Wait for the next overall send slot (and for any retry_after to pass)."""
        return await (self._paid if paid else self._overall).enter()

    async def send_slot(self, chat_id: int | None, *, paid: bool = False) -> Ticket:
        """Wait until a message may leave for this chat, overall and for the chat itself."""
        if chat_id is None:
            return await self.slot(paid=paid)
        await self.chat_free(chat_id)
        chat = self._chat_state(chat_id)
        chat.reserved += 1
        try:
            ticket = await self.slot(paid=paid)
        finally:
            chat.reserved -= 1
        if isinstance(chat, _Private):
            chat.sent.append(ticket)
        else:
            chat.sent.append(ticket.left)
        self._remember(chat_id, ticket.left)
        return ticket

    def recent_sends(self, chat_id: int) -> int:
        """Sends to this chat within its burst's span (burst × interval): how hard we have
        been using its own limit lately."""
        recent = self._recent.get(chat_id)
        if not recent:
            return 0
        since = self.now() - self._burst_span()
        return sum(1 for at in recent if at >= since)

    def _burst_span(self) -> float:
        return self.limits.private_burst * (self.limits.private_interval + self.limits.chat_margin)

    def _remember(self, chat_id: int, at: float) -> None:
        recent = self._recent.get(chat_id)
        if recent is None:
            if len(self._recent) >= self._recent_sweep_at:
                since = at - self._burst_span()
                self._recent = {c: r for c, r in self._recent.items() if r[-1] >= since}
                # As for the buckets: not again until the map has doubled.
                self._recent_sweep_at = max(SWEEP_AT, 2 * len(self._recent))
            recent = self._recent[chat_id] = deque(maxlen=self.limits.private_burst)
        recent.append(at)

    def arrived_by(self, ticket: Ticket, now: float) -> float | None:
        """The latest this send may have reached Telegram, as far as we can tell at `now`:
        as late as its answer was slower than the quickest lately; if it is still
        travelling, now. None: unanswered for so long that it no longer counts."""
        if ticket.answered is None:
            return now if now - ticket.left <= HUNG else None
        return ticket.left + max(0.0, ticket.answered - ticket.left - self.baseline())

    def baseline(self) -> float:
        """The quickest answer lately: what every send takes anyway, not a delay."""
        quickest = min(self._quickest)
        return 0.0 if quickest == math.inf else quickest

    def observe(self, seconds: float) -> None:
        now = self.now()
        current, previous = self._quickest
        if now >= self._period_ends:
            current, previous = math.inf, current
            self._period_ends = now + BASELINE_PERIOD
        self._quickest = (min(current, seconds), previous)

    # --- chats -------------------------------------------------------------------------------

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until this chat may get its next delivery (0: now)."""
        now = self.now()
        held = 0.0
        if self._held:
            until = self._held.get(chat_id)
            if until is not None:
                held = until - now
                if held <= 0:
                    del self._held[chat_id]
        return max(held, self._chat_limit_wait(chat_id, now))

    def _chat_limit_wait(self, chat_id: int, now: float) -> float:
        limits = self.limits
        if chat_id > 0:
            state = self._private.get(chat_id)
            return 0.0 if state is None else state.wait(self, now)
        group = self._groups.get(chat_id)
        if group is None:
            return 0.0
        return group.wait(now, limits.group_per_minute, 60.0 + 10 * limits.chat_margin)

    def hold_chat(self, chat_id: int, seconds: float) -> None:
        """A 429 for this chat alone: its sends wait `seconds`, the others go on."""
        self._held[chat_id] = max(self._held.get(chat_id, 0.0), self.now() + seconds)

    async def unheld(self, chat_id: int) -> None:
        """Until a hold on this chat (its own 429) has passed; its pacing aside."""
        while (until := self._held.get(chat_id, 0.0)) > self.now():  # noqa: ASYNC110
            await asyncio.sleep(until - self.now())

    def flooded(self, chat_id: int | None, seconds: float) -> bool:
        """A 429 came back for a request to this chat. Telegram does not say whose limit it
        was, so the evidence decides: a chat we have been using up to its own limit (a
        burst's worth of sends within the burst's span), with no other chat flooded within
        FLOOD_WINDOW, is held alone; anything else pauses every send. True when everything
        pauses (erring that way: sending on into the bot's own retry_after gets a bot
        throttled for longer)."""
        now = self.now()
        recent = self._floods
        while recent and recent[0][0] < now - FLOOD_WINDOW:
            recent.popleft()
        others = any(chat != chat_id for _, chat in recent)
        recent.append((now, chat_id))
        busy = chat_id is not None and self.recent_sends(chat_id) >= self.limits.private_burst
        if others or not busy or chat_id is None:
            self.pause(seconds)
            return True
        self.hold_chat(chat_id, seconds)
        return False

    async def chat_free(self, chat_id: int) -> None:
        """Until this chat may get a message (without taking it)."""
        while (wait := self.chat_wait(chat_id)) > 0:  # noqa: ASYNC110 - a clock, no event
            await asyncio.sleep(wait)

    def _chat_state(self, chat_id: int) -> _Private | _Group:
        if chat_id > 0:
            state = self._private.get(chat_id)
            if state is None:
                if len(self._private) >= self._sweep_at:
                    self._forget_idle()
                state = self._private[chat_id] = _Private()
            return state
        return self._groups.setdefault(chat_id, _Group())

    def _forget_idle(self) -> None:
        # A chat whose bucket is full again and that nobody waits for is as good as new.
        now = self.now()
        self._private = {
            c: s for c, s in self._private.items() if s.wait(self, now) > 0 or s.sent or s.reserved
        }
        # Not again until the map has doubled: a sweep that frees little must stay rare.
        self._sweep_at = max(SWEEP_AT, 2 * len(self._private))

    # --- 429s ------------------------------------------------------------------------------

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.now() + seconds)
        self.throttled()
        self._overall.kick()
        self._paid.kick()

    def paused_for(self) -> float:
        return max(0.0, self.paused_until - self.now())

    async def unpaused(self) -> None:
        while (paused := self.paused_for()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(paused)

    def spacing(self, *, paid: bool = False) -> float:
        """The least time between two requests leaving: the rate's even share of a second,
        longer while the rate is lowered after a 429."""
        gate = self._paid if paid else self._overall
        rate = self.limits.paid_per_second if paid else self.limits.per_second
        return 1.0 / rate / self.factor(gate)

    def cautious(self, gate: _Gate, now: float) -> bool:
        """Within CAUTIOUS_FOR of a 429 (paid broadcasts aside)."""
        return gate is not self._paid and now - self._last_429 < CAUTIOUS_FOR

    def factor(self, gate: _Gate) -> float:
        """After a 429 the overall rate drops by a tenth, and recovers over half a minute
        (paid broadcasts keep their rate: their limit is Telegram's to lift)."""
        if gate is self._paid:
            return 1.0
        since = self.now() - self._last_429
        return min(1.0, self._factor + (1.0 - self._factor) * since / 30.0)

    def throttled(self) -> None:
        """A 429 came back: slow down for a while (stalls on this host are likely)."""
        self._factor = max(0.5, self.factor(self._overall) * 0.9)
        self._last_429 = self.now()
