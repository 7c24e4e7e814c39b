"""Unit heads (kepala unit): an admin names one per unit. A head moves the ideas addressed
to their unit and reviews the stories of its members, the way admins do; an OPD's head
does so for its unit kerja too. Publishing to the public channel stays with the admins."""

from __future__ import annotations

from datetime import datetime

from bot.members.accounts import ADMIN_ROLES, MemberInfo
from db.engine import Database
from db.queries import unit_heads as queries

# Handlers use this type from here, never from db.
from db.queries.unit_heads import HeadInfo as HeadInfo


async def name_head(db: Database, *, unit_id: int, member_id: int, now: datetime) -> int | None:
    """Make the member the unit's head; the member id of the head they replace, if any."""
    return await db.run(queries.set_head, unit_id=unit_id, member_id=member_id, now=now)


async def remove_head(db: Database, *, unit_id: int, member_id: int) -> bool:
    """False when the member is no longer the unit's head (removed or replaced first)."""
    return await db.run(queries.remove_head, unit_id=unit_id, member_id=member_id)


async def head_of(db: Database, *, unit_id: int) -> int | None:
    return await db.run(queries.head_of, unit_id=unit_id)


async def heads(db: Database) -> list[HeadInfo]:
    return await db.run(queries.list_heads)


async def units_headed(db: Database, member: MemberInfo) -> frozenset[int]:
    """The units whose ideas and stories this member may review as their head."""
    return frozenset(await db.run(queries.units_headed, member_id=member.id))


async def may_review(db: Database, member: MemberInfo, unit_id: int | None) -> bool:
    """An admin reviews everything; a head, what belongs to the units they head (never an
    idea for the whole instansi, whose unit is None)."""
    if member.role in ADMIN_ROLES:
        return True
    return unit_id is not None and unit_id in await units_headed(db, member)


async def is_head(db: Database, member: MemberInfo) -> bool:
    return bool(await units_headed(db, member))
