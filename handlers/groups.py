"""Group chats: the bot answers only commands addressed to it (/cmd@bot); linking a group
to a unit (/daftarkan_grup), guarded against taking another unit's group."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.boards import groups
from bot.core.deps import BotApp, BotContext
from bot.members import accounts, audit, units
from bot.members.accounts import ADMIN_ROLES
from bot.programme import slots
from handlers import scores
from handlers.admin_common import record_refusal
from handlers.common import HTML, answer, current_member, edit, keyboard, send

log = logging.getLogger(__name__)

# Group texts are Indonesian: a group has members of every language setting.
LANG = "id"
LINK_ANSWER = re.compile(r"^grp:(ok|no):(\d{1,12}):(-?\d{1,20})$")


@dataclass(frozen=True)
class _Request:
    """A member asked to move their unit's board to their group; the unit's current group
    must agree. Kept in memory: after a restart the member asks again."""

    unit_id: int
    unit_name: str
    old_chat_id: int
    new_chat_id: int
    new_title: str
    requester_user_id: int


class _AddressedToBot(filters.MessageFilter):
    """A command written as /cmd@this_bot; plain /cmd in a group may be meant for another bot."""

    def filter(self, message: Message) -> bool:
        text = message.text or ""
        first = text.split(maxsplit=1)[0].lower() if text.strip() else ""
        username = (message.get_bot().username or "").lower()
        return bool(username) and first.startswith("/") and first.endswith(f"@{username}")


ADDRESSED = _AddressedToBot(name="AddressedToBot")


def register(app: BotApp) -> None:
    addressed = filters.ChatType.GROUPS & ADDRESSED
    # PTB's CommandHandler reads "/skor@this_bot" as /skor; ADDRESSED keeps a bare /skor,
    # which may be meant for another bot in the group, out.
    app.add_handler(CommandHandler("skor", scores.score, filters=addressed))
    app.add_handler(CommandHandler("peringkat", scores.ranking, filters=addressed))
    app.add_handler(CommandHandler("daftarkan_grup", link_group, filters=addressed))
    app.add_handler(CallbackQueryHandler(on_link_answer, pattern=r"^grp:"))
    app.add_handler(MessageHandler(addressed & filters.COMMAND, other_command))


async def other_command(update: Update, ctx: BotContext) -> None:
    """/bantuan@bot gets the group help; any other command points to the private chat."""
    message = update.effective_message
    assert message is not None and message.text is not None
    command = message.text.split(maxsplit=1)[0].split("@")[0].lower()
    link = f"https://t.me/{ctx.deps.bot_username}?start=grup"
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(ctx.renderer.label("open_private", "id"), url=link)]]
    )
    template = "group_help" if command == "/bantuan" else "group_private_only"
    await message.reply_text(
        ctx.renderer.text(template, "id"), parse_mode=HTML, reply_markup=markup
    )


async def _chat_admin(ctx: BotContext, chat_id: int, user_id: int) -> bool:
    try:
        status = (await ctx.bot.get_chat_member(chat_id, user_id)).status
    except TelegramError:
        return False
    return status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


# Per running application (tests run several in one process), keyed by (unit, new group).
_PENDING: WeakKeyDictionary[object, dict[tuple[int, int], _Request]] = WeakKeyDictionary()


def _requests(ctx: BotContext) -> dict[tuple[int, int], _Request]:
    return _PENDING.setdefault(ctx.application, {})


async def link_group(update: Update, ctx: BotContext) -> None:
    """/daftarkan_grup: the sender administers this chat and is a programme admin or a member
    of the unit; programme admins may name another unit by its code. A unit that already
    has another group keeps it unless a programme admin moves it, or an administrator of
    that group agrees (asked with two buttons there)."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    member = await current_member(update, ctx)
    chat_admin = await _chat_admin(ctx, chat.id, user.id)
    allowed = chat_admin and member is not None and member.unit_id is not None
    if not allowed:
        refused = "not chat admin" if not chat_admin else "not registered"
        await record_refusal(update, ctx, "group_link", {"refused": refused})
        await send(
            update,
            ctx,
            "group_link_refused",
            LANG,
            chat_admin=chat_admin,
            bot=ctx.deps.bot_username,
        )
        return
    assert member is not None and member.unit_id is not None  # `allowed` says so
    unit_id = member.unit_id
    programme_admin = member.role in ADMIN_ROLES
    words = [w for w in (ctx.args or []) if w.strip()]
    if words and programme_admin:
        found = await units.search(ctx.db, words=words[:4], leaves_only=False)
        if len(found) != 1:
            await send(
                update, ctx, "group_link_which", LANG, count=len(found), bot=ctx.deps.bot_username
            )
            return
        unit_id = found[0].id
    current = await groups.group_of(ctx.db, unit_id=unit_id)
    if current is not None and current != chat.id and not programme_admin:
        await _ask_old_group(update, ctx, unit_id, current)
        return
    via = "admin" if current not in (None, chat.id) else "first"
    result = await groups.link(
        ctx.db, unit_id=unit_id, chat_id=chat.id, actor_user_id=user.id, via=via
    )
    await send(update, ctx, "group_linked", LANG, **await _linked(ctx, result.unit_name))
    if result.previous_chat_id is not None:
        await _tell_moved(ctx, result.unit_name, result.previous_chat_id, chat.title, by_admin=True)


