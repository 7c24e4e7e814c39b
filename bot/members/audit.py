"""The audit log: every admin action and every refused attempt, and the latest entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from db.engine import Database
from db.models import AuditLog
from db.queries import audit as queries
from db.queries import members


async def record(
    db: Database,
    *,
    actor_user_id: int | None,
    action: str,
    detail: dict[str, Any] | None = None,
    audience_size: int | None = None,
    allowed: bool = True,
) -> None:
    """Write one entry to the audit log."""
    await db.run(
        queries.record,
        actor_user_id=actor_user_id,
        action=action,
        detail=detail,
        audience_size=audience_size,
        allowed=allowed,
    )


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditLog]
    names: dict[int, str | None]  # actor's Telegram id -> their name, None when not a member


async def latest(db: Database, *, limit: int) -> AuditPage:
    """The newest entries, newest first, with the names of the people who acted."""
    entries = await db.run(queries.latest, limit=limit)
    names: dict[int, str | None] = {}
    for user_id in {e.actor_user_id for e in entries if e.actor_user_id}:
        member = await db.run(members.get_member, telegram_user_id=user_id)
        names[user_id] = member.full_name if member else None
    return AuditPage(entries, names)
