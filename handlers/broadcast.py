"""/broadcast (audience → message → preview → send, schedule or cancel), progress and report,
/broadcast_daftar and /broadcast_batal. Admins only, every step audited."""

from __future__ import annotations

import logging
import math
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.deps import BotApp, BotContext
from bot.delivery import outbox
from bot.delivery.message import ComposeError, Draft, payload, validate
from bot.delivery.progress import start_broadcast
from bot.members import audit, units
from bot.members.accounts import MemberInfo
from bot.members.unit_search import search_words
from handlers.admin_common import require_admin
from handlers.common import Button, answer, close, edit, send
from handlers.errors import Kind, recover

log = logging.getLogger(__name__)

PAGE = 8
KEY = "broadcast"
CALLBACK = re.compile(
    r"^bc:(?:(?P<aud>aud):(?P<audience>all|units|admins|inactive)"
    r"|(?P<toggle>u):(?P<unit_id>\d{1,9})"
    r"|(?P<page>p):(?P<number>\d{1,3})"
    r"|(?P<units_done>ok)"
    r"|(?P<send>send)|(?P<schedule>later)|(?P<cancel>no)"
    r"|(?P<retry>retry):(?P<retry_id>\d{1,9})"
    r"|(?P<resend>resend|reok|reno):(?P<resend_id>\d{1,9})"
    r"|(?P<stop>stop):(?P<stop_id>\d{1,9}))$"
)
# Entities Telegram adds by itself; they are not formatting the admin chose.
DETECTED = {"bot_command", "url", "mention", "hashtag", "cashtag", "email", "phone_number"}
DATE_FORMATS = ("%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M", "%d-%m-%Y %H.%M")


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("broadcast", start, filters=private))
    app.add_handler(CommandHandler("broadcast_daftar", list_broadcasts, filters=private))
    app.add_handler(CommandHandler("broadcast_batal", cancel_menu, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^bc:"))


def _state(ctx: BotContext) -> dict[str, Any] | None:
    return ctx.user_data.get(KEY) if ctx.user_data is not None else None


def _forget(ctx: BotContext) -> None:
    """Drop the broadcast being composed (an admin's private chat always has user_data)."""
    assert ctx.user_data is not None
    ctx.user_data.pop(KEY, None)


def composing(ctx: BotContext) -> bool:
    state = _state(ctx)
    return state is not None and state.get("step") in ("units", "message", "when")


def _week_start(ctx: BotContext) -> datetime:
    now = ctx.deps.clock.now().astimezone(ZoneInfo(ctx.deps.settings.default_timezone))
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=today.weekday())


async def start(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "broadcast")
    if admin is None:
        return
    since = _week_start(ctx).isoformat()
    counts = {}
    for kind, audience in (
        ("all", {"type": "all"}),
        ("admins", {"type": "admins"}),
        ("inactive", {"type": "inactive", "since": since}),
    ):
        counts[kind] = await outbox.audience_size(ctx.db, audience=audience)
    assert ctx.user_data is not None  # an admin's private chat
    ctx.user_data[KEY] = {"step": "audience", "since": since, "unit_ids": []}
    lang = admin.language
    rows: list[list[Button]] = [
        [(ctx.renderer.label("bc_all", lang, n=counts["all"]), "bc:aud:all")],
        [(ctx.renderer.label("bc_units", lang), "bc:aud:units")],
        [(ctx.renderer.label("bc_admins", lang, n=counts["admins"]), "bc:aud:admins")],
        [(ctx.renderer.label("bc_inactive", lang, n=counts["inactive"]), "bc:aud:inactive")],
        [(ctx.renderer.label("cancel", lang), "bc:no")],
    ]
    await send(update, ctx, "bc_audience", lang, rows=rows)


async def on_button(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    admin = await require_admin(update, ctx, "broadcast_button")
    if admin is None:
        return
    match = CALLBACK.fullmatch(query.data or "")
    message = query.message if isinstance(query.message, Message) else None
    state = _state(ctx)
    lang = admin.language
    if match is None:
        await answer(update, ctx, "button_unknown", lang)
        return
    if match["retry"] or match["stop"] or match["resend"]:
        await _on_broadcast_button(update, ctx, admin, match, message)
        return
    if state is None:
        await answer(update, ctx, "button_stale", lang)
        return
    step = state.get("step")
    if match["cancel"]:
        _forget(ctx)
        await answer(update, ctx)
        await edit(message, ctx, "bc_cancelled", lang)
    elif match["aud"] and step == "audience":
        await answer(update, ctx)
        kind = match["audience"]
        if kind == "units":
            state["step"] = "units"
            await _show_units(ctx, admin, state, message, 0)
            return
        state["audience"] = (
            {"type": kind, "since": state["since"]} if kind == "inactive" else {"type": kind}
        )
        await _ask_message(update, ctx, admin, state, message)
    elif match["toggle"] and step == "units":
        unit_id = int(match["unit_id"])
        unit = await units.unit(ctx.db, unit_id=unit_id)
        if unit is None:
            await answer(update, ctx, "button_stale", lang)
            return
        await answer(update, ctx)
        chosen: list[int] = state["unit_ids"]
        if unit_id in chosen:
            chosen.remove(unit_id)
        else:
            chosen.append(unit_id)
        await _show_units(ctx, admin, state, message, state.get("page", 0))
    elif match["page"] and step == "units":
        await answer(update, ctx)
        await _show_units(ctx, admin, state, message, int(match["number"]))
    elif match["units_done"] and step == "units":
        if not state["unit_ids"]:
            await answer(update, ctx, "bc_pick_one", lang)
            return
        await answer(update, ctx)
        state["audience"] = {"type": "units", "unit_ids": list(state["unit_ids"])}
        await _ask_message(update, ctx, admin, state, message)
    elif match["send"] and step == "confirm":
        await answer(update, ctx)
        await close(message, ctx)
        await _create(update, ctx, admin, state, scheduled_at=None)
    elif match["schedule"] and step == "confirm":
        await answer(update, ctx)
        await close(message, ctx)
        state["step"] = "when"
        await send(update, ctx, "bc_ask_when", lang, tz=ctx.deps.settings.default_timezone)
    else:
        await answer(update, ctx, "button_stale", lang)


async def _on_broadcast_button(
    update: Update,
    ctx: BotContext,
    admin: MemberInfo,
    match: re.Match[str],
    message: Message | None,
) -> None:
    """Buttons about a stored broadcast (its report, the cancel menu): no draft involved."""
    if match["retry"]:
        await retry(update, ctx, admin, int(match["retry_id"]), message)
    elif match["stop"]:
        await stop(update, ctx, admin, int(match["stop_id"]), message)
    else:
        await resend(update, ctx, admin, match["resend"], int(match["resend_id"]), message)


async def _show_units(
    ctx: BotContext,
    admin: MemberInfo,
    state: dict[str, Any],
    message: Message | None,
    page: int,
    found: list[units.UnitInfo] | None = None,
) -> None:
    chosen = set(state["unit_ids"])
    items = found if found is not None else await units.opds(ctx.db)
    pages = max(1, math.ceil(len(items) / PAGE))
    page = min(max(page, 0), pages - 1)
    state["page"] = page
    rows: list[list[Button]] = [
        [(("✅ " if u.id in chosen else "") + u.name, f"bc:u:{u.id}")]
        for u in items[page * PAGE : (page + 1) * PAGE]
    ]
    nav: list[Button] = []
    if page > 0:
        nav.append((ctx.renderer.label("prev", admin.language), f"bc:p:{page - 1}"))
    if page < pages - 1:
        nav.append((ctx.renderer.label("next", admin.language), f"bc:p:{page + 1}"))
    if nav:
        rows.append(nav)
    count = 0
    if chosen:
        count = await outbox.audience_size(
            ctx.db, audience={"type": "units", "unit_ids": list(chosen)}
        )
    rows.append([(ctx.renderer.label("bc_units_done", admin.language, n=count), "bc:ok")])
    rows.append([(ctx.renderer.label("cancel", admin.language), "bc:no")])
    await edit(
        message,
        ctx,
        "bc_units",
        admin.language,
        rows=rows,
        chosen=len(chosen),
        count=count,
        page=page + 1,
        pages=pages,
    )


async def search_units(update: Update, ctx: BotContext, admin: MemberInfo, text: str) -> None:
    """While choosing units, typed text searches unit kerja and OPD by name."""
    state = _state(ctx)
    assert state is not None
    found = await units.search(ctx.db, words=search_words(text), limit=PAGE, leaves_only=False)
    sent = await send(update, ctx, "bc_units_searching", admin.language)
    await _show_units(ctx, admin, state, sent, 0, found=found)


async def _ask_message(
    update: Update,
    ctx: BotContext,
    admin: MemberInfo,
    state: dict[str, Any],
    message: Message | None,
) -> None:
    count = await outbox.audience_size(ctx.db, audience=state["audience"])
    # Shown first: if Telegram refuses the edit, the audience buttons still work.
    await edit(message, ctx, "bc_ask_message", admin.language, count=count)
    state["count"] = count
    state["step"] = "message"


async def on_admin_message(update: Update, ctx: BotContext, admin: MemberInfo) -> None:
    """Text, photo or document typed while composing a broadcast (routed by messages.py)."""
    message = update.effective_message
    state = _state(ctx)
    assert message is not None and state is not None
    lang = admin.language
    if state["step"] == "units":
        await search_units(update, ctx, admin, message.text or "")
        return
    if state["step"] == "when":
        await _schedule_at(update, ctx, admin, state, message.text or "")
        return
    draft = _draft_from(message)
    if draft is None:
        await send(update, ctx, "bc_invalid", lang, problem="kind", detail={})
        return
    try:
        validate(draft)
    except ComposeError as exc:
        await send(update, ctx, "bc_invalid", lang, problem=exc.problem, detail=exc.detail)
        return
    try:
        await _preview(update, ctx, admin, state, draft)
    except TelegramError as exc:
        # The confirm buttons may never have arrived: the draft is dropped and the next
        # message the admin sends is a new one (or they cancel); nothing is stored yet.
        state.pop("draft", None)
        state["step"] = "message"
        rows = [[(ctx.renderer.label("cancel", lang), "bc:no")]]
        kind = await recover(
            update, ctx, exc, notice="bc_preview_failed", rows=rows, show_reason=True
        )
        if kind is Kind.FORBIDDEN:
            _forget(ctx)


async def _preview(
    update: Update, ctx: BotContext, admin: MemberInfo, state: dict[str, Any], draft: Draft
) -> None:
    """The message as recipients will get it, then the confirm buttons; the step moves to
    "confirm" only once those buttons are out."""
    lang = admin.language
    await send(update, ctx, "bc_preview_intro", lang, count=state["count"])
    values = {"nama": admin.full_name, "unit": admin.unit_name or "", "opd": admin.opd_name or ""}
    assert update.effective_chat is not None
    for item in payload(draft, values)["messages"]:
        await ctx.bot.do_api_request(
            item["method"], api_kwargs={"chat_id": update.effective_chat.id, **item["params"]}
        )
    rows = [
        [(ctx.renderer.label("bc_send", lang, n=state["count"]), "bc:send")],
        [(ctx.renderer.label("bc_later", lang), "bc:later")],
        [(ctx.renderer.label("cancel", lang), "bc:no")],
    ]
    await send(update, ctx, "bc_confirm", lang, rows=rows, count=state["count"])
    state["draft"] = {"html": draft.html, "media": draft.media, "file_id": draft.file_id}
    state["step"] = "confirm"


def _draft_from(message: Message) -> Draft | None:
    if message.photo:
        return Draft(
            html=message.caption_html or "", media="photo", file_id=message.photo[-1].file_id
        )
    if message.document:
        return Draft(
            html=message.caption_html or "", media="document", file_id=message.document.file_id
        )
    if message.text:
        # Formatting made in the Telegram app arrives as entities; an admin may also type
        # Telegram HTML by hand, which is taken as it is (and validated).
        formatted = [e for e in message.entities if e.type not in DETECTED]
        if not formatted and "<" in message.text:
            return Draft(html=message.text)
        return Draft(html=message.text_html)
    return None


async def _schedule_at(
    update: Update, ctx: BotContext, admin: MemberInfo, state: dict[str, Any], text: str
) -> None:
    tz = ZoneInfo(ctx.deps.settings.default_timezone)
    when = None
    for fmt in DATE_FORMATS:
        try:
            when = datetime.strptime(" ".join(text.split()), fmt).replace(tzinfo=tz)
            break
        except ValueError:
            continue
    if when is None:
        await send(update, ctx, "bc_when_invalid", admin.language, problem="format")
        return
    now = ctx.deps.clock.now()
    if when <= now + timedelta(minutes=1):
        await send(update, ctx, "bc_when_invalid", admin.language, problem="past")
        return
    if when > now + timedelta(days=90):
        await send(update, ctx, "bc_when_invalid", admin.language, problem="far")
        return
    await _create(update, ctx, admin, state, scheduled_at=when)


async def _create(
    update: Update,
    ctx: BotContext,
    admin: MemberInfo,
    state: dict[str, Any],
    scheduled_at: datetime | None,
) -> None:
    assert update.effective_chat is not None
    _forget(ctx)
    info = await outbox.create_broadcast(
        ctx.db,
        created_by=admin.telegram_user_id,
        audience=state["audience"],
        content=state["draft"],
        paid=ctx.deps.settings.paid_broadcast,
        scheduled_at=scheduled_at,
        status_chat_id=update.effective_chat.id,
    )
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="broadcast_schedule" if scheduled_at else "broadcast_send",
        detail={"broadcast_id": info.id, "audience": state["audience"]},
        audience_size=state.get("count"),
    )
    if scheduled_at is not None:
        assert ctx.deps.schedule_broadcast is not None  # set when the bot starts
        ctx.deps.schedule_broadcast(info.id, scheduled_at)
        try:
            await send(
                update,
                ctx,
                "bc_scheduled",
                admin.language,
                id=info.id,
                when=scheduled_at,
                tz=ctx.deps.settings.default_timezone,
            )
        except TelegramError as exc:
            await recover(update, ctx, exc, then="bc_list")
        return
    failure = await start_broadcast(ctx.bot, ctx.deps, info.id)
    if failure is not None:
        # The broadcast is stored and going out; only its status message is missing.
        await recover(update, ctx, failure, then="bc_list")


async def retry(
    update: Update, ctx: BotContext, admin: MemberInfo, broadcast_id: int, message: Message | None
) -> None:
    count = await outbox.retry_failed(ctx.db, broadcast_id=broadcast_id)
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="broadcast_retry",
        detail={"broadcast_id": broadcast_id},
        audience_size=count,
    )
    await answer(update, ctx, "bc_retrying" if count else "button_stale", admin.language)
    if count:
        # Both set when the bot starts.
        assert ctx.deps.sender is not None and ctx.deps.watch_broadcast is not None
        ctx.deps.progress_text.pop(broadcast_id, None)
        ctx.deps.sender.wake()
        ctx.deps.watch_broadcast(broadcast_id)


