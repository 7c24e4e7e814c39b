"""/laporan for admins: choose a period and a scope, receive the PDF and the .xlsx."""

from __future__ import annotations

import logging
import math
from datetime import datetime

from telegram import InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.deps import BotApp, BotContext
from bot.delivery.progress import start_broadcast
from bot.members import audit, units
from bot.members.unit_search import search_words
from bot.reports.figures import Period, period_choices
from bot.reports.scheduled import nudge_silent
from bot.reports.service import make_report, words_for
from handlers.admin_common import require_admin
from handlers.common import Button, answer, close, edit, send

log = logging.getLogger(__name__)

PAGE = 8
# Every button this module shows, and nothing else.
PERIOD = r"(?P<period>m0|m1|q0|y0)"
CHOOSE_PERIOD = rf"^lap:p:{PERIOD}\Z"
PAGE_OF_OPDS = rf"^lap:g:{PERIOD}:(?P<page>\d{{1,3}})\Z"
MAKE = rf"^lap:s:{PERIOD}:(?P<opd>\d{{1,9}})\Z"
NUDGE = r"^lap:nudge:(?P<day>\d{8})\Z"
OPD = r"^lap:o:(?P<opd>\d{1,9})\Z"


def register(app: BotApp) -> None:
    app.add_handler(CommandHandler("laporan", start, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(choose_scope, pattern=CHOOSE_PERIOD))
    app.add_handler(CallbackQueryHandler(choose_scope, pattern=PAGE_OF_OPDS))
    app.add_handler(CallbackQueryHandler(make, pattern=MAKE))
    app.add_handler(CallbackQueryHandler(nudge, pattern=NUDGE))
    app.add_handler(CallbackQueryHandler(choose_period_for_opd, pattern=OPD))


def _period(ctx: BotContext, choice: str) -> Period:
    today = ctx.deps.clock.today(ctx.deps.settings.default_timezone)
    return period_choices(today)[choice]


async def start(update: Update, ctx: BotContext) -> None:
    """/laporan: choose a period, then the scope; /laporan NAMA: one OPD found by name."""
    admin = await require_admin(update, ctx, "report")
    if admin is None:
        return
    lang = admin.language
    words = search_words(" ".join(ctx.args or []))
    if words:
        found = [o for o in await units.opds(ctx.db) if all(w in o.name.casefold() for w in words)]
        if not found:
            await send(update, ctx, "report_opd_none", lang)
        elif len(found) == 1:
            await send(
                update, ctx, "report_choose_period", lang, rows=_periods(ctx, lang, found[0].id)
            )
        else:
            choices = [[(o.name, f"lap:o:{o.id}")] for o in found[:PAGE]]
            more = len(found) > PAGE
            await send(update, ctx, "report_choose_opd", lang, rows=choices, more=more)
        return
    rows: list[list[Button]] = [
        [(ctx.renderer.label(f"report_p_{c}", lang), f"lap:p:{c}")]
        for c in ("m0", "m1", "q0", "y0")
    ]
    await send(update, ctx, "report_choose_period", lang, rows=rows)


def _periods(ctx: BotContext, lang: str, opd_id: int) -> list[list[Button]]:
    """Period buttons that make the report for one OPD at once."""
    return [
        [(ctx.renderer.label(f"report_p_{c}", lang), f"lap:s:{c}:{opd_id}")]
        for c in ("m0", "m1", "q0", "y0")
    ]


async def choose_period_for_opd(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None and ctx.matches
    admin = await require_admin(update, ctx, "report")
    if admin is None:
        return
    await answer(update, ctx)
    rows = _periods(ctx, admin.language, int(ctx.matches[0]["opd"]))
    message = query.message if isinstance(query.message, Message) else None
    await edit(message, ctx, "report_choose_period", admin.language, rows=rows)


async def choose_scope(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None and ctx.matches
    admin = await require_admin(update, ctx, "report")
    if admin is None:
        return
    await answer(update, ctx)
    match = ctx.matches[0]
    choice = match["period"]
    opds = await units.opds(ctx.db)
    pages = max(1, math.ceil(len(opds) / PAGE))
    page = min(int(match.groupdict().get("page") or 0), pages - 1)
    lang = admin.language
    rows: list[list[Button]] = [[(ctx.renderer.label("report_all", lang), f"lap:s:{choice}:0")]]
    rows += [[(o.name, f"lap:s:{choice}:{o.id}")] for o in opds[page * PAGE : (page + 1) * PAGE]]
    nav: list[Button] = []
    if page > 0:
        nav.append((ctx.renderer.label("prev", lang), f"lap:g:{choice}:{page - 1}"))
    if page < pages - 1:
        nav.append((ctx.renderer.label("next", lang), f"lap:g:{choice}:{page + 1}"))
    rows.append(nav)
    period = words_for(ctx.renderer, lang).period(_period(ctx, choice))
    message = query.message if isinstance(query.message, Message) else None
    await edit(
        message, ctx, "report_choose_scope", lang, rows=rows, period=period, page=page, pages=pages
    )


async def make(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None and ctx.matches and update.effective_chat is not None
    admin = await require_admin(update, ctx, "report")
    if admin is None:
        return
    match = ctx.matches[0]
    lang = admin.language
    words = words_for(ctx.renderer, lang)
    opd_id = int(match["opd"]) or None
    opd = await units.unit(ctx.db, unit_id=opd_id) if opd_id else None
    if opd_id is not None and (opd is None or opd.parent_id is not None):
        await answer(update, ctx, "button_stale", lang)
        return
    await answer(update, ctx)
    period = _period(ctx, match["period"])
    scope = words("report_scope_opd", name=opd.name) if opd else words("report_scope_all")
    message = query.message if isinstance(query.message, Message) else None
    await edit(message, ctx, "report_building", lang, period=words.period(period), scope=scope)
    settings = ctx.deps.settings
    files = await make_report(
        ctx.db,
        content=ctx.deps.content,
        renderer=ctx.renderer,
        period=period,
        opd_id=opd_id,
        opd_code=opd.code if opd else None,
        lang=lang,
        min_size=settings.min_unit_size,
        now=ctx.deps.clock.now(),
        tz=settings.default_timezone,
    )
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="report",
        detail={"period": period.code, "opd": opd.code if opd else None},
    )
    total = files.report.total
    if opd is not None and total.members < settings.min_unit_size:
        await send(update, ctx, "report_too_small", lang, n=settings.min_unit_size)
        return
    caption = ctx.renderer.text(
        "report_ready",
        lang,
        period=words.period(period),
        scope=scope,
        members=words.number(total.members),
        participation=words.percent(total.participation),
        accuracy=words.percent(total.accuracy),
    )
    chat = update.effective_chat.id
    await ctx.bot.send_document(
        chat,
        InputFile(files.pdf, filename=f"{files.stem}.pdf"),
        caption=caption,
        parse_mode=ParseMode.HTML,
    )
    await ctx.bot.send_document(chat, InputFile(files.xlsx, filename=f"{files.stem}.xlsx"))


async def nudge(update: Update, ctx: BotContext) -> None:
    """The Monday alert's button: remind the silent units, once per alert."""
    query = update.callback_query
    assert query is not None and ctx.matches and update.effective_chat is not None
    admin = await require_admin(update, ctx, "silent_nudge")
    if admin is None:
        return
    lang = admin.language
    try:
        day = datetime.strptime(ctx.matches[0]["day"], "%Y%m%d").date()
    except ValueError:
        await answer(update, ctx, "button_unknown", lang)
        return
    result = await nudge_silent(
        ctx.deps,
        admin_user_id=admin.telegram_user_id,
        admin_chat_id=update.effective_chat.id,
        day=day,
    )
    message = query.message if isinstance(query.message, Message) else None
    if result.broadcast_id is None:
        await answer(
            update, ctx, "report_nudge_done" if result.already else "report_nudge_none", lang
        )
        await close(message, ctx)
        return
    await answer(update, ctx)
    await close(message, ctx)
    await send(
        update,
        ctx,
        "report_nudge_sent",
        lang,
        units=result.units,
        count=result.recipients,
        id=result.broadcast_id,
    )
    failure = await start_broadcast(ctx.bot, ctx.deps, result.broadcast_id)
    if failure is not None:
        log.info("nudge %s: status message failed", result.broadcast_id)
