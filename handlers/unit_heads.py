"""/kepala_unit (admins): name a unit's head (the unit found by name, then the member by
name typed as the next message), or remove one; every change is audited and the person
is told."""

from __future__ import annotations

import contextlib
import logging

from telegram import BotCommandScopeChat, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.deps import BotApp, BotContext
from bot.members import accounts, audit, unit_heads, units
from bot.members.accounts import ADMIN_ROLES, MemberInfo
from bot.members.unit_search import search_words
from handlers.admin_common import require_admin
from handlers.common import (
    Button,
    answer,
    close,
    conversation,
    edit,
    query_message,
    send,
)
from handlers.help import set_member_menu

log = logging.getLogger(__name__)

KEY = "unit_head"
QUERY_MAX = 64
CHOICES = 8
LISTED = 20  # heads listed (and removable) by /kepala_unit alone; the rest by unit name
UNIT = r"^kpu:u:(?P<unit>\d{1,9})\Z"
PICK = r"^kpu:m:(?P<member>\d{1,9})\Z"
REMOVE = r"^kpu:x:(?P<unit>\d{1,9}):(?P<member>\d{1,9})\Z"


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("kepala_unit", start, filters=private))
    app.add_handler(CallbackQueryHandler(on_unit, pattern=UNIT))
    app.add_handler(CallbackQueryHandler(on_pick, pattern=PICK))
    app.add_handler(CallbackQueryHandler(on_remove, pattern=REMOVE))


def composing(ctx: BotContext) -> bool:
    """Whether this admin's next text is the name of the head they are looking for (again,
    when the matches shown were not the person)."""
    state = conversation(ctx, KEY)
    return state is not None and state.get("step") in ("name", "pick")


async def start(update: Update, ctx: BotContext) -> None:
    """Without a unit: the heads named so far, each with a button to remove them. With
    part of a unit's name: the unit (or a choice of units), then the head's name."""
    admin = await require_admin(update, ctx, "unit_head")
    if admin is None:
        return
    text = " ".join(ctx.args or [])[:QUERY_MAX]
    if not text.strip():
        heads = await unit_heads.heads(ctx.db)
        rows: list[list[Button]] = [
            [(f"🗑 {h.unit_name} · {h.member_name}"[:60], f"kpu:x:{h.unit_id}:{h.member_id}")]
            for h in heads[:LISTED]
        ]
        await send(update, ctx, "kpu_list", admin.language, rows=rows, heads=heads)
        return
    found = await units.search(ctx.db, words=search_words(text), limit=CHOICES, leaves_only=False)
    if len(found) == 1:
        await _ask_name(update, ctx, admin, found[0])
        return
    rows = [
        [((f"{u.name} · {u.parent_name}" if u.parent_name else u.name)[:60], f"kpu:u:{u.id}")]
        for u in found
    ]
    await send(update, ctx, "kpu_units", admin.language, rows=rows, query=text, results=found)


async def on_unit(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "unit_head")
    if admin is None:
        return
    assert ctx.matches
    unit = await units.unit(ctx.db, unit_id=int(ctx.matches[0]["unit"]))
    if unit is None:
        await answer(update, ctx, "button_stale", admin.language)
        return
    await answer(update, ctx)
    await close(query_message(update), ctx)
    await _ask_name(update, ctx, admin, unit)


async def _ask_name(
    update: Update, ctx: BotContext, admin: MemberInfo, unit: units.UnitInfo
) -> None:
    assert ctx.user_data is not None  # a private chat
    ctx.user_data[KEY] = {"step": "name", "unit": unit.id}
    current_id = await unit_heads.head_of(ctx.db, unit_id=unit.id)
    current = await accounts.member_by_id(ctx.db, member_id=current_id) if current_id else None
    rows: list[list[Button]] = []
    if current is not None:
        label = f"🗑 {current.full_name}"[:60]
        rows = [[(label, f"kpu:x:{unit.id}:{current.id}")]]
    await send(update, ctx, "kpu_ask_name", admin.language, rows=rows, unit=unit, current=current)


