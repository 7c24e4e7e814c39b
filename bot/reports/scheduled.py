"""What the programme sends admins by itself: last month's report on the month's first
working day, and on Mondays the units that went quiet, with a button to nudge them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.core.deps import Deps
from bot.delivery import outbox
from bot.members import audit
from bot.reports.figures import period_choices, silent_units
from bot.reports.service import make_report, words_for
from db.queries import programme as prog
from db.queries.members import list_admins

log = logging.getLogger(__name__)
# A Monday alert names this many units at most; the report lists them all.
ALERT_MAX = 30
# The claim that makes a Monday's reminder go out once (a programme run of its own).
NUDGE = "sepi-ingat"


async def send_monthly(deps: Deps, bot: Bot, day: date) -> None:
    """Last month's report for the whole instansi to every admin, in their language."""
    admins = await deps.db.run(list_admins)
    period = period_choices(day)["m1"]
    settings = deps.settings
    made = {}
    for lang in sorted({a.language for a in admins}):
        made[lang] = await make_report(
            deps.db,
            content=deps.content,
            renderer=deps.renderer,
            period=period,
            opd_id=None,
            opd_code=None,
            lang=lang,
            min_size=settings.min_unit_size,
            now=deps.clock.now(),
            tz=settings.default_timezone,
        )
    for admin in admins:
        files = made[admin.language]
        words = words_for(deps.renderer, admin.language)
        total = files.report.total
        caption = deps.renderer.text(
            "report_monthly",
            admin.language,
            period=words.period(period),
            members=words.number(total.members),
            participation=words.percent(total.participation),
            accuracy=words.percent(total.accuracy),
        )
        try:
            await bot.send_document(
                admin.chat_id,
                InputFile(files.pdf, filename=f"{files.stem}.pdf"),
                caption=caption,
                parse_mode=ParseMode.HTML,
            )
            await bot.send_document(
                admin.chat_id, InputFile(files.xlsx, filename=f"{files.stem}.xlsx")
            )
        except TelegramError as exc:
            # One admin who blocked the bot must not keep the report from the others.
            log.warning("monthly report not delivered to an admin: %s", type(exc).__name__)


async def send_silent_alert(deps: Deps, bot: Bot, day: date) -> None:
    """The units that went quiet, to every admin, with a button that nudges them; nothing
    when no unit is silent."""
    silent = await silent_units(
        deps.db, today=day, now=deps.clock.now(), min_size=deps.settings.min_unit_size
    )
    if not silent:
        return
    for admin in await deps.db.run(list_admins):
        words = words_for(deps.renderer, admin.language)
        text = deps.renderer.text(
            "report_silent_alert",
            admin.language,
            units=[(u.name, u.members, words.silent_reason(u)) for u in silent[:ALERT_MAX]],
            more=max(0, len(silent) - ALERT_MAX),
        )
        button = InlineKeyboardButton(
            deps.renderer.label("report_nudge", admin.language, n=len(silent)),
            callback_data=f"lap:nudge:{day:%Y%m%d}",
        )
        try:
            await bot.send_message(
                admin.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=InlineKeyboardMarkup([[button]]),
            )
        except TelegramError as exc:
            log.warning("silent-units alert not delivered to an admin: %s", type(exc).__name__)


@dataclass(frozen=True)
class Nudge:
    broadcast_id: int | None  # None: already sent for that alert, or no unit is silent
    units: int
    recipients: int
    already: bool


async def nudge_silent(deps: Deps, *, admin_user_id: int, admin_chat_id: int, day: date) -> Nudge:
    """The reminder to the units that are silent now, once per Monday alert whichever admin
    presses first (the claim is a programme run, unique per day)."""
    silent = await silent_units(
        deps.db, today=day, now=deps.clock.now(), min_size=deps.settings.min_unit_size
    )
    if not silent:
        return Nudge(None, 0, 0, already=False)
    run_id = await deps.db.run(
        prog.claim_run,
        slot=NUDGE,
        timezone=deps.settings.default_timezone,
        local_date=day,
        due_at=deps.clock.now(),
        status="sent",
    )
    if run_id is None:
        return Nudge(None, len(silent), 0, already=True)
    audience = {"type": "units", "unit_ids": [u.id for u in silent]}
    info = await outbox.create_broadcast(
        deps.db,
        created_by=admin_user_id,
        audience=audience,
        content={"html": deps.renderer.text("report_nudge", "id")},
        paid=False,
        scheduled_at=None,
        status_chat_id=admin_chat_id,
    )
    count = await outbox.audience_size(deps.db, audience=audience)
    await deps.db.run(prog.set_run_broadcast, run_id=run_id, broadcast_id=info.id)
    await audit.record(
        deps.db,
        actor_user_id=admin_user_id,
        action="silent_nudge",
        detail={"broadcast_id": info.id, "units": len(silent), "day": day.isoformat()},
        audience_size=count,
    )
    return Nudge(info.id, len(silent), count, already=False)