async def _ask_old_group(update: Update, ctx: BotContext, unit_id: int, old_chat_id: int) -> None:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    unit = await units.unit(ctx.db, unit_id=unit_id)
    unit_name = unit.name if unit else "-"
    if (unit_id, chat.id) in _requests(ctx):
        # Asked already: the old group is not asked again however often the command comes.
        await send(update, ctx, "group_link_pending", LANG, unit=unit_name, asked=True)
        return
    request = _Request(unit_id, unit_name, old_chat_id, chat.id, chat.title or "-", user.id)
    rows = [
        [
            (ctx.renderer.label("group_link_approve", LANG), f"grp:ok:{unit_id}:{chat.id}"),
            (ctx.renderer.label("group_link_decline", LANG), f"grp:no:{unit_id}:{chat.id}"),
        ]
    ]
    try:
        await ctx.bot.send_message(
            old_chat_id,
            ctx.renderer.text("group_link_request", LANG, unit=unit_name, group=request.new_title),
            parse_mode=HTML,
            reply_markup=keyboard(rows),
        )
        asked = True
        _requests(ctx)[(unit_id, chat.id)] = request
    except TelegramError as exc:
        # The bot left the old group, or it was deleted: only a programme admin can help.
        log.info("group link request not delivered: %s", exc)
        asked = False
    await record_refusal(
        update,
        ctx,
        "group_link",
        {"unit_id": unit_id, "refused": "unit has a group", "asked_old_group": asked},
    )
    await send(update, ctx, "group_link_pending", LANG, unit=unit_name, asked=asked)


async def on_link_answer(update: Update, ctx: BotContext) -> None:
    """An administrator of the unit's current group agrees to move its board, or not."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    match = LINK_ANSWER.match(query.data or "")
    message = query.message if isinstance(query.message, Message) else None
    request = _requests(ctx).get((int(match[2]), int(match[3]))) if match else None
    current = await groups.group_of(ctx.db, unit_id=request.unit_id) if request else None
    if match is None or request is None or current != chat.id or request.old_chat_id != chat.id:
        await answer(update, ctx, "button_stale", LANG)
        return
    if not await _chat_admin(ctx, chat.id, user.id):
        await record_refusal(
            update,
            ctx,
            "group_link",
            {"unit_id": request.unit_id, "refused": "not admin of the old group"},
        )
        await answer(update, ctx, "group_link_old_admin_only", LANG)
        return
    await answer(update, ctx)
    _requests(ctx).pop((request.unit_id, request.new_chat_id), None)
    if match[1] == "no":
        await audit.record(
            ctx.db,
            actor_user_id=user.id,
            action="group_link_declined",
            detail={"unit_id": request.unit_id, "chat_id": request.new_chat_id},
        )
        await edit(message, ctx, "group_link_declined", LANG, unit=request.unit_name)
        await _send_quietly(ctx, request.new_chat_id, "group_link_declined", unit=request.unit_name)
        return
    result = await groups.link(
        ctx.db,
        unit_id=request.unit_id,
        chat_id=request.new_chat_id,
        actor_user_id=user.id,
        via="old_group_admin",
    )
    await edit(
        message,
        ctx,
        "group_link_moved",
        LANG,
        unit=result.unit_name,
        group=request.new_title,
        by_admin=False,
    )
    await _send_quietly(
        ctx, request.new_chat_id, "group_linked", **await _linked(ctx, result.unit_name)
    )
    await _tell_admins(ctx, result.unit_name, request.new_title, by_admin=False)


async def _tell_moved(
    ctx: BotContext, unit: str, old_chat_id: int, new_title: str | None, *, by_admin: bool
) -> None:
    await _send_quietly(
        ctx, old_chat_id, "group_link_moved", unit=unit, group=new_title or "-", by_admin=by_admin
    )
    await _tell_admins(ctx, unit, new_title or "-", by_admin=by_admin)


async def _tell_admins(ctx: BotContext, unit: str, new_title: str, *, by_admin: bool) -> None:
    for admin in await accounts.admins(ctx.db):
        await _send_quietly(
            ctx,
            admin.chat_id,
            "group_link_admins",
            lang=admin.language,
            unit=unit,
            group=new_title,
            by_admin=by_admin,
        )


async def _linked(ctx: BotContext, unit: str) -> dict[str, Any]:
    """What a newly linked group is told: when its board comes (as /jadwal has it now) and
    the command to see it at once in this group."""
    board = await slots.slot(ctx.db, key=slots.LEADERBOARD)
    return {"unit": unit, "board": board, "bot": ctx.deps.bot_username}


async def _send_quietly(
    ctx: BotContext, chat_id: int, template: str, *, lang: str = LANG, **context: object
) -> None:
    """A notice to a chat that may have removed the bot: its failure stops nothing."""
    try:
        await ctx.bot.send_message(
            chat_id, ctx.renderer.text(template, lang, **context), parse_mode=HTML
        )
    except TelegramError as exc:
        log.info("group link notice not delivered: %s", exc)
