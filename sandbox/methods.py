"""Method dispatch: flood control for sends, then the implementation from the registry.

The implementations live in modules named for what they cover: ``updates`` (getUpdates and
webhooks), ``messaging`` (sending, editing, deleting, files, callback answers), ``polls`` and
``chats`` (the bot, chats, members, pins, commands). Importing them fills ``HANDLERS``.
"""

from __future__ import annotations

from typing import Any

from sandbox import chats, messaging, polls, updates  # noqa: F401  (register handlers)
from sandbox.errors import ApiError
from sandbox.ratelimit import SEND_METHODS
from sandbox.registry import HANDLERS, Ctx, not_implemented

JSON = dict[str, Any]


async def dispatch(ctx: Ctx, method: str, params: JSON) -> Any:
    handler = HANDLERS.get(method)
    if handler is None:
        raise not_implemented(method)
    if method in SEND_METHODS:
        _count_send(ctx, params)
    return await handler(ctx, params)


def _count_send(ctx: Ctx, params: JSON) -> None:
    try:
        chat = ctx.chat(params["chat_id"])
    except (ApiError, KeyError):
        return  # the handler reports the chat error; failed sends do not count
    paid = bool(params.get("allow_paid_broadcast"))
    ctx.bot.limiter.check_send(chat.id, chat.type, paid=paid)


def implemented_methods() -> list[str]:
    return sorted(HANDLERS)
