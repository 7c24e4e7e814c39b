"""The outbox as admins see it: audience sizes, broadcasts created, listed, retried and
cancelled. The sending itself is the sender's (bot/delivery/sender.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from db.engine import Database
from db.queries import outbox as queries

# Handlers use these types from here, never from db.
from db.queries.outbox import BroadcastInfo as BroadcastInfo
from db.queries.outbox import Progress as Progress


async def audience_size(db: Database, *, audience: dict[str, Any]) -> int:
    """How many reachable members an audience names now."""
    return await db.run(queries.count_audience, audience=audience)


async def create_broadcast(
    db: Database,
    *,
    created_by: int,
    audience: dict[str, Any],
    content: dict[str, Any],
    paid: bool,
    scheduled_at: datetime | None,
    status_chat_id: int,
) -> BroadcastInfo:
    """Store an admin's broadcast; it goes out when launched or at `scheduled_at`."""
    return await db.run(
        queries.create_broadcast,
        kind="broadcast",
        created_by=created_by,
        audience=audience,
        content=content,
        paid=paid,
        scheduled_at=scheduled_at,
        status_chat_id=status_chat_id,
    )


async def set_status_message(
    db: Database, *, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    """The message that shows the broadcast's progress, edited as it goes out."""
    await db.run(
        queries.set_status_message,
        broadcast_id=broadcast_id,
        chat_id=chat_id,
        message_id=message_id,
    )


async def retry_failed(db: Database, *, broadcast_id: int) -> int:
    """Queue the failed deliveries of a broadcast again; how many."""
    return await db.run(queries.retry_failed, broadcast_id=broadcast_id)


async def cancel(db: Database, *, broadcast_id: int) -> int | None:
    """Cancel a scheduled or running broadcast; the rows cancelled, None if it can't be."""
    return await db.run(queries.cancel, broadcast_id=broadcast_id)


async def broadcasts(
    db: Database, *, limit: int, statuses: Iterable[str] | None = None
) -> list[BroadcastInfo]:
    """Admins' broadcasts, newest first, optionally only those in some statuses."""
    return await db.run(
        queries.list_broadcasts,
        limit=limit,
        statuses=list(statuses) if statuses is not None else None,
        kind="broadcast",
    )


async def progress(db: Database, *, broadcast_id: int) -> Progress:
    """How far a broadcast has gone: sent, failed, still waiting."""
    return await db.run(queries.progress, broadcast_id=broadcast_id)


async def resend_unconfirmed(db: Database, *, broadcast_id: int) -> int:
    """Queue again the deliveries that may or may not have arrived (the admin accepted that
    some get it twice); how many."""
    return await db.run(queries.resend_unconfirmed, broadcast_id=broadcast_id)
