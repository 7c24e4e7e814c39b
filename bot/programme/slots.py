"""The programme's slots as admins edit them (/jadwal), and the pause (/jeda, /lanjut)."""

from __future__ import annotations

from typing import Any

from db.engine import Database
from db.queries import programme as queries

# Handlers use these from here, never from db.
from db.queries.programme import DAILY as DAILY
from db.queries.programme import LEADERBOARD as LEADERBOARD
from db.queries.programme import QUIZ as QUIZ
from db.queries.programme import Slot as Slot


async def all_slots(db: Database) -> list[Slot]:
    """Every slot, in the programme's order."""
    return await db.run(queries.slots)


async def slot(db: Database, *, key: str) -> Slot | None:
    """One slot by its key, or None."""
    return await db.run(queries.get_slot, key=key)


async def change_slot(db: Database, *, key: str, by: int, field: str, value: Any) -> None:
    """Store one field of a slot (time, days, enabled, questions, window_minutes)."""
    await db.run(queries.update_slot, key=key, by=by, **{field: value})


async def is_paused(db: Database) -> bool:
    """Whether an admin has paused the programme."""
    return await db.run(queries.paused)


async def set_paused(db: Database, *, on: bool, by: int) -> bool:
    """Pause or resume the programme; whether anything changed."""
    return await db.run(queries.set_paused, on=on, by=by)
