"""Small helpers shared by handlers: language, keyboards, replies."""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TimedOut

from bot.core.deps import BotContext
from bot.core.limits import Limiter
from bot.core.render import DEFAULT_LANGUAGE, LANGUAGES
from bot.members import accounts
from bot.members.accounts import MemberInfo

log = logging.getLogger(__name__)

Button = tuple[str, str]  # (label, callback_data)
# Edits that find nothing to do: the person deleted the message, or it already shows this.
# Any other 400 is our mistake and goes to the error treatment (handlers/errors.py).
NOTHING_TO_EDIT = (
    "message to edit not found",
    "message is not modified",
    "message can't be edited",
    "message_id_invalid",
)
# Passed explicitly rather than through Defaults: PTB would add a default parse_mode to
# calls that have none (editMessageReplyMarkup), which the strict sandbox rejects.
HTML = ParseMode.HTML


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    built = [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    built = [row for row in built if row]
    return InlineKeyboardMarkup(built) if built else None


def user_language(update: Update) -> str:
    """Before we know a member's choice, follow their Telegram app's language."""
    code = (update.effective_user.language_code or "") if update.effective_user else ""
    code = code.split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


async def current_member(update: Update, ctx: BotContext) -> MemberInfo | None:
    user = update.effective_user
    if user is None:
        return None
    return await accounts.member(ctx.db, telegram_user_id=user.id)


async def send(
    update: Update,
    ctx: BotContext,
    template: str,
    lang: str,
    *,
    rows: Sequence[Sequence[Button]] = (),
    **context: Any,
) -> Message | None:
    chat = update.effective_chat
    if chat is None:
        return None
    text = ctx.renderer.text(template, lang, **context)
    return await ctx.bot.send_message(chat.id, text, parse_mode=HTML, reply_markup=keyboard(rows))


async def within_limit(
    update: Update, ctx: BotContext, limiter: Limiter, lang: str, what: str
) -> bool:
    """True when the person may have this costly thing now; else a polite "coba lagi sebentar
    lagi" with the seconds to wait, and nothing done (README "Floods")."""
    user = update.effective_user
    if user is None:
        return True
    wait = limiter.take(user.id)
    if not wait:
        return True
    log.info("%s over its per-person limit: asked to wait %.0f s", what, wait)
    await send(update, ctx, "slow_down", lang, what=what, seconds=math.ceil(wait))
    return False


async def edit(
    message: Message | None,
    ctx: BotContext,
    template: str,
    lang: str,
    *,
    rows: Sequence[Sequence[Button]] = (),
    **context: Any,
) -> None:
    """Edit a bot message in place; the caller only edits when the content changes."""
    if message is None:
        return
    text = ctx.renderer.text(template, lang, **context)
    try:
        await ctx.bot.edit_message_text(
            text,
            chat_id=message.chat_id,
            message_id=message.message_id,
            parse_mode=HTML,
            reply_markup=keyboard(rows),
        )
    except BadRequest as exc:
        if not nothing_to_edit(exc):
            raise
        log.info("edit skipped: %s", exc.message)


def nothing_to_edit(exc: BadRequest) -> bool:
    return any(text in exc.message.lower() for text in NOTHING_TO_EDIT)


async def close(message: Message | None, ctx: BotContext) -> None:
    """Take the buttons off a message the person has answered; its text stays readable."""
    if message is None or message.reply_markup is None:
        return
    await close_id(ctx, message.chat_id, message.message_id)


async def close_id(ctx: BotContext, chat_id: int, message_id: int) -> None:
    """`close` for a message known only by its id."""
    try:
        await ctx.bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=message_id, reply_markup=None
        )
    except BadRequest as exc:
        if not nothing_to_edit(exc):
            raise
        log.info("closing skipped: %s", exc.message)


async def answer(
    update: Update, ctx: BotContext, label: str | None = None, lang: str = "id"
) -> None:
    """Answer the callback query once (Telegram refuses a second answer)."""
    query = update.callback_query
    if query is None or was_answered(ctx, query.id):
        return
    text = ctx.renderer.label(label, lang) if label else None
    try:
        await query.answer(text=text)
    except (BadRequest, TimedOut) as exc:
        # Refused (a second try fares no better) or perhaps arrived: never answer again.
        _answered(ctx).append(query.id)
        if isinstance(exc, BadRequest) and "query is too old" in exc.message.lower():
            # A press from before a pause (the bot was down): too late to stop the
            # spinner, not too late to do what was asked.
            log.info("callback answer skipped: %s", exc.message)
            return
        raise
    # After a dropped connection the error treatment answers it once more.
    _answered(ctx).append(query.id)


def _answered(ctx: BotContext) -> deque[str]:
    return ctx.deps.answered_queries


def was_answered(ctx: BotContext, query_id: str) -> bool:
    return query_id in _answered(ctx)


def query_message(update: Update) -> Message | None:
    """The message a pressed button sits under; None when Telegram no longer shows it."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return None
    return query.message


def conversation(ctx: BotContext, key: str) -> dict[str, Any] | None:
    """What a conversation keeps for this person (`user_data[key]`), while it is under way."""
    return ctx.user_data.get(key) if ctx.user_data is not None else None
