"""Recording what members do: a quiz answer or a reflection, with its points, the member's
streak, and (for quiz answers) the question's Leitner box, all in one transaction.

These functions take the caller's session (they run inside `Database.run`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from bot.calendar import WorkCalendar
from bot.config import Settings
from bot.services.scoring import PointRules, answer_points, streak, streak_bonus
from bot.services.selection import next_box
from db.models import (
    Broadcast,
    Member,
    QuestionBox,
    QuestionRow,
    QuizAnswer,
    QuizPoll,
    Reflection,
    Unit,
    utcnow,
)
from db.queries import scores

log = logging.getLogger(__name__)


class AnswerResult(StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    UNKNOWN_POLL = "unknown_poll"
    WRONG_USER = "wrong_user"
    CLOSED = "closed"


@dataclass(frozen=True)
class RoundTally:
    round_id: int
    total: int
    answered: int
    correct: int
    points: int


@dataclass(frozen=True)
class Recorded:
    result: AnswerResult
    correct: bool | None = None
    points: int = 0
    member_id: int | None = None
    chat_id: int | None = None
    language: str = "id"
    # Set when this answer completed the member's round.
    round_done: RoundTally | None = None


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


def record_answer(
    *,
    session: Session,
    poll_id: str,
    telegram_user_id: int,
    option: int,
    now: datetime,
    rules: PointRules,
    calendar: WorkCalendar,
) -> Recorded:
    poll = session.get(QuizPoll, poll_id)
    if poll is None:
        return Recorded(AnswerResult.UNKNOWN_POLL)
    member = session.get(Member, poll.member_id)
    if member is None or member.telegram_user_id != telegram_user_id or member.deleted_at:
        return Recorded(AnswerResult.WRONG_USER)
    base = {"member_id": member.id, "chat_id": member.chat_id, "language": member.language}
    if session.exec(select(QuizAnswer.id).where(QuizAnswer.poll_id == poll_id)).first():
        return Recorded(AnswerResult.DUPLICATE, **base)  # type: ignore[arg-type]
    if poll.round_id is not None:
        round_ = session.get(Broadcast, poll.round_id)
        closes = round_.content.get("closes_at") if round_ else None
        if closes and now > datetime.fromisoformat(closes):
            return Recorded(AnswerResult.CLOSED, **base)  # type: ignore[arg-type]
    question = session.get(QuestionRow, poll.question_id)
    assert question is not None and member.id is not None
    correct = option == question.correct
    day = local_day(now, member_zone(session, member))
    points = answer_points(rules, correct=correct, practice=poll.practice)
    bonus = 0 if poll.practice else _take_part(session, member, day, rules, calendar)
    session.add(
        QuizAnswer(
            poll_id=poll_id,
            member_id=member.id,
            question_id=poll.question_id,
            value=question.value,
            option=option,
            correct=correct,
            seconds=max(0, int((utcnow() - poll.sent_at).total_seconds())),  # both real time
            practice=poll.practice,
            round_id=poll.round_id,
            points=points,
            answered_at=now,
        )
    )
    if poll.practice:
        scores.add_score(
            session=session,
            member_id=member.id,
            unit_id=member.unit_id,
            day=day,
            practice_points=points,
        )
    else:
        scores.add_score(
            session=session,
            member_id=member.id,
            unit_id=member.unit_id,
            day=day,
            points=points + bonus,
            answered=1,
            correct=int(correct),
            value=question.value,
        )
    box = session.get(QuestionBox, (member.id, poll.question_id))
    if box is not None:
        box.box, box.due = next_box(box.box, correct, day)
        session.add(box)
    member.last_active_at = now
    session.add(member)
    session.flush()
    tally = _round_tally(session, poll.round_id, member.id) if poll.round_id else None
    done = tally if tally is not None and tally.answered == tally.total else None
    return Recorded(
        AnswerResult.RECORDED,
        correct,
        points + bonus,
        round_done=done,
        **base,  # type: ignore[arg-type]
    )


def _round_tally(session: Session, round_id: int, member_id: int) -> RoundTally:
    total = session.exec(
        select(func.count())
        .select_from(QuizPoll)
        .where(QuizPoll.round_id == round_id, QuizPoll.member_id == member_id)
    ).one()
    answered, correct, points = session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(case((col(QuizAnswer.correct), 1), else_=0)), 0),
            func.coalesce(func.sum(QuizAnswer.points), 0),
        ).where(QuizAnswer.round_id == round_id, QuizAnswer.member_id == member_id)
    ).one()
    return RoundTally(round_id, total, answered, int(correct), int(points))


def round_tallies(*, session: Session, round_id: int) -> list[tuple[Member, RoundTally]]:
    """Members of a round who answered some but not all of it (for the result at closing)."""
    member_ids = session.exec(
        select(QuizAnswer.member_id).where(QuizAnswer.round_id == round_id).distinct()
    ).all()
    out = []
    for member_id in member_ids:
        tally = _round_tally(session, round_id, member_id)
        member = session.get(Member, member_id)
        if member is not None and member.deleted_at is None and tally.answered < tally.total:
            out.append((member, tally))
    return out


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
    scores.add_score(
        session=session,
        member_id=member_id,
        unit_id=member.unit_id,
        day=day,
        points=points + bonus,
        reflections=1,
    )
    member.last_active_at = now
    session.add(member)
    return points + bonus


def answered_polls(*, session: Session, member_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(QuizAnswer).where(col(QuizAnswer.member_id) == member_id)
    ).one()


def daily_message(*, session: Session, member_id: int, message_id: int) -> tuple[int, dict] | None:  # type: ignore[type-arg]
    """The daily value broadcast whose message (to this member) has this id, if any."""
    from db.models import Delivery

    row = session.exec(
        select(Broadcast.id, Broadcast.content)
        .join(Delivery, col(Delivery.broadcast_id) == Broadcast.id)
        .where(
            Delivery.member_id == member_id,
            Delivery.message_id == message_id,
            Broadcast.kind == "nilai",
        )
    ).first()
    return (row[0], row[1]) if row else None
