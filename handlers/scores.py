"""/skor, /peringkat, /cuti, /tampilkan_nama, and linking a unit's group (/daftarkan_grup)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler, filters

from bot.boards import cards as board
from bot.boards import groups
from bot.core.deps import BotApp, BotContext
from bot.members import accounts
from bot.scores import shields
from handlers.common import HTML, current_member, send, user_language, within_limit

log = logging.getLogger(__name__)


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("skor", score, filters=private))
    app.add_handler(CommandHandler("peringkat", ranking, filters=private))
    app.add_handler(CommandHandler("cuti", leave, filters=private))
    app.add_handler(CommandHandler("tampilkan_nama", show_name, filters=private))


async def score(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    if not await within_limit(update, ctx, ctx.deps.limits.score, member.language, "score"):
        return
    chat = update.effective_chat
    assert chat is not None
    private = chat.type == ChatType.PRIVATE
    card = await board.score_card(ctx.deps, member, with_chart=private)
    if card.png is not None:
        await ctx.bot.send_photo(chat.id, card.png)
    await ctx.bot.send_message(chat.id, card.text, parse_mode=HTML)


async def ranking(update: Update, ctx: BotContext) -> None:
    chat = update.effective_chat
    assert chat is not None
    private = chat.type == ChatType.PRIVATE
    member = await current_member(update, ctx)
    if private and member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    # Per chat: a group's members share one board, so one of them asking is enough.
    left = ctx.deps.limits.ranking.take(chat.id)
    if left:
        if private:
            await send(
                update,
                ctx,
                "ranking_cooldown",
                member.language if member else "id",
                seconds=int(left) + 1,
            )
        else:
            log.info("/peringkat in a group within the cooldown: ignored")
        return
    if private:
        assert member is not None
        unit_id = member.unit_id
    else:
        unit_id = await groups.linked_unit(ctx.db, chat_id=chat.id)
        if unit_id is None:
            await send(update, ctx, "group_not_linked", "id", bot=ctx.deps.bot_username)
            return
    tz = (
        await accounts.zone(ctx.db, member_id=member.id)
        if member
        else ctx.deps.settings.default_timezone
    )
    today = ctx.deps.clock.today(tz)
    word = (ctx.args or ["minggu"])[0].lower() if ctx.args else "minggu"
    span = {"bulan": "bulan", "month": "bulan", "semua": "semua", "all": "semua"}.get(
        word, "minggu"
    )
    current = await board.board_for(ctx.deps, today, span)
    post = await board.unit_post(ctx.deps, current, unit_id) if unit_id else None
    if post is None:
        await send(update, ctx, "ranking_empty", member.language if member else "id")
        return
    await ctx.bot.send_photo(chat.id, post.png, caption=post.caption, parse_mode=HTML)


async def leave(update: Update, ctx: BotContext) -> None:
    """Shield a working day for the streak (leave, training, sick)."""
    member = await current_member(update, ctx)
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    tz = await accounts.zone(ctx.db, member_id=member.id)
    today = ctx.deps.clock.today(tz)
    day = _parse_day(" ".join(ctx.args or []), today)
    lang = member.language
    if day is None:
        await send(update, ctx, "leave_usage", lang)
        return
    if day < today or (day.year, day.month) != (today.year, today.month):
        await send(update, ctx, "leave_month_only", lang)
        return
    if not ctx.deps.calendar.is_working_day(day):
        await send(update, ctx, "leave_not_working_day", lang, day=day)
        return
    first = day.replace(day=1)
    last = date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)
    used = await shields.used(ctx.db, member_id=member.id, month_start=first, month_end=last)
    allowed = ctx.deps.rules.shields_per_month
    if used >= allowed:
        await send(update, ctx, "leave_none_left", lang, allowed=allowed)
        return
    added = await shields.take(ctx.db, member_id=member.id, day=day)
    if not added:
        await send(update, ctx, "leave_already", lang, day=day)
        return
    await send(update, ctx, "leave_saved", lang, day=day, left=allowed - used - 1)


def _parse_day(text: str, today: date) -> date | None:
    text = text.strip()
    if not text:
        return today
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%d-%m", "%d/%m"):
        try:
            parsed = datetime.strptime(text[:10], fmt).date()
        except ValueError:
            continue
        return parsed.replace(year=today.year) if "%Y" not in fmt else parsed
    return None


async def show_name(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    word = " ".join(ctx.args or []).strip().lower()[:20]
    choice = {"ya": True, "yes": True, "tidak": False, "no": False}.get(word)
    # No word flips the setting; a word we do not know changes nothing and shows it.
    shown = await accounts.show_name(ctx.db, member_id=member.id, on=choice, flip=not word)
    await send(update, ctx, "show_name_set", member.language, shown=shown)
