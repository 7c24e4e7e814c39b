"""/apresiasi NAMA: thank a colleague for living a value (pick them, pick the value, write
why); the colleague is told in their private chat."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.appreciation import service
from bot.core.deps import BotApp, BotContext
from bot.ideas.rules import clean
from bot.members import accounts
from bot.members.accounts import MemberInfo
from handlers.common import (
    Button,
    answer,
    close,
    conversation,
    current_member,
    edit,
    query_message,
    send,
    user_language,
)

log = logging.getLogger(__name__)

KEY = "appreciation"
WHO = r"^apr:m:(?P<id>\d{1,9})\Z"
VALUE = r"^apr:v:(?P<value>[A-Z]{2})\Z"


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("apresiasi", start, filters=private))
    app.add_handler(CallbackQueryHandler(on_who, pattern=WHO))
    app.add_handler(CallbackQueryHandler(on_value, pattern=VALUE))


def composing(ctx: BotContext) -> bool:
    """Whether this person's next text is the reason for their thanks."""
    state = conversation(ctx, KEY)
    return state is not None and state.get("step") == "reason"


async def start(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    text = " ".join(ctx.args or [])
    found = await service.find_colleagues(ctx.deps, member, text)
    if not found:
        await send(update, ctx, "apr_usage", member.language, searched=bool(text.strip()))
        return
    assert ctx.user_data is not None  # a private chat
    ctx.user_data[KEY] = {"step": "who", "ids": [m.id for m in found]}
    rows: list[list[Button]] = [
        [(f"{m.full_name} · {m.unit_name or '–'}"[:60], f"apr:m:{m.id}")] for m in found
    ]
    await send(update, ctx, "apr_choose", member.language, rows=rows)


async def on_who(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    state = conversation(ctx, KEY)
    lang = member.language if member else user_language(update)
    assert ctx.matches
    chosen = int(ctx.matches[0]["id"])
    # Only a person this search offered: a forged id reaches no one.
    if member is None or state is None or state.get("step") != "who" or chosen not in state["ids"]:
        await answer(update, ctx, "button_stale", lang)
        return
    await answer(update, ctx)
    state.update(step="value", receiver=chosen)
    rows: list[list[Button]] = [[(v.name, f"apr:v:{v.code}")] for v in ctx.deps.content.values]
    await edit(query_message(update), ctx, "apr_value", lang, rows=rows)


async def on_value(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    state = conversation(ctx, KEY)
    lang = member.language if member else user_language(update)
    assert ctx.matches
    value = ctx.matches[0]["value"]
    if (
        member is None
        or state is None
        or state.get("step") != "value"
        or value not in ctx.deps.content.value_codes
    ):
        await answer(update, ctx, "button_stale", lang)
        return
    await answer(update, ctx)
    await close(query_message(update), ctx)
    state.update(step="reason", value=value)
    await send(update, ctx, "apr_ask_reason", lang, limit=service.REASON_MAX)


async def on_text(update: Update, ctx: BotContext, member: MemberInfo) -> None:
    message = update.effective_message
    state = conversation(ctx, KEY)
    assert message is not None and state is not None and ctx.user_data is not None
    lang = member.language
    reason = clean(message.text or "")
    if not reason or len(reason) > service.REASON_MAX:
        await send(update, ctx, "apr_reason_invalid", lang, length=len(reason))
        return
    ctx.user_data.pop(KEY, None)
    receiver = await accounts.member_by_id(ctx.db, member_id=state["receiver"])
    if receiver is None:
        await send(update, ctx, "apr_gone", lang)
        return
    given = await service.give(ctx.deps, member, receiver, state["value"], reason)
    if given.refused is not None:
        await send(update, ctx, "apr_refused", lang, problem=given.refused)
        return
    value = ctx.deps.content.value(state["value"])
    value_name = value.name if value else state["value"]
    await send(
        update,
        ctx,
        "apr_sent",
        lang,
        name=receiver.full_name,
        value=value_name,
        counted=given.counted,
    )
    text = ctx.renderer.text(
        "apr_received",
        receiver.language,
        name=member.full_name,
        unit=member.unit_name,
        value=value_name,
        reason=reason,
        points=given.points,
    )
    try:
        await ctx.bot.send_message(receiver.chat_id, text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        log.info("appreciation notice not delivered: %s", type(exc).__name__)
