"""Telegram's flood limits for bots, enforced per bot token.

Numbers follow the Bot FAQ: about 30 messages per second overall (1000 with
``allow_paid_broadcast``), one message per second in a private chat with short bursts
tolerated (modelled as a token bucket), 20 messages per minute in a group. A send made
while an earlier ``retry_after`` for the same scope is still running is refused again and
flagged as "ignored retry_after", because that is what gets bots throttled for longer.

Sends are counted when their request is handled, which is when it arrives: aiohttp starts
each handler eagerly, and nothing awaits between the body being read and the count. The
overall limit is a sliding window, closed at both ends: 30 sends in any one second, the
31st within it refused, however the seconds are cut.

``STRICT`` is as strict as the strictest emulator we know of (a private chat's burst is 3,
then one a second); the default keeps a burst of 10, which the sandbox's own tests assume.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

from sandbox.errors import ApiError

# Methods that post a new message and therefore count toward the sending limits.
SEND_METHODS: frozenset[str] = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendAudio",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendPaidMedia",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendChecklist",
        "sendDice",
        "sendSticker",
        "sendInvoice",
        "sendGame",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)


@dataclass(frozen=True)
class RateLimits:
    """Flood-control parameters; the defaults are Telegram's published limits."""

    global_per_second: int = 30
    paid_per_second: int = 1000
    private_burst: int = 10
    private_refill_per_second: float = 1.0
    group_per_window: int = 20
    group_window_seconds: float = 60.0
    max_inflight: int = 100


# A private chat may have 3 messages at once, then one a second; everything else as above.
STRICT = RateLimits(private_burst=3)


def too_many(retry_after: float, note: str | None = None) -> ApiError:
    seconds = max(1, math.ceil(retry_after))
    error = ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)
    if note:
        error.extra["note"] = note
    return error


class _Window:
    """At most ``limit`` events in any ``period``-second sliding window."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.stamps: deque[float] = deque()

    def wait_needed(self, now: float) -> float:
        # A send exactly `period` ago still counts: the strictest reading of "any second".
        while self.stamps and self.stamps[0] < now - self.period:
            self.stamps.popleft()
        if len(self.stamps) < self.limit:
            return 0.0
        # Full, even if the oldest leaves at this very instant (the window is closed).
        return max(1e-9, self.stamps[0] + self.period - now)

    def take(self, now: float) -> None:
        self.stamps.append(now)


class _Bucket:
    """Token bucket: ``burst`` sends at once, then ``rate`` per second."""

    def __init__(self, burst: int, rate: float, now: float) -> None:
        self.burst = burst
        self.rate = rate
        self.tokens = float(burst)
        self.stamp = now

    def wait_needed(self, now: float) -> float:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self.tokens -= 1


class RateLimiter:
    """Per-bot limiter; ``limits=None`` switches every check off."""

    def __init__(self, limits: RateLimits | None) -> None:
        self.limits = limits
        self._global = _Window(limits.global_per_second, 1.0) if limits else None
        self._paid = _Window(limits.paid_per_second, 1.0) if limits else None
        self._chats: dict[int, _Window | _Bucket] = {}
        self._blocked_until: dict[str, float] = {}
        # The most sends ever counted in one sliding second (not paid): how close a bot came.
        self.peak_per_second = 0

    def check_send(
        self, chat_id: int | None, chat_type: str | None, *, paid: bool, now: float | None = None
    ) -> None:
        """Count one send, or raise the 429 Telegram would answer. `now` (monotonic seconds)
        is for tests that replay a timeline; the server counts at arrival."""
        if now is None:
            now = time.monotonic()
        # A scope held by an injected flood is held even with the limits switched off.
        overall = "paid" if paid else "global"
        scopes = [overall] + ([f"chat:{chat_id}"] if chat_id is not None else [])
        for scope in scopes:
            until = self._blocked_until.get(scope, 0.0)
            if now < until:
                raise too_many(until - now, "ignored retry_after")
        limits = self.limits
        if limits is None or self._global is None or self._paid is None:
            return
        window = self._paid if paid else self._global
        wait = window.wait_needed(now)
        if wait > 0:
            raise self._block(overall, now, wait)
        chat_limit = self._chat_limit(chat_id, chat_type, now)
        if chat_limit is not None:
            wait = chat_limit.wait_needed(now)
            if wait > 0:
                raise self._block(f"chat:{chat_id}", now, wait)
            chat_limit.take(now)
        window.take(now)
        if not paid:
            self.peak_per_second = max(self.peak_per_second, len(window.stamps))

    def _chat_limit(
        self, chat_id: int | None, chat_type: str | None, now: float
    ) -> _Window | _Bucket | None:
        limits = self.limits
        if chat_id is None or chat_type is None or limits is None:
            return None
        limit = self._chats.get(chat_id)
        if limit is None:
            if chat_type == "private":
                limit = _Bucket(limits.private_burst, limits.private_refill_per_second, now)
            else:
                limit = _Window(limits.group_per_window, limits.group_window_seconds)
            self._chats[chat_id] = limit
        return limit

    def _block(self, scope: str, now: float, wait: float) -> ApiError:
        error = too_many(wait)
        assert error.retry_after is not None
        self._blocked_until[scope] = now + error.retry_after
        return error

    def hold(self, scope: str, seconds: float) -> None:
        """Refuse sends in this scope ("global", "paid" or "chat:<id>") for `seconds`, as
        after a 429 Telegram gave for it (an injected flood)."""
        until = time.monotonic() + seconds
        self._blocked_until[scope] = max(self._blocked_until.get(scope, 0.0), until)
        if scope == "global":
            self._blocked_until["paid"] = max(self._blocked_until.get("paid", 0.0), until)

    def check_inflight(self, inflight: int) -> None:
        if self.limits is not None and inflight > self.limits.max_inflight:
            raise too_many(1, "too many concurrent requests")
