"""Telegram's flood limits, applied before a request leaves: never cause a 429."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Configurable; the defaults are Telegram's published limits."""

    per_second: float = 30.0
    paid_per_second: float = 1000.0
    private_interval: float = 1.0
    # A private chat may take this many messages at once, then one per private_interval
    # (Telegram tolerates short bursts; the sandbox models them as a bucket of 10).
    private_burst: int = 4
    group_per_minute: int = 20
    max_in_flight: int = 16
    # Telegram counts over any one-second window and requests arrive with jitter, so the
    # pacer aims a little below the limit.
    safety: float = 0.98


# Telegram counts sends over any one-second window as they arrive; requests that leave
# here a few milliseconds apart can arrive closer together, so the window we count in is a
# little longer than a second.
WINDOW = 1.025


class Pacer:
    """Spaces sends evenly: an even spacing never puts more than the limit into any one
    second, where a token bucket of the same rate allows a double burst. Per chat it keeps
    a private chat to a short burst then one a second, a group to 20 a minute, and during
    a retry_after nothing leaves at all.

    One pacer serves the whole process: the outbox sender and the replies handlers send
    (through PoliteRateLimiter) draw on the same budget, so together they stay in limits."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._next = 0.0
        self._paused_until = 0.0
        # chat -> (tokens left, when counted)
        self._private: dict[int, tuple[float, float]] = {}
        self._groups: dict[int, deque[float]] = {}
        self._left: deque[float] = deque()  # when the sends of the last second left
        self._factor = 1.0
        self._last_429 = -1e9

    @staticmethod
    def now() -> float:
        return time.monotonic()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.now() + seconds)
        self.throttled()

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self.now())

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until this chat may get its next delivery (0: now)."""
        now = self.now()
        if chat_id > 0:
            tokens = self._tokens(chat_id, now)
            return 0.0 if tokens >= 1.0 else (1.0 - tokens) * self.limits.private_interval
        window = self._groups.get(chat_id)
        if window is None:
            return 0.0
        while window and window[0] <= now - 60.0:
            window.popleft()
        if len(window) < self.limits.group_per_minute:
            return 0.0
        return max(0.0, window[0] + 60.0 - now)

    def take_chat(self, chat_id: int) -> None:
        now = self.now()
        if chat_id > 0:
            self._private[chat_id] = (self._tokens(chat_id, now) - 1.0, now)
            if len(self._private) > 100_000:
                # A chat idle for a whole burst's refill is full again: forget it.
                horizon = self.limits.private_burst * self.limits.private_interval
                self._private = {c: v for c, v in self._private.items() if now - v[1] < horizon}
        else:
            self._groups.setdefault(chat_id, deque()).append(now)

    def _tokens(self, chat_id: int, now: float) -> float:
        burst = float(self.limits.private_burst)
        left, at = self._private.get(chat_id, (burst, now))
        return min(burst, left + (now - at) / self.limits.private_interval)

    async def unpaused(self) -> None:
        while (paused := self.paused_for()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(paused)

    async def chat_slot(self, chat_id: int) -> None:
        """Wait until this chat may get a message, and take it."""
        while (wait := self.chat_wait(chat_id)) > 0:  # noqa: ASYNC110 - a clock, no event
            await asyncio.sleep(wait)
        self.take_chat(chat_id)

    async def slot(self, *, paid: bool = False) -> None:
        """Wait for the next global send slot, and for any retry_after to pass (a 429 may
        arrive while we wait for the slot: then we wait again).

        Even spacing alone is not enough when the event loop stalls: the sends due during
        a stall all leave together when it ends. So the sends that actually left in the last
        second (WINDOW) are counted too, and one more waits if they are one short of the limit."""
        limit = self.limits.paid_per_second if paid else self.limits.per_second
        while True:
            # A further 429 may extend the pause while we sleep, hence the loop.
            while (paused := self.paused_for()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(paused)
            rate = limit * self.limits.safety * (1.0 if paid else self._slowdown())
            now = self.now()
            # Reserving synchronously (no await in between) keeps concurrent callers in order.
            slot = max(now, self._next)
            self._next = slot + 1.0 / rate
            if slot > now:
                await asyncio.sleep(slot - now)
            if self.paused_for() > 0:
                continue
            if paid:
                return
            now = self.now()
            window = self._left
            while window and window[0] <= now - WINDOW:
                window.popleft()
            if len(window) < int(limit) - 1:
                window.append(now)
                return
            self._next = max(self._next, window[0] + WINDOW)

    def _slowdown(self) -> float:
        """After a 429 the overall rate drops by a tenth, and recovers over half a minute."""
        since = self.now() - self._last_429
        return min(1.0, self._factor + (1.0 - self._factor) * since / 30.0)

    def throttled(self) -> None:
        """A 429 came back: slow down for a while (stalls on this host are likely)."""
        self._factor = max(0.5, self._slowdown() * 0.9)
        self._last_429 = self.now()
