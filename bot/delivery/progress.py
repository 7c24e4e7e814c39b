"""The status message of a running broadcast: a progress bar, then the report."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.core.deps import Deps
from bot.delivery.broadcasts import launch
from db.models import utcnow
from db.queries import members, outbox

log = logging.getLogger(__name__)


def progress_view(progress: outbox.Progress | None, info: outbox.BroadcastInfo) -> dict[str, Any]:
    """What the bc_progress and bc_report templates show."""
    if progress is None:
        return {"id": info.id, "p": None, "bar": "░" * 10, "percent": 0, "rate": 0.0, "eta": None}
    handled = progress.total - progress.remaining
    percent = int(100 * handled / progress.total) if progress.total else 100
    elapsed = (utcnow() - info.started_at).total_seconds() if info.started_at else 0.0
    rate = handled / elapsed if elapsed > 0 else 0.0
    eta = int(progress.remaining / rate) if rate > 0 and progress.remaining else None
    filled = percent // 10
    return {
        "id": info.id,
        "p": progress,
        "bar": "▓" * filled + "░" * (10 - filled),
        "percent": percent,
        "rate": rate,
        "eta": eta,
    }


async def _admin_language(deps: Deps, info: outbox.BroadcastInfo) -> str:
    admin = (
        await deps.db.run(members.get_member, telegram_user_id=info.created_by)
        if info.created_by
        else None
    )
    return admin.language if admin else "id"


async def start_broadcast(bot: Bot, deps: Deps, broadcast_id: int) -> TelegramError | None:
    """The one way a stored broadcast starts, at once or at its hour: the status message in
    the admin's chat, one delivery row per recipient, and a watch that keeps the status
    current. The error is returned when the status message could not be posted: the
    broadcast goes out all the same."""
    info = await deps.db.run(outbox.get_broadcast, broadcast_id=broadcast_id)
    if info is None:
        return None
    failure = None
    if info.status_chat_id is not None:
        lang = await _admin_language(deps, info)
        text = deps.renderer.text("bc_progress", lang, **progress_view(None, info))
        try:
            status = await bot.send_message(info.status_chat_id, text, parse_mode=ParseMode.HTML)
            await deps.db.run(
                outbox.set_status_message,
                broadcast_id=broadcast_id,
                chat_id=status.chat_id,
                message_id=status.message_id,
            )
        except TelegramError as exc:
            log.info("status message for broadcast %s failed: %s", broadcast_id, type(exc).__name__)
            failure = exc
    # Both set by start_services before any update or job can start a broadcast.
    assert deps.sender is not None and deps.watch_broadcast is not None
    await launch(deps.db, deps.sender, broadcast_id)
    deps.watch_broadcast(broadcast_id)
    return failure


async def report_progress(bot: Bot, deps: Deps, broadcast_id: int) -> bool:
    """Edit the status message when its text changes; True once the report is final."""
    info = await deps.db.run(outbox.get_broadcast, broadcast_id=broadcast_id)
    if info is None or info.status_chat_id is None or info.status_message_id is None:
        return True
    progress = await deps.db.run(outbox.progress, broadcast_id=broadcast_id)
    lang = await _admin_language(deps, info)
    finished = info.status in ("done", "cancelled")
    template = "bc_report" if finished else "bc_progress"
    text = deps.renderer.text(template, lang, status=info.status, **progress_view(progress, info))
    markup = None
    if finished and progress.failed:
        label = deps.renderer.label("bc_retry", lang, n=progress.failed)
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=f"bc:retry:{broadcast_id}")]]
        )
    if deps.progress_text.get(broadcast_id) != text:
        try:
            await bot.edit_message_text(
                text,
                chat_id=info.status_chat_id,
                message_id=info.status_message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
            deps.progress_text[broadcast_id] = text
        except TelegramError as exc:
            # A progress bar must never stop a broadcast (the admin may have deleted it).
            log.info("progress edit skipped: %s", type(exc).__name__)
    return finished
