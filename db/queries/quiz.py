"""Quiz polls as sent (answers are recorded by bot/quiz/answers.py)."""

from __future__ import annotations

from sqlmodel import Session

from db.models import QuizPoll


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
