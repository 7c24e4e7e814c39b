"""The programme for admins: /jadwal (view and edit the slots), /kirim_nilai_sekarang,
/kirim_kuis_sekarang, /jeda and /lanjut. Every change and send is audited and takes effect
at once (the scheduler is re-planned), without a restart."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.calendar import zone_label
from bot.core.deps import BotApp, BotContext
from bot.delivery import outbox
from bot.members import audit, units
from bot.members.accounts import MemberInfo
from bot.members.unit_search import search_words
from bot.programme import slots as prog
from bot.programme.slots import DAILY, QUIZ, Slot
from bot.programme.value_message import send_daily
from bot.quiz.rounds import send_quiz_round
from handlers.admin_common import require_admin
from handlers.common import Button, answer, close, edit, send
from handlers.errors import recover

log = logging.getLogger(__name__)

HOURS = range(5, 21)
MINUTES = (0, 15, 30, 45)
QUESTION_COUNTS = range(1, 6)
WINDOWS = (0, 30, 60, 120, 240)  # minutes; 0 = open until the next round
UNIT_CHOICES = 8
QUERY_MAX = 64
PENDING = "programme_send"
PENDING_MAX = 5  # confirmations one admin may leave open; older ones expire
KINDS = {"n": DAILY, "k": QUIZ}

_SLOT = r"(?P<slot>nilai|kuis|peringkat|laporan|sepi)"
_HOUR = r"(?P<hour>0[5-9]|1\d|20)"
# Every button this module shows, and nothing else: forged data never reaches a change.
HOME = re.compile(r"^prg:home\Z")
OPEN = re.compile(rf"^prg:s:{_SLOT}\Z")
TOGGLE = re.compile(rf"^prg:on:{_SLOT}\Z")
HOUR_PICKER = re.compile(rf"^prg:h:{_SLOT}\Z")
MINUTE_PICKER = re.compile(rf"^prg:hh:{_SLOT}:{_HOUR}\Z")
SET_TIME = re.compile(rf"^prg:t:{_SLOT}:{_HOUR}(?P<minute>00|15|30|45)\Z")
DAY = re.compile(rf"^prg:d:{_SLOT}:(?P<day>[1-7])\Z")
QUESTIONS = re.compile(r"^prg:q:(?P<slot>kuis):(?P<count>[1-5])\Z")
WINDOW = re.compile(r"^prg:w:(?P<slot>kuis):(?P<minutes>0|30|60|120|240)\Z")
PICK_UNIT = re.compile(r"^prg:u:(?P<kind>[nk]):(?P<unit_id>\d{1,9})\Z")
CONFIRM = re.compile(r"^prg:(?P<choice>go|no):(?P<token>[0-9a-f]{8})\Z")

Route = Callable[[Update, BotContext, MemberInfo, Message | None, re.Match[str]], Awaitable[None]]


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("jadwal", show_programme, filters=private))
    app.add_handler(CommandHandler("kirim_nilai_sekarang", send_value_now, filters=private))
    app.add_handler(CommandHandler("kirim_kuis_sekarang", send_quiz_now, filters=private))
    app.add_handler(CommandHandler("jeda", pause, filters=private))
    app.add_handler(CommandHandler("lanjut", resume, filters=private))
    # PTB matches each pattern from the start (re.match); `\Z` closes it at the very end.
    for pattern, route in ROUTES:
        app.add_handler(CallbackQueryHandler(_admin_button(pattern, route), pattern=pattern))
    app.add_handler(CallbackQueryHandler(on_unknown_button, pattern=r"^prg:"))


# --- views ------------------------------------------------------------------------------------


def _next_runs(ctx: BotContext) -> dict[str, dict[str, Any]]:
    programme = ctx.deps.programme
    if programme is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for key, due in programme.next_runs().items():
        tz = str(due.tzinfo)
        out[key] = {"at": due, "tz": tz, "zone": zone_label(tz)}
    return out


def _overview_rows(ctx: BotContext, lang: str, slots: list[Slot]) -> list[list[Button]]:
    return [[(ctx.renderer.label(f"prg_slot_{s.key}", lang), f"prg:s:{s.key}")] for s in slots]


async def _overview(ctx: BotContext) -> dict[str, Any]:
    return {
        "slots": await prog.all_slots(ctx.db),
        "next_runs": _next_runs(ctx),
        "paused": await prog.is_paused(ctx.db),
    }


def _chosen(ctx: BotContext, lang: str, text: str, on: bool) -> str:
    return ctx.renderer.label("prg_chosen", lang, text=text) if on else text


def _editor_rows(ctx: BotContext, lang: str, slot: Slot) -> list[list[Button]]:
    label = ctx.renderer.label
    key = slot.key
    days: list[Button] = [
        (_chosen(ctx, lang, label(f"prg_day_{d}", lang), d in slot.days), f"prg:d:{key}:{d}")
        for d in range(1, 8)
    ]
    rows: list[list[Button]] = [
        [(label("prg_turn_off" if slot.enabled else "prg_turn_on", lang), f"prg:on:{key}")],
        [(label("prg_change_time", lang, time=slot.time), f"prg:h:{key}")],
        days[:4],
        days[4:],
    ]
    if key == QUIZ:
        rows.append(
            [
                (
                    _chosen(ctx, lang, label("prg_questions", lang, n=n), n == slot.questions),
                    f"prg:q:{key}:{n}",
                )
                for n in QUESTION_COUNTS
            ]
        )
        windows: list[Button] = [
            (
                _chosen(ctx, lang, label(f"prg_window_{w}", lang), w == (slot.window_minutes or 0)),
                f"prg:w:{key}:{w}",
            )
            for w in WINDOWS
        ]
        rows += [windows[:3], windows[3:]]
    rows.append([(label("prg_back", lang), "prg:home")])
    return rows


async def _show_slot(
    ctx: BotContext,
    admin: MemberInfo,
    message: Message | None,
    key: str,
    *,
    picker: str | None = None,
    hour: int | None = None,
) -> None:
    slot = await prog.slot(ctx.db, key=key)
    if slot is None:
        return
    lang = admin.language
    rows: list[list[Button]]
    if picker == "hour":
        hours: list[Button] = [(f"{h:02d}", f"prg:hh:{key}:{h:02d}") for h in HOURS]
        rows = [hours[i : i + 4] for i in range(0, len(hours), 4)]
        rows.append([(ctx.renderer.label("prg_back", lang), f"prg:s:{key}")])
    elif picker == "minute" and hour is not None:
        rows = [[(f"{hour:02d}.{m:02d}", f"prg:t:{key}:{hour:02d}{m:02d}") for m in MINUTES]]
        rows.append([(ctx.renderer.label("prg_back", lang), f"prg:h:{key}")])
    else:
        rows = _editor_rows(ctx, lang, slot)
    await edit(
        message,
        ctx,
        "prg_slot",
        lang,
        rows=rows,
        slot=slot,
        next_run=_next_runs(ctx).get(key),
        paused=await prog.is_paused(ctx.db),
        picker=picker,
        hour=hour,
    )


# --- /jadwal and its buttons ------------------------------------------------------------------


async def show_programme(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "programme_view")
    if admin is None:
        return
    view = await _overview(ctx)
    rows = _overview_rows(ctx, admin.language, view["slots"])
    await send(update, ctx, "prg_overview", admin.language, rows=rows, **view)


def _admin_button(
    pattern: re.Pattern[str], route: Route
) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """A route behind the admin gate, with one way to recover when Telegram refuses."""

    async def handle(update: Update, ctx: BotContext) -> None:
        query = update.callback_query
        assert query is not None and ctx.matches
        admin = await require_admin(update, ctx, "programme_button")
        if admin is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        try:
            await route(update, ctx, admin, message, ctx.matches[0])
        except TelegramError as exc:
            # A change is stored, audited and re-planned before anything is shown, so
            # a failure to show it leaves no slot half-changed: /jadwal shows the truth.
            sending = pattern in (PICK_UNIT, CONFIRM)
            await recover(update, ctx, exc, then="retry" if sending else "jadwal")

    return handle


async def on_unknown_button(update: Update, ctx: BotContext) -> None:
    """Data that starts like ours but that no route accepts: forged, or from an old version."""
    admin = await require_admin(update, ctx, "programme_button")
    if admin is None:
        return
    log.info("programme: unknown button data refused")
    await answer(update, ctx, "button_unknown", admin.language)


async def _home(
    update: Update, ctx: BotContext, admin: MemberInfo, message: Message | None, _: re.Match[str]
) -> None:
    await answer(update, ctx)
    view = await _overview(ctx)
    rows = _overview_rows(ctx, admin.language, view["slots"])
    await edit(message, ctx, "prg_overview", admin.language, rows=rows, **view)


async def _open(
    update: Update, ctx: BotContext, admin: MemberInfo, message: Message | None, m: re.Match[str]
) -> None:
    await answer(update, ctx)
    await _show_slot(ctx, admin, message, m["slot"])


async def _hour_picker(
    update: Update, ctx: BotContext, admin: MemberInfo, message: Message | None, m: re.Match[str]
) -> None:
    await answer(update, ctx)
    await _show_slot(ctx, admin, message, m["slot"], picker="hour")


async def _minute_picker(
    update: Update, ctx: BotContext, admin: MemberInfo, message: Message | None, m: re.Match[str]
) -> None:
    await answer(update, ctx)
    await _show_slot(ctx, admin, message, m["slot"], picker="minute", hour=int(m["hour"]))


async def _change(
    update: Update,
    ctx: BotContext,
    admin: MemberInfo,
    message: Message | None,
    key: str,
    field: str,
    new: Any,
) -> None:
    """Store one field of a slot, audit it, re-plan the scheduler and show the result."""
    slot = await prog.slot(ctx.db, key=key)
    if slot is None:
        await answer(update, ctx, "button_stale", admin.language)
        return
    old = list(slot.days) if field == "days" else getattr(slot, field)
    if old == new:
        # Pressing the current choice again: nothing to store, audit or re-draw.
        await answer(update, ctx)
        return
    await prog.change_slot(ctx.db, key=key, by=admin.telegram_user_id, field=field, value=new)
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="programme_change",
        detail={"slot": key, "field": field, "old": old, "new": new},
    )
    if ctx.deps.programme is not None:
        await ctx.deps.programme.plan()
    await answer(update, ctx, "prg_saved", admin.language)
    await _show_slot(ctx, admin, message, key)


async def _toggle(
    update: Update, ctx: BotContext, admin: MemberInfo, message: Message | None, m: re.Match[str]
) -> None:
    slot = await prog.slot(ctx.db, key=m["slot"])
    if slot is None:
        await answer(update, ctx, "button_stale", admin.language)
        return
    await _change(update, ctx, admin, message, slot.key, "enabled", not slot.enabled)


async def _set_time(
    update: Update, ctx: BotContext, admin: MemberInfo, message: Message | None, m: re.Match[str]
) -> None:
    await _change(update, ctx, admin, message, m["slot"], "time", f"{m['hour']}:{m['minute']}")


async def _day(
    update: Update, ctx: BotContext, admin: MemberInfo, message: Message | None, m: re.Match[str]
) -> None:
    slot = await prog.slot(ctx.db, key=m["slot"])
    if slot is None:
        await answer(update, ctx, "button_stale", admin.language)
        return
    day = int(m["day"])
    days = set(slot.days) ^ {day}
    if not days:
        # A slot with no days would silently never run; switching it off says so openly.
        await answer(update, ctx, "prg_one_day", admin.language)
        return
    await _change(update, ctx, admin, message, slot.key, "days", sorted(days))


async def _questions(
    update: Update, ctx: BotContext, admin: MemberInfo, message: Message | None, m: re.Match[str]
) -> None:
    await _change(update, ctx, admin, message, m["slot"], "questions", int(m["count"]))


async def _window(
    update: Update, ctx: BotContext, admin: MemberInfo, message: Message | None, m: re.Match[str]
) -> None:
    minutes = int(m["minutes"]) or None
    await _change(update, ctx, admin, message, m["slot"], "window_minutes", minutes)


# --- sending now ------------------------------------------------------------------------------


async def send_value_now(update: Update, ctx: BotContext) -> None:
    await _send_now(update, ctx, "n", "send_value_now")


async def send_quiz_now(update: Update, ctx: BotContext) -> None:
    await _send_now(update, ctx, "k", "send_quiz_now")


async def _send_now(update: Update, ctx: BotContext, kind: str, action: str) -> None:
    admin = await require_admin(update, ctx, action)
    if admin is None:
        return
    text = " ".join(ctx.args or [])[:QUERY_MAX]
    if not text.strip():
        await _ask_confirmation(update, ctx, admin, kind, None, None)
        return
    found = await units.search(
        ctx.db, words=search_words(text), limit=UNIT_CHOICES, leaves_only=False
    )
    if len(found) == 1:
        await _ask_confirmation(update, ctx, admin, kind, found[0], None)
        return
    rows: list[list[Button]] = [
        [(f"{u.name} · {u.parent_name}" if u.parent_name else u.name, f"prg:u:{kind}:{u.id}")]
        for u in found
    ]
    await send(
        update,
        ctx,
        "prg_send_units",
        admin.language,
        rows=rows,
        kind=KINDS[kind],
        query=text,
        results=found,
    )


async def _pick_unit(
    update: Update, ctx: BotContext, admin: MemberInfo, message: Message | None, m: re.Match[str]
) -> None:
    unit = await units.unit(ctx.db, unit_id=int(m["unit_id"]))
    if unit is None:
        await answer(update, ctx, "button_stale", admin.language)
        return
    await answer(update, ctx)
    await _ask_confirmation(update, ctx, admin, m["kind"], unit, message)


def _pending(ctx: BotContext) -> dict[str, dict[str, Any]]:
    assert ctx.user_data is not None
    store: dict[str, dict[str, Any]] = ctx.user_data.setdefault(PENDING, {})
    return store


async def _ask_confirmation(
    update: Update,
    ctx: BotContext,
    admin: MemberInfo,
    kind: str,
    unit: units.UnitInfo | None,
    message: Message | None,
) -> None:
    """The audience size and Kirim / Batal; in place of the unit list when picked there."""
    audience: dict[str, Any] = {"type": "units", "unit_ids": [unit.id]} if unit else {"type": "all"}
    count = await outbox.audience_size(ctx.db, audience=audience)
    quiz = await prog.slot(ctx.db, key=QUIZ) if kind == "k" else None
    rows: list[list[Button]] = []
    if count:
        # The token is used once: a second press of the same (or an older) button finds
        # nothing and sends nothing.
        token = secrets.token_hex(4)
        store = _pending(ctx)
        store[token] = {"kind": kind, "audience": audience, "unit": unit}
        for stale in list(store)[:-PENDING_MAX]:
            store.pop(stale, None)
        rows = [
            [(ctx.renderer.label("prg_send", admin.language, n=count), f"prg:go:{token}")],
            [(ctx.renderer.label("cancel", admin.language), f"prg:no:{token}")],
        ]
    context: dict[str, Any] = {
        "kind": KINDS[kind],
        "count": count,
        "unit": unit,
        "questions": quiz.questions if quiz else None,
        "window_minutes": quiz.window_minutes if quiz else None,
    }
    if message is not None:
        await edit(message, ctx, "prg_send_confirm", admin.language, rows=rows, **context)
    else:
        await send(update, ctx, "prg_send_confirm", admin.language, rows=rows, **context)


async def _confirm(
    update: Update, ctx: BotContext, admin: MemberInfo, message: Message | None, m: re.Match[str]
) -> None:
    pending = _pending(ctx).pop(m["token"], None)
    if pending is None:
        await answer(update, ctx, "button_stale", admin.language)
        return
    await answer(update, ctx)
    kind: str = pending["kind"]
    if m["choice"] == "no":
        await edit(message, ctx, "prg_send_cancelled", admin.language, kind=KINDS[kind])
        return
    await close(message, ctx)
    audience: dict[str, Any] = pending["audience"]
    tz = await _admin_zone(ctx, admin)
    day = ctx.deps.clock.today(tz)
    if kind == "n":
        broadcast_id, count = await send_daily(
            ctx.deps, audience, day=day, created_by=admin.telegram_user_id
        )
        action = "send_value_now"
    else:
        quiz = await prog.slot(ctx.db, key=QUIZ)
        broadcast_id, count = await send_quiz_round(
            ctx.deps,
            audience,
            day=day,
            questions=quiz.questions if quiz else 3,
            window_minutes=quiz.window_minutes if quiz else None,
            created_by=admin.telegram_user_id,
        )
        action = "send_quiz_now"
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action=action,
        detail={"broadcast_id": broadcast_id, "audience": audience, "day": day.isoformat()},
        audience_size=count,
    )
    try:
        await send(
            update,
            ctx,
            "prg_send_done",
            admin.language,
            kind=KINDS[kind],
            count=count,
            unit=pending["unit"],
        )
    except TelegramError as exc:
        # It is on its way: "try again" would send it twice.
        await recover(update, ctx, exc, then="done")


async def _admin_zone(ctx: BotContext, admin: MemberInfo) -> str:
    """The admin's unit zone: "today" for a send-now is the admin's own local date."""
    return await units.zone(
        ctx.db, unit_id=admin.unit_id, default=ctx.deps.settings.default_timezone
    )


# --- pause and resume -------------------------------------------------------------------------


async def pause(update: Update, ctx: BotContext) -> None:
    await _set_paused(update, ctx, on=True)


async def resume(update: Update, ctx: BotContext) -> None:
    await _set_paused(update, ctx, on=False)


async def _set_paused(update: Update, ctx: BotContext, *, on: bool) -> None:
    action = "programme_pause" if on else "programme_resume"
    admin = await require_admin(update, ctx, action)
    if admin is None:
        return
    changed = await prog.set_paused(ctx.db, on=on, by=admin.telegram_user_id)
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action=action,
        detail={"changed": changed},
    )
    await send(update, ctx, "prg_pause", admin.language, on=on, changed=changed)


ROUTES: tuple[tuple[re.Pattern[str], Route], ...] = (
    (HOME, _home),
    (OPEN, _open),
    (TOGGLE, _toggle),
    (HOUR_PICKER, _hour_picker),
    (MINUTE_PICKER, _minute_picker),
    (SET_TIME, _set_time),
    (DAY, _day),
    (QUESTIONS, _questions),
    (WINDOW, _window),
    (PICK_UNIT, _pick_unit),
    (CONFIRM, _confirm),
)
