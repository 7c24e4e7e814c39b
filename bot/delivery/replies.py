"""The replies handlers send, paced by the same Pacer as the outbox sender: one budget for
Telegram's 30 a second overall, a private chat's short burst then one a second, and a
group's 20 a minute. Two separate budgets would add up past the limits.

A reply waits its turn rather than being dropped: a person typing fast gets three answers
at once, then one a second and a little, which is as fast as Telegram lets a bot answer.
Each reply's ticket is done when Telegram's answer is back, so a reply held up on the way
stays counted in the pacer's second for as long as it may still be in Telegram's.

A 429 pauses the shared pacer for its retry_after, so neither the replies nor the outbox
send anything until it has passed, unless the evidence says it was one busy chat's own flood
control (Pacer.flooded): then only that chat waits. The request is then retried (up to
`max_retries`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.pacer import Pacer

log = logging.getLogger(__name__)

# Every method that posts a message counts toward Telegram's limits, as the sandbox counts.
SENDS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendAudio",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendSticker",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)


class PoliteRateLimiter(BaseRateLimiter[int]):
    def __init__(self, pacer: Pacer, *, max_retries: int = 3) -> None:
        self.pacer = pacer
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up: the pacer is shared and lives as long as the application."""

    async def shutdown(self) -> None:
        """Nothing to release."""

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
        # A chat named "@channel" still counts overall; only numeric ids have a chat budget.
        chat = chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else None
        paid = bool(data.get("allow_paid_broadcast"))
        retries = rate_limit_args if rate_limit_args is not None else self.max_retries
        for attempt in range(retries + 1):
            try:
                if endpoint in SENDS:
                    with await self.pacer.send_slot(chat, paid=paid):
                        return await callback(*args, **kwargs)
                await self.pacer.unpaused()
                if chat is not None:
                    await self.pacer.unheld(chat)
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                # The public one warns of a type change: a timedelta from PTB 22.2, seconds before.
                seconds: timedelta | float = exc._retry_after
                wait = (
                    seconds.total_seconds() if isinstance(seconds, timedelta) else seconds
                ) + 0.1
                if self.pacer.flooded(chat, float(wait)):
                    log.warning("429 on %s: all sends pause for %.1f s", endpoint, wait)
                else:
                    log.info("429 on %s for one busy chat: it waits %.1f s", endpoint, wait)
                if attempt == retries:
                    raise
        return None
