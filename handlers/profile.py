"""A member's own data: /profil, /bahasa, /hapus_data."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.deps import BotApp, BotContext
from bot.core.render import LANGUAGES
from bot.members import accounts
from handlers.common import answer, current_member, edit, send, user_language

log = logging.getLogger(__name__)


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("profil", profile, filters=private))
    app.add_handler(CommandHandler("bahasa", language, filters=private))
    app.add_handler(CommandHandler("hapus_data", erase, filters=private))
    app.add_handler(CallbackQueryHandler(on_language, pattern=r"^lang:"))
    app.add_handler(CallbackQueryHandler(on_erase, pattern=r"^del:"))


async def profile(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    await send(update, ctx, "profile", member.language, member=member)


async def language(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    lang = member.language if member else user_language(update)
    if member is None:
        await send(update, ctx, "not_registered", lang)
        return
    rows = [[(ctx.renderer.label(f"lang_{code}", lang), f"lang:{code}") for code in LANGUAGES]]
    await send(update, ctx, "ask_language", lang, rows=rows)


async def on_language(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    code = (query.data or "").removeprefix("lang:")
    member = await current_member(update, ctx)
    if member is None or code not in LANGUAGES:
        await answer(update, ctx, "button_stale", member.language if member else "id")
        return
    await answer(update, ctx)
    await accounts.set_language(ctx.db, telegram_user_id=member.telegram_user_id, language=code)
    message = query.message if isinstance(query.message, Message) else None
    await edit(message, ctx, "language_set", code)


async def erase(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    rows = [
        [(ctx.renderer.label("erase_yes", member.language), "del:yes")],
        [(ctx.renderer.label("cancel", member.language), "del:no")],
    ]
    await send(update, ctx, "erase_confirm", member.language, rows=rows)


async def on_erase(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    member = await current_member(update, ctx)
    message = query.message if isinstance(query.message, Message) else None
    if member is None or query.data not in ("del:yes", "del:no"):
        await answer(update, ctx, "button_stale", user_language(update))
        return
    await answer(update, ctx)
    if query.data == "del:no":
        await edit(message, ctx, "erase_cancelled", member.language)
        return
    await accounts.erase(ctx.db, telegram_user_id=update.effective_user.id)
    log.info("a member erased their personal data")
    await edit(message, ctx, "erased", member.language)
