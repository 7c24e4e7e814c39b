"""A unit's Telegram group, linked to show that unit's board (/daftarkan_grup, /peringkat).

A unit's board carries the first names of members who opted in, so the group it goes to
is guarded: a unit with a group keeps it unless a programme admin moves it or an
administrator of that group agrees; every link and unlink is in the audit log."""

from __future__ import annotations

from bot.members import audit
from db.engine import Database
from db.queries import leaderboard as queries
from db.queries import units as unit_queries
from db.queries.units import Relinked as Relinked


async def linked_unit(db: Database, *, chat_id: int) -> int | None:
    """The unit whose board this group shows, or None when it is not linked."""
    return await db.run(queries.linked_unit, chat_id=chat_id)


async def group_of(db: Database, *, unit_id: int) -> int | None:
    """The group that shows this unit's board, or None."""
    return await db.run(unit_queries.unit_group, unit_id=unit_id)


async def link(
    db: Database, *, unit_id: int, chat_id: int, actor_user_id: int, via: str
) -> Relinked:
    """Make the group show this unit's board (and no other's), audited with `via` (how it
    was allowed: "first", "admin", "old_group_admin"), and each unlink it caused too."""
    result = await db.run(unit_queries.relink_group, unit_id=unit_id, chat_id=chat_id)
    await audit.record(
        db,
        actor_user_id=actor_user_id,
        action="group_link",
        detail={
            "unit_id": unit_id,
            "chat_id": chat_id,
            "previous_chat_id": result.previous_chat_id,
            "via": via,
        },
    )
    if result.previous_chat_id is not None:
        await audit.record(
            db,
            actor_user_id=actor_user_id,
            action="group_unlink",
            detail={"unit_id": unit_id, "chat_id": result.previous_chat_id, "via": via},
        )
    for other in result.displaced_unit_ids:
        await audit.record(
            db,
            actor_user_id=actor_user_id,
            action="group_unlink",
            detail={"unit_id": other, "chat_id": chat_id, "via": via},
        )
    return result