async def on_text(update: Update, ctx: BotContext, admin: MemberInfo) -> None:
    """The name typed: the members it finds, as buttons."""
    message = update.effective_message
    state = conversation(ctx, KEY)
    assert message is not None and state is not None
    text = (message.text or "").strip()[:QUERY_MAX]
    # Names only: a Telegram id would also find people the admin never saw by name.
    found = [] if not text or text.isdigit() else await accounts.search(ctx.db, text=text)
    if not found:
        state.update(step="name")
        await send(update, ctx, "kpu_no_member", admin.language, query=text)
        return
    state.update(step="pick", ids=[m.id for m in found])
    rows: list[list[Button]] = [
        [(f"{m.full_name} · {m.unit_name or '–'}"[:60], f"kpu:m:{m.id}")] for m in found
    ]
    await send(update, ctx, "kpu_choose", admin.language, rows=rows, query=text)


async def on_pick(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "unit_head")
    if admin is None:
        return
    assert ctx.matches and ctx.user_data is not None
    state = conversation(ctx, KEY)
    chosen = int(ctx.matches[0]["member"])
    lang = admin.language
    # Only a person this search offered: a forged id names no one.
    if state is None or state.get("step") != "pick" or chosen not in state["ids"]:
        await answer(update, ctx, "button_stale", lang)
        return
    member = await accounts.member_by_id(ctx.db, member_id=chosen)
    unit = await units.unit(ctx.db, unit_id=state["unit"])
    if member is None or unit is None:
        await answer(update, ctx, "button_stale", lang)
        return
    ctx.user_data.pop(KEY, None)
    await answer(update, ctx)
    replaced = await unit_heads.name_head(
        ctx.db, unit_id=unit.id, member_id=member.id, now=ctx.deps.clock.now()
    )
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="unit_head_set",
        detail={"unit_id": unit.id, "member_id": member.id, "replaced": replaced},
        audience_size=1,
    )
    await edit(query_message(update), ctx, "kpu_done", lang, unit=unit, member=member, named=True)
    await _tell(ctx, member, unit, named=True)
    if replaced is not None:
        before = await accounts.member_by_id(ctx.db, member_id=replaced)
        if before is not None:
            await _tell(ctx, before, unit, named=False)


async def on_remove(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "unit_head")
    if admin is None:
        return
    assert ctx.matches
    unit_id, member_id = int(ctx.matches[0]["unit"]), int(ctx.matches[0]["member"])
    lang = admin.language
    unit = await units.unit(ctx.db, unit_id=unit_id)
    member = await accounts.member_by_id(ctx.db, member_id=member_id)
    if (
        unit is None
        or member is None
        or not await unit_heads.remove_head(ctx.db, unit_id=unit_id, member_id=member_id)
    ):
        await answer(update, ctx, "button_stale", lang)
        return
    await answer(update, ctx)
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="unit_head_remove",
        detail={"unit_id": unit_id, "member_id": member_id},
        audience_size=1,
    )
    await edit(query_message(update), ctx, "kpu_done", lang, unit=unit, member=member, named=False)
    await _tell(ctx, member, unit, named=False)


async def _tell(ctx: BotContext, member: MemberInfo, unit: units.UnitInfo, *, named: bool) -> None:
    """The person hears of it in their private chat, and their command menu follows."""
    text = ctx.renderer.text("kpu_told", member.language, unit=unit, named=named)
    try:
        await ctx.bot.send_message(member.chat_id, text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        log.info("unit head notice not delivered: %s", type(exc).__name__)
    if member.role in ADMIN_ROLES:
        return  # an admin's menu already holds everything a head has
    if await unit_heads.is_head(ctx.db, member):
        await set_member_menu(ctx.bot, ctx.deps, member, head=True)
    else:
        with contextlib.suppress(TelegramError):  # a menu is a convenience
            await ctx.bot.delete_my_commands(scope=BotCommandScopeChat(member.chat_id))
