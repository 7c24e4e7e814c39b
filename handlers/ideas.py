"""/ide (give an idea: title, description, value, for whom, confirm), /ide_daftar (support,
offer help, and for admins and the head of the idea's unit move it on), and the reason typed
when an idea is put off."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.deps import BotApp, BotContext
from bot.ideas import rules, service
from bot.ideas.export import ideas_xlsx
from bot.members import audit, unit_heads, units
from bot.members.accounts import ADMIN_ROLES, MemberInfo
from handlers.admin_common import record_refusal, require_admin
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

KEY = "idea"
REASON_MAX = 300
# Status codes in button data (64 bytes at most): one letter each.
CODES = {"b": rules.NEW, "t": rules.REVIEW, "d": rules.ACCEPTED, "k": rules.WORKING}
CODES |= {"r": rules.DONE, "x": rules.DECLINED}
LETTER = {status: letter for letter, status in CODES.items()}
VALUE = r"^ide:v:(?P<value>[A-Z]{2})\Z"
TARGET = r"^ide:t:(?P<target>[uoa])\Z"
SEND = r"^ide:(?P<choice>go|no)\Z"
VOTE = r"^ide:(?P<kind>[sh]):(?P<id>\d{1,9}):(?P<page>\d{1,3})\Z"
PAGE_OF = r"^ide:p:(?P<page>\d{1,3})\Z"
MANAGE = r"^ide:m:(?P<id>\d{1,9})\Z"
MOVE = r"^ide:mv:(?P<id>\d{1,9}):(?P<old>[btdkrx]):(?P<new>[btdkrx])\Z"


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("ide", start, filters=private))
    app.add_handler(CommandHandler("ide_daftar", list_ideas, filters=private))
    app.add_handler(CommandHandler("ide_ekspor", export, filters=private))
    app.add_handler(CallbackQueryHandler(on_value, pattern=VALUE))
    app.add_handler(CallbackQueryHandler(on_target, pattern=TARGET))
    app.add_handler(CallbackQueryHandler(on_send, pattern=SEND))
    app.add_handler(CallbackQueryHandler(on_vote, pattern=VOTE))
    app.add_handler(CallbackQueryHandler(on_page, pattern=PAGE_OF))
    app.add_handler(CallbackQueryHandler(on_manage, pattern=MANAGE))
    app.add_handler(CallbackQueryHandler(on_move, pattern=MOVE))


def composing(ctx: BotContext) -> bool:
    """Whether this person's next text belongs to an idea (its title, description, or an
    admin's reason for putting one off)."""
    state = conversation(ctx, KEY)
    return state is not None and state.get("step") in ("title", "description", "reason")


async def _member(update: Update, ctx: BotContext) -> MemberInfo | None:
    """The registered member, or None after telling them how to register."""
    member = await current_member(update, ctx)
    if member is None:
        if update.callback_query is not None:
            await answer(update, ctx, "idea_members_only", user_language(update))
        else:
            await send(update, ctx, "not_registered", user_language(update))
    return member


# --- giving an idea ---------------------------------------------------------------------------


async def start(update: Update, ctx: BotContext) -> None:
    member = await _member(update, ctx)
    if member is None:
        return
    assert ctx.user_data is not None  # a private chat
    ctx.user_data[KEY] = {"step": "title"}
    await send(update, ctx, "idea_ask_title", member.language)


async def on_text(update: Update, ctx: BotContext, member: MemberInfo) -> None:
    """The title, the description, or an admin's reason, as the step asks."""
    message = update.effective_message
    state = conversation(ctx, KEY)
    assert message is not None and state is not None
    lang = member.language
    if not message.text:
        await send(update, ctx, "idea_refused", lang, problem="not_text")
        return
    text = rules.clean(message.text)
    step = state["step"]
    if step == "title":
        problem = rules.problem_with_title(text)
        if problem is not None:
            await send(
                update, ctx, "idea_refused", lang, problem=f"title_{problem}", length=len(text)
            )
            return
        state.update(step="description", title=text)
        await send(update, ctx, "idea_ask_description", lang, title=text)
    elif step == "description":
        problem = rules.problem_with_description(text)
        if problem is not None:
            await send(
                update, ctx, "idea_refused", lang, problem=f"desc_{problem}", length=len(text)
            )
            return
        state.update(step="value", description=text)
        rows: list[list[Button]] = [[(v.name, f"ide:v:{v.code}")] for v in ctx.deps.content.values]
        await send(update, ctx, "idea_ask_value", lang, rows=rows)
    elif step == "reason":
        await _put_off(update, ctx, member, state, text[:REASON_MAX])


