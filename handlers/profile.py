"""A member's own data: /profil, /bahasa, /data_saya, /hapus_data."""

from __future__ import annotations

import logging

from telegram import InputFile, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.deps import BotApp, BotContext
from bot.core.render import LANGUAGES
from bot.members import accounts, privacy
from handlers.common import HTML, answer, current_member, edit, send, user_language

log = logging.getLogger(__name__)


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("profil", profile, filters=private))
    app.add_handler(CommandHandler("bahasa", language, filters=private))
    app.add_handler(CommandHandler("hapus_data", erase, filters=private))
    app.add_handler(CommandHandler("data_saya", export, filters=private))
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


async def export(update: Update, ctx: BotContext) -> None:
    user = update.effective_user
    assert user is not None and update.effective_chat is not None
    member = await current_member(update, ctx)
    draft = None if member else await accounts.draft(ctx.db, telegram_user_id=user.id)
    lang = member.language if member else (draft.language if draft else user_language(update))
    data = await privacy.export(ctx.db, telegram_user_id=user.id, now=ctx.deps.clock.now())
    if data is None:
        await send(update, ctx, "not_registered", lang)
        return
    await ctx.bot.send_document(
        update.effective_chat.id,
        InputFile(data, filename="data_saya_berakhlak.json"),
        caption=ctx.renderer.text("data_export", lang),
        parse_mode=HTML,
    )


async def erase(update: Update, ctx: BotContext) -> None:
    assert update.effective_user is not None
    member = await current_member(update, ctx)
    if member is None:
        # Someone who began registering has given their name and NIP already: those are
        # theirs to erase too, before they ever finish.
        draft = await accounts.draft(ctx.db, telegram_user_id=update.effective_user.id)
        if draft is None:
            await send(update, ctx, "not_registered", user_language(update))
            return
        rows = [
            [(ctx.renderer.label("erase_yes", draft.language), "del:yes")],
            [(ctx.renderer.label("cancel", draft.language), "del:no")],
        ]
        await send(update, ctx, "draft_erase_confirm", draft.language, rows=rows)
        return
    rows = [
        [(ctx.renderer.label("erase_yes", member.language), "del:yes")],
        [(ctx.renderer.label("cancel", member.language), "del:no")],
    ]
    await send(update, ctx, "erase_confirm", member.language, rows=rows)


async def on_erase(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    member = await current_member(update, ctx)
    draft = None if member else await accounts.draft(ctx.db, telegram_user_id=user.id)
    message = query.message if isinstance(query.message, Message) else None
    if (member is None and draft is None) or query.data not in ("del:yes", "del:no"):
        await answer(update, ctx, "button_stale", user_language(update))
        return
    lang = member.language if member else (draft.language if draft else user_language(update))
    await answer(update, ctx)
    if query.data == "del:no":
        await edit(message, ctx, "erase_cancelled", lang)
        return
    await privacy.erase(ctx.db, telegram_user_id=user.id)
    log.info("a person erased their personal data")
    await edit(message, ctx, "erased" if member else "draft_erased", lang)
