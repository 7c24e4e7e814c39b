"""Starting broadcasts: the audience is read when it goes out, each recipient's message
filled in, and every row written in one transaction before the sender sees any."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.core.config import Settings
from bot.delivery.message import Draft, payload
from bot.delivery.pacer import Limits, Pacer
from bot.delivery.sender import Sender
from db.engine import Database
from db.queries import outbox

log = logging.getLogger(__name__)


def draft_of(content: dict[str, Any]) -> Draft:
    return Draft(html=content["html"], media=content.get("media"), file_id=content.get("file_id"))


def allow_paid(messages: list[dict[str, Any]], *, on: bool) -> list[dict[str, Any]]:
    """Mark each message for a paid broadcast (Telegram's higher rate, 0.1 Stars each)."""
    if on:
        for message in messages:
            message["params"]["allow_paid_broadcast"] = True
    return messages


async def launch(db: Database, sender: Sender, broadcast_id: int) -> int:
    """Write one delivery row per recipient (one transaction) and wake the sender."""
    info = await db.run(outbox.get_broadcast, broadcast_id=broadcast_id)
    if info is None:
        return 0
    recipients = await db.run(outbox.audience_members, audience=info.audience)
    draft = draft_of(info.content)
    rows = []
    for r in recipients:
        body = payload(draft, {"nama": r.full_name, "unit": r.unit_name, "opd": r.opd_name})
        allow_paid(body["messages"], on=info.paid)
        rows.append((r.member_id, r.chat_id, body))
    count = await db.run(outbox.enqueue, broadcast_id=broadcast_id, rows=rows)
    log.info("broadcast %s: %s deliveries queued", broadcast_id, count)
    sender.wake()
    return count


def limits_from(settings: Settings) -> Limits:
    return Limits(
        per_second=settings.send_per_second,
        paid_per_second=settings.paid_per_second,
        private_interval=settings.private_interval,
        group_per_minute=settings.group_per_minute,
        max_in_flight=settings.max_in_flight,
    )


def build_sender(settings: Settings, db: Database, pacer: Pacer | None = None) -> Sender:
    """A sender with its own Bot: no PTB rate limiter in the way, pooled connections."""
    assert settings.telegram_bot_token is not None
    limits = limits_from(settings)
    request = HTTPXRequest(
        connection_pool_size=limits.max_in_flight + 4,
        read_timeout=settings.send_read_timeout,
        write_timeout=30.0,
        connect_timeout=10.0,
        pool_timeout=30.0,
    )
    bot = Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.bot_api_base_url,
        base_file_url=settings.file_url,
        request=request,
    )
    return Sender(db, bot, limits, pacer=pacer, outage_limit=settings.send_outage_limit)
