"""/statistik: how many members each OPD has."""

from __future__ import annotations

from dataclasses import dataclass

from bot.members import audit
from db.engine import Database
from db.queries import units


@dataclass(frozen=True)
class OpdCounts:
    opds: list[tuple[str, int]]  # (OPD name, active members), largest first
    total: int


async def members_per_opd(db: Database, *, actor_user_id: int) -> OpdCounts:
    """Active members per OPD; the look is audited, as every admin action is."""
    rows = await db.run(units.count_by_opd)
    total = sum(count for _, count in rows)
    await audit.record(db, actor_user_id=actor_user_id, action="statistics", audience_size=total)
    return OpdCounts(rows, total)
