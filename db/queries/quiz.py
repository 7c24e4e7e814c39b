"""Quiz polls and answers: each poll answered at most once."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import Member, QuestionRow, QuizAnswer, QuizPoll, utcnow


class AnswerResult(StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    UNKNOWN_POLL = "unknown_poll"
    WRONG_USER = "wrong_user"


@dataclass(frozen=True)
class Recorded:
    result: AnswerResult
    correct: bool | None = None


def unseen_question_ids(*, session: Session, member_id: int) -> list[str]:
    """Active questions this member has not been sent yet (all of them once every one was)."""
    seen = select(QuizPoll.question_id).where(QuizPoll.member_id == member_id)
    active = select(QuestionRow.id).where(QuestionRow.active).order_by(QuestionRow.id)
    fresh = session.exec(active.where(col(QuestionRow.id).not_in(seen))).all()
    return list(fresh) if fresh else list(session.exec(active).all())


def record_poll(
    *,
    session: Session,
    poll_id: str,
    member_id: int,
    question_id: str,
    chat_id: int,
    message_id: int,
    practice: bool,
) -> None:
    session.add(
        QuizPoll(
            poll_id=poll_id,
            member_id=member_id,
            question_id=question_id,
            chat_id=chat_id,
            message_id=message_id,
            practice=practice,
        )
    )


def record_answer(
    *, session: Session, poll_id: str, telegram_user_id: int, option: int
) -> Recorded:
    poll = session.get(QuizPoll, poll_id)
    if poll is None:
        return Recorded(AnswerResult.UNKNOWN_POLL)
    member = session.get(Member, poll.member_id)
    if member is None or member.telegram_user_id != telegram_user_id:
        return Recorded(AnswerResult.WRONG_USER)
    existing = session.exec(select(QuizAnswer.id).where(QuizAnswer.poll_id == poll_id)).first()
    if existing is not None:
        return Recorded(AnswerResult.DUPLICATE)
    question = session.get(QuestionRow, poll.question_id)
    assert question is not None
    now = utcnow()
    correct = option == question.correct
    session.add(
        QuizAnswer(
            poll_id=poll_id,
            member_id=poll.member_id,
            question_id=poll.question_id,
            option=option,
            correct=correct,
            seconds=max(0, int((now - poll.sent_at).total_seconds())),
            practice=poll.practice,
            answered_at=now,
        )
    )
    member.last_active_at = now
    return Recorded(AnswerResult.RECORDED, correct)


def count_answers(*, session: Session, member_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(QuizAnswer).where(QuizAnswer.member_id == member_id)
    ).one()
