"""PTB's AIORateLimiter, plus the one limit it leaves out: about one message a second per
private chat. A person who types ten messages in a second gets ten answers, spaced out,
instead of a 429 from Telegram."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

SENDS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendPoll", "copyMessage", "forwardMessage"}
)


class PoliteRateLimiter(AIORateLimiter):
    def __init__(self, *, private_burst: int = 5, max_retries: int = 3) -> None:
        # Telegram counts "30 a second" over any one-second window; a leaky bucket of 5
        # draining at 25/s never puts more than 30 into one, where PTB's default (a bucket
        # of 30 at 30/s) allows up to 60.
        super().__init__(overall_max_rate=5, overall_time_period=0.2, max_retries=max_retries)
        self._private_burst = private_burst
        self._private: dict[int, AsyncLimiter] = {}

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        chat_id = data.get("chat_id")
        if endpoint in SENDS and isinstance(chat_id, int) and chat_id > 0:
            limiter = self._private.get(chat_id)
            if limiter is None:
                # A leaky bucket: `burst` at once, then one a second.
                limiter = AsyncLimiter(self._private_burst, self._private_burst)
                if len(self._private) > 50_000:
                    self._private.clear()  # idle buckets are full anyway; bound the memory
                self._private[chat_id] = limiter
            async with limiter:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
