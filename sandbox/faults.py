"""Fault injection: make Telegram fail on purpose, so tests can watch the bot cope.

A fault is armed for the next ``times`` calls of one Bot API method, optionally only those
aimed at one chat (``chat_id``, or for ``answerCallbackQuery`` the chat of the pressed
button), after letting the first ``after`` of them through (to hit, say, the second message
of a reply). Each call it catches then, instead of taking effect:

* ``error``: answers with ``error_code`` and ``description`` like Telegram (400, 403, 429
  with ``retry_after``, 500, ...);
* ``hang``: waits ``hang`` seconds first (long enough, the client times out); the call then
  takes effect anyway, as a request Telegram received but answered too late does, unless
  ``deliver`` is false, in which case the connection is dropped after the wait;
* ``drop``: closes the connection without an answer (the client sees a network error);
* ``lose_reply``: the call takes effect, then the connection is closed before the answer,
  as when a reset hits after Telegram received the request: the client cannot tell it
  from ``drop``, but the message is there.

A 429 may also be a ``flood``: ``"chat"`` is Telegram's flood control for the one chat
the call was aimed at (``chat_id`` required), ``"global"`` the bot's overall limit. Either
way the sandbox then holds that scope for ``retry_after`` seconds as its own rate limiter
does, so a send into it (to that chat, or to any chat) is refused again and recorded as a
violation ("ignored retry_after"), while a send elsewhere goes through. Telegram's answer
looks the same for both: the bot has to tell them apart by what else happens.

While the sandbox refuses connections (``Sandbox.refuse_connections``, until
``accept_connections``) Telegram is unreachable: nothing listens on its port and the open
connections are closed, as in a network outage or a DNS failure.

Injected faults are recorded in ``Sandbox.calls`` (status 0 for a dropped connection) and
in ``Sandbox.events`` (kind ``injected_fault``), never as violations: the bot did nothing
wrong. The request is still validated first, so a malformed call remains a violation.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from sandbox.errors import ApiError

JSON = dict[str, Any]

# Telegram's descriptions start with the status's phrase; an injected one gets it too.
PREFIXES = {400: "Bad Request: ", 403: "Forbidden: ", 429: "Too Many Requests: "}
DEFAULTS = {
    400: "Bad Request: injected fault",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
}


@dataclass
class Fault:
    """One armed fault; ``times`` counts the calls it still catches."""

    method: str
    times: int = 1
    chat_id: int | None = None
    error_code: int | None = None
    description: str | None = None
    retry_after: int | None = None
    hang: float | None = None
    deliver: bool = True
    drop: bool = False
    lose_reply: bool = False
    after: int = 0
    flood: str | None = None

    def __post_init__(self) -> None:
        actions = sum(
            (self.error_code is not None, self.hang is not None, self.drop, self.lose_reply)
        )
        if actions != 1:
            raise ValueError("a fault needs exactly one of error_code, hang, drop or lose_reply")
        if self.times < 1:
            raise ValueError("times must be at least 1")
        if self.after < 0:
            raise ValueError("after must not be negative")
        if self.error_code is not None:
            if not 400 <= self.error_code <= 599:
                raise ValueError("error_code must be a 4xx or 5xx status")
            if self.error_code == 429 and self.retry_after is None:
                raise ValueError("a 429 needs retry_after")
        if self.hang is not None and self.hang < 0:
            raise ValueError("hang must not be negative")
        if self.flood is not None:
            if self.error_code != 429:
                raise ValueError("a flood is a 429")
            if self.flood not in ("chat", "global"):
                raise ValueError('flood is "chat" or "global"')
            if self.flood == "chat" and self.chat_id is None:
                raise ValueError("a chat's flood needs chat_id")

    def matches(self, method: str, chat_id: int | None) -> bool:
        # Telegram's method names are case-insensitive.
        if method.lower() != self.method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def error(self) -> ApiError:
        assert self.error_code is not None
        prefix = PREFIXES.get(self.error_code, "")
        text = self.description
        if text is None:
            text = DEFAULTS.get(self.error_code, f"Error {self.error_code}")
            if self.error_code == 429:
                text = f"Too Many Requests: retry after {self.retry_after}"
        elif prefix and not text.startswith(prefix):
            text = prefix + text
        return ApiError(self.error_code, text, retry_after=self.retry_after, violation=False)

    def summary(self) -> str:
        if self.drop:
            return "connection dropped"
        if self.lose_reply:
            return "delivered, then the connection dropped before the answer"
        if self.hang is not None:
            return f"hung {self.hang:g} s" + ("" if self.deliver else ", then dropped")
        flood = f" ({self.flood} flood)" if self.flood else ""
        return f"{self.error_code} {self.error().description}{flood}"

    def scope(self) -> str | None:
        """The rate-limit scope a flood holds: one chat's, or the bot's overall one."""
        if self.flood == "chat":
            return f"chat:{self.chat_id}"
        return "global" if self.flood == "global" else None

    def to_json(self) -> JSON:
        return asdict(self)


class Faults:
    """The armed faults of one sandbox, first armed first served."""

    def __init__(self) -> None:
        self.pending: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self.pending.append(fault)
        return fault

    def clear(self) -> None:
        self.pending.clear()

    def take(self, method: str, chat_id: int | None) -> Fault | None:
        """The fault that catches this call, if any, counting it."""
        for fault in self.pending:
            if fault.matches(method, chat_id):
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.times -= 1
                if fault.times == 0:
                    self.pending.remove(fault)
                return fault
        return None


class Dropped(Exception):
    """Raised by the server's hook: close the connection without an answer."""


async def apply(fault: Fault) -> bool:
    """Act out a fault before the method runs: raise its error, wait, or ask for a drop.

    Returns True when the method should then run as usual (a hang that delivers).
    """
    if fault.drop:
        raise Dropped
    if fault.hang is not None:
        await asyncio.sleep(fault.hang)
        if not fault.deliver:
            raise Dropped
        return True
    raise fault.error()


def target_chat(params: JSON, callbacks: dict[str, Any]) -> int | None:
    """The chat a call is aimed at: ``chat_id``, or the chat of the answered button."""
    value = params.get("chat_id")
    if value is None and params.get("callback_query_id") is not None:
        record = callbacks.get(str(params["callback_query_id"]))
        return record.chat_id if record is not None else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


__all__ = ["Dropped", "Fault", "Faults", "apply", "target_chat"]
