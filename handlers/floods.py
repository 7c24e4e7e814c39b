"""What a person hears when their updates come faster than the bot keeps them waiting
(`bot.app.updates.PerUserUpdateProcessor` drops the excess unread)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType

from bot.core.deps import BotApp, BotContext
from handlers.common import answer, current_member, send, user_language

log = logging.getLogger(__name__)


async def on_dropped(app: BotApp, update: object, first: bool) -> None:
    """One notice per burst, in the private chat; every dropped button is answered, the
    first with the notice, the others silently, so no spinner waits on a press we ignored."""
    if not isinstance(update, Update):
        return
    ctx = BotContext.from_update(update, app)
    lang = user_language(update)
    if first:
        # Once per burst, so one read is affordable: the member's own language.
        member = await current_member(update, ctx)
        lang = member.language if member else lang
    if update.callback_query is not None:
        await answer(update, ctx, "flood_notice" if first else None, lang)
        return
    chat = update.effective_chat
    if not first or chat is None:
        return
    if chat.type != ChatType.PRIVATE:
        log.info("a flood in a group: dropped without a notice")
        return
    await send(update, ctx, "flood_notice", lang)
