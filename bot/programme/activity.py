"""What members do besides answering quizzes (`bot.quiz.answers`): reflections, with
their points and the member's streak, and where and when a member is.

These functions take the caller's session (they run inside `Database.run`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.core.calendar import WorkCalendar
from bot.core.config import Settings
from bot.scores.scoring import PointRules, streak, streak_bonus
from db.models import Broadcast, Delivery, Member, Reflection, Unit
from db.queries import scores


def rules_from(settings: Settings) -> PointRules:
    return PointRules(
        correct=settings.points_correct,
        answered=settings.points_answered,
        reflection=settings.points_reflection,
        streak_bonus=settings.points_streak_bonus,
        streak_every=settings.streak_every,
        shields_per_month=settings.shields_per_month,
    )


def member_zone(session: Session, member: Member) -> str:
    unit = session.get(Unit, member.unit_id) if member.unit_id is not None else None
    return unit.timezone if unit else "Asia/Jakarta"


def zone_of(*, session: Session, member_id: int) -> str:
    """The member's unit's time zone (Jakarta when unknown): their local day and hour."""
    member = session.get(Member, member_id)
    return member_zone(session, member) if member else "Asia/Jakarta"


def local_day(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def _take_part(
    session: Session,
    member: Member,
    day: date,
    rules: PointRules,
    calendar: WorkCalendar,
) -> int:
    """Mark the day as active; on the first activity of a working day, the streak bonus."""
    assert member.id is not None
    if not scores.mark_day(session=session, member_id=member.id, day=day):
        return 0
    if not calendar.is_working_day(day):
        return 0
    active, shields = scores.member_days(
        session=session, member_id=member.id, since=day - timedelta(days=400)
    )
    return streak_bonus(rules, streak(active, shields, calendar, day))


def record_reflection(
    *,
    session: Session,
    member_id: int,
    text: str,
    prompt_id: str,
    value: str,
    broadcast_id: int | None,
    now: datetime,
    rules: PointRules,
    calendar: WorkCalendar,
) -> int:
    """Store the reflection; points only for the first one of a day. Returns the points."""
    member = session.get(Member, member_id)
    assert member is not None
    day = local_day(now, member_zone(session, member))
    first_today = (
        session.exec(
            select(Reflection.id).where(
                Reflection.member_id == member_id, Reflection.local_date == day
            )
        ).first()
        is None
    )
    points = rules.reflection if first_today else 0
    bonus = _take_part(session, member, day, rules, calendar)
    session.add(
        Reflection(
            member_id=member_id,
            prompt_id=prompt_id,
            value=value,
            broadcast_id=broadcast_id,
            local_date=day,
            text=text,
            points=points,
            created_at=now,
        )
    )
    scores.add_scores(
        session=session,
        changes=[
            scores.ScoreChange(
                member_id=member_id,
                unit_id=member.unit_id,
                day=day,
                points=points + bonus,
                reflections=1,
            )
        ],
    )
    member.last_active_at = now
    session.add(member)
    return points + bonus


def daily_message(
    *, session: Session, member_id: int, message_id: int
) -> tuple[int, dict[str, Any]] | None:
    """The daily value broadcast whose message (to this member) has this id, if any."""
    row = session.exec(
        select(col(Broadcast.id), col(Broadcast.content))
        .join(Delivery, col(Delivery.broadcast_id) == Broadcast.id)
        .where(
            Delivery.member_id == member_id,
            Delivery.message_id == message_id,
            Broadcast.kind == "nilai",
        )
    ).first()
    if row is None or row[0] is None:  # a stored broadcast always has its id
        return None
    return row[0], row[1]
