"""Shields (/cuti): working days a member marks as leave, so their streak survives them."""

from __future__ import annotations

from datetime import date

from db.engine import Database
from db.queries import leaderboard, scores


async def used(db: Database, *, member_id: int, month_start: date, month_end: date) -> int:
    """How many shields the member has taken between the two days (both included)."""
    return await db.run(
        leaderboard.shields_used, member_id=member_id, month_start=month_start, month_end=month_end
    )


async def take(db: Database, *, member_id: int, day: date) -> bool:
    """Shield the day; False when the day is already marked."""
    return await db.run(scores.mark_day, member_id=member_id, day=day, kind="shield")
