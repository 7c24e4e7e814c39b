"""The migrations build exactly the tables the models describe, and the answer-recording
migration (0007) keeps the answers on the way down and back up."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from bot.quiz.answers import AnswerResult, record_answer
from bot.scores.scoring import PointRules
from content.loader import load_content
from db.engine import Database
from db.migrate import alembic_config, upgrade
from db.queries.content import sync_bank
from db.queries.members import create_member
from db.queries.quiz import record_poll


def test_the_migrated_schema_is_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def _answered(db: Database) -> int:
    """Budi answers one of his two polls; returns another member's id."""
    questions = load_content().questions
    db.run_sync(sync_bank, questions=questions, prompts=[])
    member, other = (
        db.run_sync(
            create_member,
            telegram_user_id=user,
            chat_id=user,
            full_name=name,
            unit_id=None,
            nip=None,
            language="id",
            consent_at=datetime.now(UTC),
        )
        for user, name in ((77, "Budi"), (78, "Sari"))
    )
    for i in range(2):
        db.run_sync(
            record_poll,
            poll_id=f"p{i}",
            member_id=member.id,
            question_id=questions[0].id,
            chat_id=77,
            message_id=i,
            practice=False,
        )
    recorded = db.run_sync(
        record_answer,
        poll_id="p0",
        telegram_user_id=77,
        option=questions[0].correct,
        now=datetime.now(UTC),
        rules=PointRules(),
    )
    assert recorded.result == AnswerResult.RECORDED
    return other.id


def test_answers_survive_0007_down_and_up(tmp_path: Path) -> None:
    # SQLite: the migration rebuilds the answer table there (batch mode), the risky case.
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(url)
    db = Database(url)
    try:
        other = _answered(db)
        command.downgrade(alembic_config(url), "0006")
        upgrade(url)
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT poll_id, member_id, scored FROM quiz_answer")).all()
            keys = inspect(conn).get_foreign_keys("quiz_answer")
        # Answers from before 0007 count as scored: they were, with the old code.
        assert [(r.poll_id, bool(r.scored)) for r in rows] == [("p0", True)]
        assert [(k["constrained_columns"], k["referred_columns"]) for k in keys] == [
            (["poll_id", "member_id"], ["poll_id", "member_id"])
        ]
        # The one foreign key holds both: an answer to Budi's poll cannot name Sari.
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO quiz_answer (poll_id, member_id, question_id, value, option,"
                    " correct, seconds, practice, points, answered_at, scored) VALUES"
                    " ('p1', :other, 'x', 'BP', 0, true, 1, false, 0, CURRENT_TIMESTAMP, false)"
                ),
                {"other": other},
            )
    finally:
        db.close()
