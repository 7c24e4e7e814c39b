"""Quiz polls and answers: each poll answered at most once."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import QuestionRow, QuizAnswer, QuizPoll


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


def count_answers(*, session: Session, member_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(QuizAnswer).where(QuizAnswer.member_id == member_id)
    ).one()
