"""/statistik: members per OPD, for admins."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.core.deps import BotApp, BotContext
from bot.members import statistics as stats
from handlers.admin_common import require_admin
from handlers.common import send

MAX_ROWS = 60  # keeps the message far below Telegram's 4096 characters


def register(app: BotApp) -> None:
    app.add_handler(CommandHandler("statistik", statistics, filters=filters.ChatType.PRIVATE))


async def statistics(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "statistics")
    if admin is None:
        return
    counts = await stats.members_per_opd(ctx.db, actor_user_id=admin.telegram_user_id)
    await send(
        update, ctx, "statistics", admin.language, opds=counts.opds[:MAX_ROWS], total=counts.total
    )