async def on_value(update: Update, ctx: BotContext) -> None:
    member = await _member(update, ctx)
    state = conversation(ctx, KEY)
    if member is None:
        return
    assert ctx.matches
    value = ctx.matches[0]["value"]
    if state is None or state.get("step") != "value" or value not in ctx.deps.content.value_codes:
        await answer(update, ctx, "button_stale", member.language)
        return
    await answer(update, ctx)
    state.update(step="target", value=value)
    lang = member.language
    label = ctx.renderer.label
    rows: list[list[Button]] = []
    unit = await units.unit(ctx.db, unit_id=member.unit_id) if member.unit_id else None
    if unit is not None:
        rows.append([(label("idea_target_unit", lang, name=unit.name), "ide:t:u")])
        if unit.parent_id is not None and unit.parent_name:
            rows.append([(label("idea_target_opd", lang, name=unit.parent_name), "ide:t:o")])
    rows.append([(label("idea_target_all", lang), "ide:t:a")])
    await edit(query_message(update), ctx, "idea_ask_target", lang, rows=rows)


async def on_target(update: Update, ctx: BotContext) -> None:
    member = await _member(update, ctx)
    state = conversation(ctx, KEY)
    if member is None:
        return
    assert ctx.matches
    if state is None or state.get("step") != "target":
        await answer(update, ctx, "button_stale", member.language)
        return
    unit = await units.unit(ctx.db, unit_id=member.unit_id) if member.unit_id else None
    choice = ctx.matches[0]["target"]
    target_id, target_name = None, ctx.renderer.label("idea_target_all", member.language)
    if choice == "u" and unit is not None:
        target_id, target_name = unit.id, unit.name
    elif choice == "o" and unit is not None and unit.parent_id is not None:
        target_id, target_name = unit.parent_id, unit.parent_name or ""
    await answer(update, ctx)
    state.update(step="confirm", target=target_id)
    value = ctx.deps.content.value(state["value"])
    rows: list[list[Button]] = [
        [(ctx.renderer.label("idea_send", member.language), "ide:go")],
        [(ctx.renderer.label("cancel", member.language), "ide:no")],
    ]
    await edit(
        query_message(update),
        ctx,
        "idea_preview",
        member.language,
        rows=rows,
        title=state["title"],
        description=state["description"],
        value=value.name if value else state["value"],
        target=target_name,
    )


async def on_send(update: Update, ctx: BotContext) -> None:
    member = await _member(update, ctx)
    state = conversation(ctx, KEY)
    if member is None:
        return
    assert ctx.matches and ctx.user_data is not None
    lang = member.language
    if state is None or state.get("step") != "confirm":
        await answer(update, ctx, "button_stale", lang)
        return
    ctx.user_data.pop(KEY, None)
    await answer(update, ctx)
    await close(query_message(update), ctx)
    if ctx.matches[0]["choice"] == "no":
        await send(update, ctx, "idea_cancelled", lang)
        return
    outcome = await service.submit(
        ctx.deps,
        member,
        service.Draft(state["title"], state["description"], state["value"], state["target"]),
    )
    if outcome.refused is not None:
        await send(update, ctx, "idea_refused", lang, problem=outcome.refused, idea=outcome.idea)
        return
    assert outcome.idea is not None
    await send(update, ctx, "idea_saved", lang, id=outcome.idea.id)


# --- the list, support and help ---------------------------------------------------------------