async def resend(
    update: Update,
    ctx: BotContext,
    admin: MemberInfo,
    step: str,
    broadcast_id: int,
    message: Message | None,
) -> None:
    """Resend to the recipients whose delivery is unconfirmed: asked, warned (some may get
    it twice), confirmed, audited. Never done without the admin saying so."""
    lang = admin.language
    if step == "reno":
        await answer(update, ctx)
        await edit(message, ctx, "bc_resend_cancelled", lang, id=broadcast_id)
        return
    if step == "resend":
        pending = (await outbox.progress(ctx.db, broadcast_id=broadcast_id)).unconfirmed
        if not pending:
            await answer(update, ctx, "button_stale", lang)
            return
        await answer(update, ctx)
        rows = [
            [(ctx.renderer.label("bc_resend_yes", lang, n=pending), f"bc:reok:{broadcast_id}")],
            [(ctx.renderer.label("cancel", lang), f"bc:reno:{broadcast_id}")],
        ]
        await send(update, ctx, "bc_resend_confirm", lang, rows=rows, id=broadcast_id, n=pending)
        return
    count = await outbox.resend_unconfirmed(ctx.db, broadcast_id=broadcast_id)
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="broadcast_resend_unconfirmed",
        detail={"broadcast_id": broadcast_id},
        audience_size=count,
    )
    if not count:
        await answer(update, ctx, "button_stale", lang)
        return
    await answer(update, ctx, "bc_resending", lang)
    # Both set when the bot starts.
    assert ctx.deps.sender is not None and ctx.deps.watch_broadcast is not None
    ctx.deps.progress_text.pop(broadcast_id, None)
    ctx.deps.reports_filed.discard(broadcast_id)
    ctx.deps.sender.wake()
    ctx.deps.watch_broadcast(broadcast_id)
    await edit(message, ctx, "bc_resend_started", lang, id=broadcast_id, n=count)


