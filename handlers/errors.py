"""The last line of defence: log without personal data, apologise briefly."""

from __future__ import annotations

import logging
import traceback

from telegram import Update
from telegram.error import Forbidden, NetworkError, TelegramError

from bot.deps import BotContext
from handlers.common import HTML, was_answered

log = logging.getLogger(__name__)


async def on_error(update: object, ctx: BotContext) -> None:
    error = ctx.error
    update_id = update.update_id if isinstance(update, Update) else None
    # Only the error's type and the update id: messages and names are personal data.
    if isinstance(error, NetworkError | Forbidden):
        log.warning("update %s: %s", update_id, type(error).__name__)
        return
    # Where it failed, not what it was told: the frames name code, while the exception's
    # message could quote a member's input, so it stays out of the log.
    frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
    log.error("update %s failed: %s\n%s", update_id, type(error).__name__, frames)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    try:
        query = update.callback_query
        if query is not None and not was_answered(ctx, query.id):
            await query.answer()
        await ctx.bot.send_message(
            update.effective_chat.id, ctx.renderer.text("error", "id"), parse_mode=HTML
        )
    except TelegramError:
        pass
