"""The roster as people meet it: OPD and their unit kerja, found by id, list or search."""

from __future__ import annotations

from db.engine import Database
from db.queries import units as queries

# Handlers use this type from here, never from db.
from db.queries.units import UnitInfo as UnitInfo


async def unit(db: Database, *, unit_id: int) -> UnitInfo | None:
    """The unit (an OPD or a unit kerja) with this id, or None."""
    return await db.run(queries.get_unit, unit_id=unit_id)


async def opds(db: Database) -> list[UnitInfo]:
    """Every active OPD, by name."""
    return await db.run(queries.list_opd)


async def children(db: Database, *, opd_id: int) -> list[UnitInfo]:
    """The unit kerja of an OPD (none for an OPD without any)."""
    return await db.run(queries.list_children, opd_id=opd_id)


async def search(
    db: Database, *, words: list[str], limit: int = 8, leaves_only: bool = True
) -> list[UnitInfo]:
    """Units whose name or code contains every word, unit kerja before OPD."""
    return await db.run(queries.search_units, words=words, limit=limit, leaves_only=leaves_only)


async def zone(db: Database, *, unit_id: int | None, default: str) -> str:
    """The unit's time zone, or `default` when there is no such unit."""
    if unit_id is not None:
        found = await db.run(queries.get_unit, unit_id=unit_id)
        if found is not None:
            return found.timezone
    return default