async def list_broadcasts(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "broadcast_list")
    if admin is None:
        return
    items = await outbox.broadcasts(ctx.db, limit=10)
    shown = []
    for info in items:
        progress = await outbox.progress(ctx.db, broadcast_id=info.id)
        preview = re.sub(r"<[^>]+>", "", info.content.get("html", ""))[:60]
        shown.append({"info": info, "p": progress, "preview": preview})
    await send(
        update, ctx, "bc_list", admin.language, items=shown, tz=ctx.deps.settings.default_timezone
    )


async def cancel_menu(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "broadcast_cancel")
    if admin is None:
        return
    items = await outbox.broadcasts(ctx.db, limit=10, statuses=["scheduled", "running"])
    rows = [
        [
            (
                ctx.renderer.label("bc_stop", admin.language, id=i.id, status=i.status),
                f"bc:stop:{i.id}",
            )
        ]
        for i in items
    ]
    await send(update, ctx, "bc_cancel_menu", admin.language, rows=rows, count=len(items))


async def stop(
    update: Update, ctx: BotContext, admin: MemberInfo, broadcast_id: int, message: Message | None
) -> None:
    cancelled = await outbox.cancel(ctx.db, broadcast_id=broadcast_id)
    if cancelled is None:
        await answer(update, ctx, "button_stale", admin.language)
        return
    await answer(update, ctx)
    assert ctx.deps.unschedule_broadcast is not None  # set when the bot starts
    ctx.deps.unschedule_broadcast(broadcast_id)
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="broadcast_cancel",
        detail={"broadcast_id": broadcast_id},
        audience_size=cancelled,
    )
    await edit(
        message, ctx, "bc_stopped", admin.language, id=broadcast_id, rows_cancelled=cancelled
    )
