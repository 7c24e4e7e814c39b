"""A member blocks or unblocks the bot: Telegram tells us with my_chat_member."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import ChatMemberHandler

from bot.core.deps import BotApp, BotContext
from bot.members import accounts

log = logging.getLogger(__name__)


def register(app: BotApp) -> None:
    app.add_handler(ChatMemberHandler(on_my_status, ChatMemberHandler.MY_CHAT_MEMBER))


async def on_my_status(update: Update, ctx: BotContext) -> None:
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    reachable = change.new_chat_member.status not in (ChatMember.BANNED, ChatMember.LEFT)
    updated = await accounts.set_reachable(
        ctx.db, telegram_user_id=change.from_user.id, reachable=reachable
    )
    if updated:
        log.info("a member %s the bot", "unblocked" if reachable else "blocked")
