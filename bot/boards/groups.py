"""A unit's Telegram group, linked to show that unit's board (/daftarkan_grup, /peringkat)."""

from __future__ import annotations

from db.engine import Database
from db.queries import leaderboard as queries


async def linked_unit(db: Database, *, chat_id: int) -> int | None:
    """The unit whose board this group shows, or None when it is not linked."""
    return await db.run(queries.linked_unit, chat_id=chat_id)


async def link(db: Database, *, unit_id: int, chat_id: int) -> str:
    """Make the group show this unit's board (and no other's); the unit's name."""
    return await db.run(queries.link_group, unit_id=unit_id, chat_id=chat_id)
