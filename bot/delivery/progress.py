"""The status message of a running broadcast: a progress bar, then the report."""

from __future__ import annotations

import csv
import io
import logging
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.core.deps import Deps
from bot.delivery.broadcasts import launch
from bot.delivery.sender import never_arrived
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
        # The report tells apart what surely arrived and what may not have, and why.
        "confirmed": progress.sent - progress.unconfirmed,
        "stopped": progress.unconfirmed_stopped,
        "unanswered": progress.unconfirmed - progress.unconfirmed_stopped,
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
    """Edit the status message when its text changes; True once the report is final and
    delivered (or Telegram refused it for good). A report that could not reach Telegram is
    tried again at the next tick, however long an outage lasts."""
    info = await deps.db.run(outbox.get_broadcast, broadcast_id=broadcast_id)
    if info is None or info.status_chat_id is None:
        return True
    progress = await deps.db.run(outbox.progress, broadcast_id=broadcast_id)
    lang = await _admin_language(deps, info)
    finished = info.status in ("done", "cancelled")
    if info.status_message_id is None and not finished:
        return False  # the status message never got out; the report will be a new one
    template = "bc_report" if finished else "bc_progress"
    text = deps.renderer.text(template, lang, status=info.status, **progress_view(progress, info))
    rows = []
    if finished and progress.failed:
        label = deps.renderer.label("bc_retry", lang, n=progress.failed)
        rows.append([InlineKeyboardButton(label, callback_data=f"bc:retry:{broadcast_id}")])
    if finished and progress.unconfirmed:
        label = deps.renderer.label("bc_resend", lang, n=progress.unconfirmed)
        rows.append([InlineKeyboardButton(label, callback_data=f"bc:resend:{broadcast_id}")])
    markup = InlineKeyboardMarkup(rows) if rows else None
    if deps.progress_text.get(broadcast_id) != text:
        try:
            await _show(bot, deps, info, text, markup)
        except TelegramError as exc:
            if _for_good(exc):
                # The admin deleted the message or blocked the bot: nothing more to show.
                log.info("status of broadcast %s not shown: %s", broadcast_id, exc)
                return finished
            # Telegram unreachable or slow: the next tick tries again.
            log.info("status of broadcast %s not shown yet: %s", broadcast_id, type(exc).__name__)
            return False
        deps.progress_text[broadcast_id] = text
    if finished and progress.unconfirmed and broadcast_id not in deps.reports_filed:
        try:
            await _send_unconfirmed_file(bot, deps, info, lang, progress.unconfirmed)
        except TelegramError as exc:
            if isinstance(exc, RetryAfter) or (not _for_good(exc) and never_arrived(exc)):
                log.info("list of unconfirmed recipients not sent yet: %s", type(exc).__name__)
                return False
            # Refused, or it may have arrived: never sent twice.
            log.info("list of unconfirmed recipients for %s: %s", broadcast_id, exc)
        deps.reports_filed.add(broadcast_id)
    return finished


async def _show(
    bot: Bot,
    deps: Deps,
    info: outbox.BroadcastInfo,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    assert info.status_chat_id is not None
    if info.status_message_id is None:
        # Its status message never got out (Telegram was unreachable): the report is new.
        sent = await bot.send_message(
            info.status_chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
        await deps.db.run(
            outbox.set_status_message,
            broadcast_id=info.id,
            chat_id=sent.chat_id,
            message_id=sent.message_id,
        )
        return
    try:
        await bot.edit_message_text(
            text,
            chat_id=info.status_chat_id,
            message_id=info.status_message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )
    except BadRequest as exc:
        # An edit retried after a lost answer finds its own text already there.
        if "not modified" not in exc.message:
            raise


def _for_good(exc: TelegramError) -> bool:
    """Telegram answered no (a 400 or 403): trying again would get the same answer."""
    return isinstance(exc, BadRequest | Forbidden)


async def _send_unconfirmed_file(
    bot: Bot, deps: Deps, info: outbox.BroadcastInfo, lang: str, count: int
) -> None:
    """The names (and units, never Telegram ids) of those who may not have it, as a CSV."""
    assert info.status_chat_id is not None
    people = await deps.db.run(outbox.unconfirmed_recipients, broadcast_id=info.id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [deps.renderer.label("bc_file_name", lang), deps.renderer.label("bc_file_unit", lang)]
    )
    writer.writerows(people)
    filename = deps.renderer.label("bc_file_title", lang, id=info.id)
    await bot.send_document(
        info.status_chat_id,
        InputFile(buffer.getvalue().encode("utf-8-sig"), filename=filename),
        caption=deps.renderer.text("bc_unconfirmed_file", lang, id=info.id, n=count),
        parse_mode=ParseMode.HTML,
    )
