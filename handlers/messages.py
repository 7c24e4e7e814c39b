"""Everything typed in a private chat that is not a command, and commands we do not know."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.core.deps import BotApp, BotContext
from bot.members import accounts
from bot.members.accounts import ADMIN_ROLES
from handlers import (
    appreciation,
    broadcast,
    ideas,
    reflections,
    registration,
    stories,
    unit_heads,
)
from handlers.common import answer, current_member, send, user_language


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("batal", cancel, filters=private))
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    app.add_handler(
        MessageHandler(private & ~filters.COMMAND & ~filters.StatusUpdate.ALL, on_message),
    )
    app.add_handler(CallbackQueryHandler(unknown_button))


async def on_message(update: Update, ctx: BotContext) -> None:
    user = update.effective_user
    assert user is not None
    draft = await accounts.draft(ctx.db, telegram_user_id=user.id)
    # A member's unit change waiting for HR owns no text: their reflections go on.
    if draft is not None and not (draft.purpose == "change_unit" and draft.step == "pending"):
        await registration.on_text(update, ctx, draft)
        return
    member = await current_member(update, ctx)
    if member is not None and member.role in ADMIN_ROLES and broadcast.composing(ctx):
        await broadcast.on_admin_message(update, ctx, member)
        return
    if member is not None and member.role in ADMIN_ROLES and unit_heads.composing(ctx):
        await unit_heads.on_text(update, ctx, member)
        return
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    if ideas.composing(ctx):
        await ideas.on_text(update, ctx, member)
        return
    if appreciation.composing(ctx):
        await appreciation.on_text(update, ctx, member)
        return
    if stories.composing(ctx):
        await stories.on_message(update, ctx, member)
        return
    await reflections.on_reflection(update, ctx, member)


async def unknown_button(update: Update, ctx: BotContext) -> None:
    """Callback data no feature claims: an old version's button or a forged one."""
    member = await current_member(update, ctx)
    await answer(update, ctx, "button_unknown", member.language if member else "id")


async def unknown_command(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    lang = member.language if member else user_language(update)
    await send(update, ctx, "unknown_command", lang, registered=member is not None)


async def cancel(update: Update, ctx: BotContext) -> None:
    """/batal: abandon whatever is being written (an idea, a thanks, a story, a head's name)."""
    member = await current_member(update, ctx)
    lang = member.language if member else user_language(update)
    if ctx.user_data is not None:
        for key in (ideas.KEY, appreciation.KEY, stories.KEY, unit_heads.KEY):
            ctx.user_data.pop(key, None)
    await send(update, ctx, "idea_cancelled", lang)
