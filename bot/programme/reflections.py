"""Reflections as members send them: which daily message one answers, and storing it."""

from __future__ import annotations

from typing import Any

from bot.core.deps import Deps
from bot.programme import activity
from db.engine import Database


async def reply_target(
    db: Database, *, member_id: int, message_id: int
) -> tuple[int, dict[str, Any]] | None:
    """The daily value broadcast (id, content) whose message to the member has this id."""
    return await db.run(activity.daily_message, member_id=member_id, message_id=message_id)


async def record(
    deps: Deps,
    *,
    member_id: int,
    text: str,
    prompt_id: str,
    value: str,
    broadcast_id: int | None,
) -> int:
    """Store a reflection, with its points (only the day's first earns any); the points."""
    return await deps.db.run(
        activity.record_reflection,
        member_id=member_id,
        text=text,
        prompt_id=prompt_id,
        value=value,
        broadcast_id=broadcast_id,
        now=deps.clock.now(),
        rules=deps.rules,
        calendar=deps.calendar,
    )
