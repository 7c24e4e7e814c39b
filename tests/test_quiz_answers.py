"""Quiz answers are recorded once, only for the member the poll was sent to."""

from __future__ import annotations

from datetime import UTC, datetime

from content.loader import load_content
from db.engine import Database
from db.queries.content import sync_bank
from db.queries.members import create_member
from db.queries.quiz import AnswerResult, record_answer, record_poll
from db.queries.units import list_opd


def test_first_answer_counts_and_the_rest_are_ignored(kediri: Database) -> None:
    content = load_content()
    kediri.run_sync(sync_bank, questions=content.questions[:1], prompts=[])
    member = kediri.run_sync(
        create_member,
        telegram_user_id=5_000_000_001,
        chat_id=5_000_000_001,
        full_name="Budi",
        unit_id=kediri.run_sync(list_opd)[0].id,
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
    )
    question = content.questions[0]
    kediri.run_sync(
        record_poll,
        poll_id="p1",
        member_id=member.id,
        question_id=question.id,
        chat_id=member.chat_id,
        message_id=5,
        practice=False,
    )
    wrong = (question.correct + 1) % len(question.options)
    first = kediri.run_sync(
        record_answer, poll_id="p1", telegram_user_id=member.telegram_user_id, option=wrong
    )
    assert first.result == AnswerResult.RECORDED and first.correct is False
    again = kediri.run_sync(
        record_answer,
        poll_id="p1",
        telegram_user_id=member.telegram_user_id,
        option=question.correct,
    )
    assert again.result == AnswerResult.DUPLICATE
    stranger = kediri.run_sync(record_answer, poll_id="p1", telegram_user_id=42, option=0)
    assert stranger.result == AnswerResult.WRONG_USER
    unknown = kediri.run_sync(record_answer, poll_id="nope", telegram_user_id=1, option=0)
    assert unknown.result == AnswerResult.UNKNOWN_POLL
