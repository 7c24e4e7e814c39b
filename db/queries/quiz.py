"""Quiz polls as sent (answers are recorded by bot/quiz/answers.py)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import QuestionBox, QuizPoll


def record_poll(
    *,
    session: Session,
    poll_id: str,
    member_id: int,
    question_id: str,
    chat_id: int,
    message_id: int,
    practice: bool,
    shown_order: list[int] | None = None,
    round_id: int | None = None,
    follow_up: str | None = None,
    follows: str | None = None,
) -> None:
    session.add(
        QuizPoll(
            poll_id=poll_id,
            member_id=member_id,
            question_id=question_id,
            chat_id=chat_id,
            message_id=message_id,
            practice=practice,
            shown_order=shown_order,
            round_id=round_id,
            follow_up=follow_up,
            follows=follows,
        )
    )


def times_sent(*, session: Session, member_id: int, question_id: str) -> int:
    """How often this member was sent this question before (rounds and practice)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(QuizPoll)
            .where(col(QuizPoll.member_id) == member_id, col(QuizPoll.question_id) == question_id)
        ).one()
    )


def question_boxes(*, session: Session, member_id: int) -> list[QuestionBox]:
    """The member's box row of every question sent to them: what they have seen, and when."""
    return list(
        session.exec(select(QuestionBox).where(col(QuestionBox.member_id) == member_id)).all()
    )
