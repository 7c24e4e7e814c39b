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
    refused: bool = False  # refused attempts (collapsed per person and minute), or actions
    page: int = 1  # 1-based
    pages: int = 1
    other: int = 0  # how many entries the other list has
    actor: int | None = None  # the one person shown (their Telegram id), or everyone


async def page(
    db: Database, *, refused: bool, page: int, per_page: int, actor: int | None = None
) -> AuditPage:
    """Admin actions, or refused attempts, one page (1-based) newest first, kept apart so a
    flood of refusals never pushes the admins' actions out of sight; of one person when
    `actor` is given."""
    page = max(1, page)
    entries, total = await db.run(
        queries.page,
        allowed=not refused,
        offset=(page - 1) * per_page,
        limit=per_page,
        actor_user_id=actor,
    )
    _, other = await db.run(queries.page, allowed=refused, offset=0, limit=0, actor_user_id=actor)
    pages = max(1, -(-total // per_page))
    names = await _names(db, entries)
    if actor is not None and actor not in names:
        names.update(await _names_of(db, [actor]))
    return AuditPage(entries, names, refused, page, pages, other, actor)


async def _names(db: Database, entries: list[AuditLog]) -> dict[int, str | None]:
    return await _names_of(db, [e.actor_user_id for e in entries if e.actor_user_id])


async def _names_of(db: Database, user_ids: list[int]) -> dict[int, str | None]:
    names: dict[int, str | None] = {}
    for user_id in set(user_ids):
        member = await db.run(members.get_member, telegram_user_id=user_id)
        names[user_id] = member.full_name if member else None
    return names
