"""/statistik: members per OPD, for admins."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.core.deps import BotContext
from db.queries import audit, units
from handlers.admin_common import require_admin
from handlers.common import send

MAX_ROWS = 60  # keeps the message far below Telegram's 4096 characters


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("statistik", statistics, filters=filters.ChatType.PRIVATE))


async def statistics(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "statistics")
    if admin is None:
        return
    rows = await ctx.db.run(units.count_by_opd)
    total = sum(count for _, count in rows)
    await ctx.db.run(
        audit.record, actor_user_id=admin.telegram_user_id, action="statistics", audience_size=total
    )
    await send(update, ctx, "statistics", admin.language, opds=rows[:MAX_ROWS], total=total)
