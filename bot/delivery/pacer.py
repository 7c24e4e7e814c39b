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
    group_per_minute: int = 20
    max_in_flight: int = 16
    # Telegram counts over any one-second window and requests arrive with jitter, so the
    # pacer aims a little below the limit.
    safety: float = 0.98


class Pacer:
    """Spaces sends evenly: an even spacing never puts more than the limit into any one
    second, where a token bucket of the same rate allows a double burst. Per chat it keeps
    one delivery a second for a private chat and 20 a minute for a group, and during a
    retry_after nothing leaves at all."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._next = 0.0
        self._paused_until = 0.0
        self._private: dict[int, float] = {}
        self._groups: dict[int, deque[float]] = {}

    @staticmethod
    def now() -> float:
        return time.monotonic()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.now() + seconds)

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self.now())

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until this chat may get its next delivery (0: now)."""
        now = self.now()
        if chat_id > 0:
            return max(0.0, self._private.get(chat_id, 0.0) - now)
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
            self._private[chat_id] = now + self.limits.private_interval
            if len(self._private) > 100_000:
                self._private = {c: t for c, t in self._private.items() if t > now}
        else:
            self._groups.setdefault(chat_id, deque()).append(now)

    async def slot(self, *, paid: bool = False) -> None:
        """Wait for the next global send slot, and for any retry_after to pass (a 429 may
        arrive while we wait for the slot: then we wait again)."""
        rate = (self.limits.paid_per_second if paid else self.limits.per_second) * (
            self.limits.safety
        )
        while True:
            # A further 429 may extend the pause while we sleep, hence the loop.
            while (paused := self.paused_for()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(paused)
            now = self.now()
            # Reserving synchronously (no await in between) keeps concurrent callers in order.
            slot = max(now, self._next)
            self._next = slot + 1.0 / rate
            if slot > now:
                await asyncio.sleep(slot - now)
            if self.paused_for() == 0:
                return
