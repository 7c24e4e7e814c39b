"""Recording what members do: a quiz answer or a reflection, with its points, the member's
streak, and (for quiz answers) the question's Leitner box, all in one transaction.

These functions take the caller's session (they run inside `Database.run`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, bindparam, case, func
from sqlmodel import Session, SQLModel, col, select

from bot.calendar import WorkCalendar
from bot.config import Settings
from bot.services.scoring import PointRules, answer_points, streak, streak_bonus
from bot.services.selection import next_box
from db.models import (
    Broadcast,
    Member,
    MemberDay,
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


@dataclass(frozen=True)
class Answer:
    """A vote as the handler received it; the first option is the answer."""

    poll_id: str
    telegram_user_id: int
    option: int
    now: datetime


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
    """One answer: `record_answers` with a single vote."""
    [recorded] = record_answers(
        session=session,
        answers=[Answer(poll_id, telegram_user_id, option, now)],
        rules=rules,
        calendar=calendar,
    )
    return recorded


def record_answers(
    *,
    session: Session,
    answers: Sequence[Answer],
    rules: PointRules,
    calendar: WorkCalendar,
) -> list[Recorded]:
    """Record votes in one transaction, each with the outcome and the rows it would have had
    recorded alone, one after another in this order: the first vote of a poll counts, the
    first activity of a member's day marks it (and may earn the streak bonus), the Leitner
    box moves, the round's tally grows.

    A round reaches thousands of members at once and they answer within seconds: a fixed
    handful of reads and bulk writes per batch, instead of a dozen statements per answer,
    is what keeps recording close to the rate Telegram delivers the answers.
    """
    if not answers:
        return []
    batch = _AnswerBatch(session, answers, calendar)
    results = [batch.record(answer, rules, calendar) for answer in answers]
    batch.write(session)
    return results


# Everything a batch needs to know about its polls, in one joined read; built once, as
# building it for every batch costs a good part of what running it does.
_POLLS_READ = (
    select(
        QuizPoll.poll_id,
        QuizPoll.member_id,
        QuizPoll.question_id,
        QuizPoll.practice,
        QuizPoll.round_id,
        QuizPoll.sent_at,
        col(Member.id).label("member_found"),
        Member.telegram_user_id,
        Member.chat_id,
        Member.language,
        Member.unit_id,
        Member.deleted_at,
        Unit.timezone,
        col(QuestionRow.id).label("question_found"),
        QuestionRow.value,
        QuestionRow.correct,
        QuestionBox.box,
        col(QuizAnswer.id).label("answer_found"),
        col(Broadcast.content).label("round_content"),
    )
    .select_from(QuizPoll)
    .outerjoin(Member, col(Member.id) == QuizPoll.member_id)
    .outerjoin(Unit, col(Unit.id) == Member.unit_id)
    .outerjoin(QuestionRow, col(QuestionRow.id) == QuizPoll.question_id)
    .outerjoin(
        QuestionBox,
        (col(QuestionBox.member_id) == QuizPoll.member_id)
        & (col(QuestionBox.question_id) == QuizPoll.question_id),
    )
    .outerjoin(QuizAnswer, col(QuizAnswer.poll_id) == QuizPoll.poll_id)
    .outerjoin(Broadcast, col(Broadcast.id) == QuizPoll.round_id)
    .where(col(QuizPoll.poll_id).in_(bindparam("poll_ids", expanding=True)))
)


class _AnswerBatch:
    """What a batch of answers reads up front, the state it changes as each answer is
    recorded in turn, and the rows it writes at the end."""

    def __init__(self, session: Session, answers: Sequence[Answer], calendar: WorkCalendar) -> None:
        # Plain rows on the session's connection: the ORM's per-statement work would cost
        # more than the reads.
        conn = session.connection()
        found = conn.execute(_POLLS_READ, {"poll_ids": list({a.poll_id for a in answers})}).all()
        self.polls = {row.poll_id: row for row in found}
        self.answered = {row.poll_id for row in found if row.answer_found is not None}
        self.boxes = {
            (row.member_id, row.question_id): row.box for row in found if row.box is not None
        }
        # Who answers which poll on which local day (for answers that may be recorded).
        scored: list[tuple[Any, date]] = [
            (poll, self._day(poll, answer.now))
            for answer in answers
            if (poll := self.polls.get(answer.poll_id)) is not None
            and poll.member_found is not None
        ]
        self.days = self._read_days(conn, scored, calendar)
        self.tallies = self._read_tallies(conn, scored)
        # Written by `write`.
        self.new_days: dict[tuple[int, date], None] = {}
        self.activated_days: dict[tuple[int, date], None] = {}
        self.new_answers: list[dict[str, Any]] = []
        self.score_changes: list[scores.ScoreChange] = []
        self.moved_boxes: dict[tuple[int, str], tuple[int, date]] = {}
        self.last_active: dict[int, datetime] = {}

    @staticmethod
    def _day(poll: Any, now: datetime) -> date:
        """The member's local day (`member_zone`: their unit's zone, or Jakarta's)."""
        return local_day(now, poll.timezone if poll.timezone is not None else "Asia/Jakarta")

    @staticmethod
    def _read_days(
        conn: Connection, scored: list[tuple[Any, date]], calendar: WorkCalendar
    ) -> dict[int, dict[date, str]]:
        """Member days: the answered days, and the streak window of members whose day may be
        new (only those can earn the bonus, which needs their last 400 days)."""
        pairs = {(p.member_id, day) for p, day in scored if not p.practice}
        days: dict[int, dict[date, str]] = {}
        if not pairs:
            return days
        for member_id, day, kind in conn.execute(
            select(MemberDay.member_id, MemberDay.day, MemberDay.kind).where(
                col(MemberDay.member_id).in_({m for m, _ in pairs}),
                col(MemberDay.day).in_({d for _, d in pairs}),
            )
        ):
            days.setdefault(member_id, {})[day] = kind
        streaking = {
            m for m, d in pairs if days.get(m, {}).get(d) != "active" and calendar.is_working_day(d)
        }
        if streaking:
            since = min(d for _, d in pairs) - timedelta(days=400)
            for member_id, day, kind in conn.execute(
                select(MemberDay.member_id, MemberDay.day, MemberDay.kind).where(
                    col(MemberDay.member_id).in_(streaking), col(MemberDay.day) >= since
                )
            ):
                days.setdefault(member_id, {})[day] = kind
        return days

    @staticmethod
    def _read_tallies(
        conn: Connection, scored: list[tuple[Any, date]]
    ) -> dict[tuple[int, int], list[int]]:
        """Per round and member: [polls, answered, correct, points] before this batch."""
        pairs = {(p.round_id, p.member_id) for p, _ in scored if p.round_id is not None}
        if not pairs:
            return {}
        rounds, members = {r for r, _ in pairs}, {m for _, m in pairs}
        tallies = {pair: [0, 0, 0, 0] for pair in pairs}
        for round_id, member_id, total in conn.execute(
            select(QuizPoll.round_id, QuizPoll.member_id, func.count())
            .where(col(QuizPoll.round_id).in_(rounds), col(QuizPoll.member_id).in_(members))
            .group_by(col(QuizPoll.round_id), col(QuizPoll.member_id))
        ):
            if (round_id, member_id) in tallies:
                tallies[(round_id, member_id)][0] = total
        for round_id, member_id, answered, correct, points in conn.execute(
            select(
                QuizAnswer.round_id,
                QuizAnswer.member_id,
                func.count(),
                func.coalesce(func.sum(case((col(QuizAnswer.correct), 1), else_=0)), 0),
                func.coalesce(func.sum(QuizAnswer.points), 0),
            )
            .where(col(QuizAnswer.round_id).in_(rounds), col(QuizAnswer.member_id).in_(members))
            .group_by(col(QuizAnswer.round_id), col(QuizAnswer.member_id))
        ):
            if (round_id, member_id) in tallies:
                tallies[(round_id, member_id)][1:] = [answered, int(correct), int(points)]
        return tallies

    def record(self, answer: Answer, rules: PointRules, calendar: WorkCalendar) -> Recorded:
        poll = self.polls.get(answer.poll_id)
        if poll is None:
            return Recorded(AnswerResult.UNKNOWN_POLL)
        if (
            poll.member_found is None
            or poll.telegram_user_id != answer.telegram_user_id
            or poll.deleted_at
        ):
            return Recorded(AnswerResult.WRONG_USER)
        member_id: int = poll.member_id
        base = {"member_id": member_id, "chat_id": poll.chat_id, "language": poll.language}
        if answer.poll_id in self.answered:
            return Recorded(AnswerResult.DUPLICATE, **base)  # type: ignore[arg-type]
        if poll.round_id is not None:
            closes = poll.round_content.get("closes_at") if poll.round_content else None
            if closes and answer.now > datetime.fromisoformat(closes):
                return Recorded(AnswerResult.CLOSED, **base)  # type: ignore[arg-type]
        assert poll.question_found is not None
        correct = answer.option == poll.correct
        day = self._day(poll, answer.now)
        points = answer_points(rules, correct=correct, practice=poll.practice)
        bonus = 0 if poll.practice else self._take_part(member_id, day, rules, calendar)
        self.answered.add(answer.poll_id)
        self.new_answers.append(
            {
                "poll_id": answer.poll_id,
                "member_id": member_id,
                "question_id": poll.question_id,
                "value": poll.value,
                "option": answer.option,
                "correct": correct,
                "seconds": max(0, int((utcnow() - poll.sent_at).total_seconds())),  # real time
                "practice": poll.practice,
                "round_id": poll.round_id,
                "points": points,
                "answered_at": answer.now,
            }
        )
        if poll.practice:
            change = scores.ScoreChange(
                member_id=member_id, unit_id=poll.unit_id, day=day, practice_points=points
            )
        else:
            change = scores.ScoreChange(
                member_id=member_id,
                unit_id=poll.unit_id,
                day=day,
                points=points + bonus,
                answered=1,
                correct=int(correct),
                value=poll.value,
            )
        self.score_changes.append(change)
        key = (member_id, poll.question_id)
        if key in self.boxes:
            moved = next_box(self.boxes[key], correct, day)
            self.boxes[key] = moved[0]
            self.moved_boxes[key] = moved
        self.last_active[member_id] = answer.now
        done = None
        if poll.round_id:
            tally = self.tallies[(poll.round_id, member_id)]
            tally[1:] = [tally[1] + 1, tally[2] + int(correct), tally[3] + points]
            if tally[1] == tally[0]:
                done = RoundTally(poll.round_id, *tally)
        return Recorded(
            AnswerResult.RECORDED,
            correct,
            points + bonus,
            round_done=done,
            **base,  # type: ignore[arg-type]
        )

    def _take_part(
        self, member_id: int, day: date, rules: PointRules, calendar: WorkCalendar
    ) -> int:
        """`_take_part` on the days read up front (see `scores.mark_day`)."""
        days = self.days.setdefault(member_id, {})
        kind = days.get(day)
        if kind == "active":
            return 0
        if kind is None:
            self.new_days[(member_id, day)] = None
        else:
            self.activated_days[(member_id, day)] = None  # a shielded day now counts as active
        days[day] = "active"
        if not calendar.is_working_day(day):
            return 0
        since = day - timedelta(days=400)
        active = {d for d, k in days.items() if d >= since and k == "active"}
        shields = {d for d, k in days.items() if d >= since and k != "active"}
        return streak_bonus(rules, streak(active, shields, calendar, day))

    def write(self, session: Session) -> None:
        """The batch's rows: one statement per table (see `scores.bulk_insert`)."""
        scores.bulk_insert(
            session,
            _table(MemberDay),
            [{"member_id": m, "day": d, "kind": "active"} for m, d in self.new_days],
        )
        scores.bulk_update(
            session,
            _table(MemberDay),
            ("member_id", "day"),
            [{"member_id": m, "day": d, "kind": "active"} for m, d in self.activated_days],
        )
        scores.bulk_insert(session, _table(QuizAnswer), self.new_answers)
        scores.add_scores(session=session, changes=self.score_changes)
        scores.bulk_update(
            session,
            _table(QuestionBox),
            ("member_id", "question_id"),
            [
                {"member_id": m, "question_id": q, "box": box, "due": due}
                for (m, q), (box, due) in self.moved_boxes.items()
            ],
        )
        scores.bulk_update(
            session,
            _table(Member),
            ("id",),
            [{"id": m, "last_active_at": at} for m, at in self.last_active.items()],
        )


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[return-value]


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
