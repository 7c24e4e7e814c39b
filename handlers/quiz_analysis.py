"""/analisis_soal for admins: how each question behaves with real members, as a summary and
an .xlsx; flagged questions are set aside until HR marks them reviewed."""

from __future__ import annotations

from telegram import InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.deps import BotApp, BotContext
from bot.members import audit
from bot.quiz import analysis
from handlers.admin_common import require_admin
from handlers.common import Button, answer, close, send


def register(app: BotApp) -> None:
    app.add_handler(CommandHandler("analisis_soal", analyse, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(reviewed, pattern=r"^ana:ok\Z"))


async def analyse(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "item_analysis")
    if admin is None:
        return
    assert update.effective_chat is not None
    lang = admin.language
    stats = await analysis.analyse(ctx.deps)
    aside = await analysis.retire_flagged(ctx.deps, stats)
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="item_analysis",
        detail={"set_aside": aside},
    )
    judged = [s for s in stats if s.answers >= analysis.MIN_ITEM_ANSWERS]
    flagged = [s for s in stats if s.flags]
    rows: list[list[Button]] = []
    if flagged:
        rows = [[(ctx.renderer.label("analysis_reviewed", lang), "ana:ok")]]
    await send(
        update,
        ctx,
        "analysis_summary",
        lang,
        rows=rows,
        total=len(stats),
        judged=len(judged),
        minimum=analysis.MIN_ITEM_ANSWERS,
        flagged=flagged[:20],
        more=max(0, len(flagged) - 20),
        aside=len(aside),
    )
    header = ctx.renderer.label("analysis_header", lang).split("|")
    data = await analysis.analysis_xlsx(stats, header, ctx.deps.clock.now())
    await ctx.bot.send_document(
        update.effective_chat.id,
        InputFile(data, filename="analisis_soal.xlsx"),
        caption=ctx.renderer.text("analysis_file", lang),
        parse_mode=ParseMode.HTML,
    )


async def reviewed(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "item_review")
    if admin is None:
        return
    count = await analysis.mark_reviewed(ctx.deps)
    await audit.record(
        ctx.db, actor_user_id=admin.telegram_user_id, action="item_review", audience_size=count
    )
    await answer(update, ctx, "analysis_back", admin.language)
    query = update.callback_query
    await close(query.message if query and isinstance(query.message, Message) else None, ctx)