async def _list_view(
    ctx: BotContext, member: MemberInfo, page: int
) -> tuple[list[service.IdeaInfo], list[list[Button]]]:
    ideas = await service.page_for(ctx.deps, member, page)
    label = ctx.renderer.label
    lang = member.language
    headed = await unit_heads.units_headed(ctx.db, member)
    rows: list[list[Button]] = []
    for i in ideas:
        row: list[Button] = []
        if i.status in rules.OPEN and i.author_id != member.id:
            row.append((label("idea_support", lang, id=i.id, n=i.supports), f"ide:s:{i.id}:{page}"))
            row.append((label("idea_help", lang, id=i.id, n=i.helpers), f"ide:h:{i.id}:{page}"))
        if member.role in ADMIN_ROLES or i.target_unit_id in headed:
            row.append((label("idea_manage", lang, id=i.id), f"ide:m:{i.id}"))
        rows.append(row)
    nav: list[Button] = []
    if page > 0:
        nav.append((label("prev", lang), f"ide:p:{page - 1}"))
    if len(ideas) == service.PAGE:
        nav.append((label("next", lang), f"ide:p:{page + 1}"))
    rows.append(nav)
    return ideas, rows


async def list_ideas(update: Update, ctx: BotContext) -> None:
    member = await _member(update, ctx)
    if member is None:
        return
    ideas, rows = await _list_view(ctx, member, 0)
    await send(update, ctx, "idea_list", member.language, rows=rows, ideas=ideas, page=0)


async def on_page(update: Update, ctx: BotContext) -> None:
    member = await _member(update, ctx)
    if member is None:
        return
    assert ctx.matches
    await answer(update, ctx)
    page = int(ctx.matches[0]["page"])
    ideas, rows = await _list_view(ctx, member, page)
    await edit(
        query_message(update), ctx, "idea_list", member.language, rows=rows, ideas=ideas, page=page
    )


async def on_vote(update: Update, ctx: BotContext) -> None:
    member = await _member(update, ctx)
    if member is None:
        return
    assert ctx.matches
    match = ctx.matches[0]
    kind = "support" if match["kind"] == "s" else "help"
    on = await service.vote(ctx.deps, member, int(match["id"]), kind)
    lang = member.language
    if on is None:
        await answer(update, ctx, "idea_closed", lang)
        return
    notice = {
        ("support", True): "idea_supported",
        ("support", False): "idea_unsupported",
        ("help", True): "idea_helping",
        ("help", False): "idea_not_helping",
    }[(kind, on)]
    await answer(update, ctx, notice, lang)
    page = int(match["page"])
    ideas, rows = await _list_view(ctx, member, page)
    await edit(query_message(update), ctx, "idea_list", lang, rows=rows, ideas=ideas, page=page)


# --- moving an idea on (admins, unit heads), and the spreadsheet (admins) ---------------------


async def export(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "idea_export")
    if admin is None:
        return
    assert update.effective_chat is not None
    data, count = await ideas_xlsx(ctx.deps, admin.language)
    await audit.record(
        ctx.db, actor_user_id=admin.telegram_user_id, action="idea_export", audience_size=count
    )
    await ctx.bot.send_document(
        update.effective_chat.id,
        InputFile(data, filename="ide_berakhlak.xlsx"),
        caption=ctx.renderer.text("idea_exported", admin.language, count=count),
        parse_mode=ParseMode.HTML,
    )


async def _mover(
    update: Update, ctx: BotContext, idea_id: int, action: str
) -> tuple[MemberInfo, service.IdeaInfo | None] | None:
    """Who may move this idea on: an admin, or the head of the unit it is for. Anyone else
    is refused politely and the attempt audited; a stranger hears that only members may."""
    member = await current_member(update, ctx)
    if member is not None:
        idea = await service.idea(ctx.deps, idea_id)
        if member.role in ADMIN_ROLES or (
            idea is not None and await unit_heads.may_review(ctx.db, member, idea.target_unit_id)
        ):
            return member, idea
    await record_refusal(
        update,
        ctx,
        action,
        {"refused": "not admin or head of the idea's unit", "idea_id": idea_id},
    )
    log.warning("refused %s for someone who may not move this idea", action)
    if member is None:
        await answer(update, ctx, "idea_members_only", user_language(update))
    else:
        await send_notice(update, ctx, "idea_move_refused", member.language)
    return None


async def on_manage(update: Update, ctx: BotContext) -> None:
    assert ctx.matches
    allowed = await _mover(update, ctx, int(ctx.matches[0]["id"]), "idea_manage")
    if allowed is None:
        return
    admin, idea = allowed
    if idea is None:
        await answer(update, ctx, "button_stale", admin.language)
        return
    await answer(update, ctx)
    moves = rules.MOVES.get(idea.status, ())
    rows: list[list[Button]] = [
        [
            (
                ctx.renderer.label(f"idea_move_{new}", admin.language),
                f"ide:mv:{idea.id}:{LETTER[idea.status]}:{LETTER[new]}",
            )
        ]
        for new in moves
    ]
    await send(update, ctx, "idea_manage", admin.language, rows=rows, idea=idea, moves=moves)


async def on_move(update: Update, ctx: BotContext) -> None:
    assert ctx.matches and ctx.user_data is not None
    match = ctx.matches[0]
    idea_id, old, new = int(match["id"]), CODES[match["old"]], CODES[match["new"]]
    allowed = await _mover(update, ctx, idea_id, "idea_move")
    if allowed is None:
        return
    admin, _ = allowed
    lang = admin.language
    if new not in rules.MOVES.get(old, ()):
        await answer(update, ctx, "button_unknown", lang)
        return
    if new == rules.DECLINED:
        # The reason comes as the admin's next message.
        ctx.user_data[KEY] = {"step": "reason", "id": idea_id, "old": old}
        await answer(update, ctx)
        await close(query_message(update), ctx)
        await send(update, ctx, "idea_ask_reason", lang, id=idea_id)
        return
    await _moved(update, ctx, admin, idea_id, old, new, None)


async def _put_off(
    update: Update, ctx: BotContext, admin: MemberInfo, state: dict[str, Any], reason: str
) -> None:
    assert ctx.user_data is not None
    ctx.user_data.pop(KEY, None)
    # Asked again: a head may have been removed since they pressed the button.
    if await _mover(update, ctx, state["id"], "idea_move") is None:
        return
    await _moved(update, ctx, admin, state["id"], state["old"], rules.DECLINED, reason)


async def _moved(
    update: Update,
    ctx: BotContext,
    admin: MemberInfo,
    idea_id: int,
    old: str,
    new: str,
    reason: str | None,
) -> None:
    moved = await service.move(ctx.deps, idea_id, expected=old, status=new, reason=reason)
    lang = admin.language
    if moved is None:
        await send_notice(update, ctx, "idea_move_stale", lang)
        return
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="idea_status",
        detail={
            "idea_id": idea_id,
            "old": old,
            "new": new,
            "as": "admin" if admin.role in ADMIN_ROLES else "unit_head",
        },
    )
    await close(query_message(update), ctx)
    for person in moved.told:
        author = person.id == moved.idea.author_id
        points = rules.AUTHOR_POINTS if author else rules.HELPER_POINTS
        text = ctx.renderer.text(
            "idea_moved", person.language, idea=moved.idea, author=author, points=points
        )
        try:
            await ctx.bot.send_message(person.chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.info("idea status notice not delivered: %s", type(exc).__name__)
    await send_notice(update, ctx, "idea_moved_done", lang)


async def send_notice(update: Update, ctx: BotContext, label: str, lang: str) -> None:
    """A short notice: as the button's answer when there is one, else as a message."""
    if update.callback_query is not None:
        await answer(update, ctx, label, lang)
    else:
        assert update.effective_chat is not None
        await ctx.bot.send_message(update.effective_chat.id, ctx.renderer.label(label, lang))
