"""An unavailable database told apart from a refused statement, and a vote written again
after a connection lost during its commit: recorded once, never called a duplicate."""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

from bot.quiz.answers import AnswerResult, record_answers
from db.engine import Database, unavailable
from db.models import QuizAnswer
from db.queries.members import MemberInfo
from tests.test_scorekeeping import RULES, _five_answers, _rows, bank, member  # noqa: F401


def _wrapped(error: Exception, cls: type[sa_exc.DBAPIError]) -> sa_exc.DBAPIError:
    return cls("INSERT INTO quiz_answer ... ('Budi Santoso')", {"name": "Budi"}, error)


def test_an_outage_is_told_from_a_refused_statement() -> None:
    locked = _wrapped(sqlite3.OperationalError("database is locked"), sa_exc.OperationalError)
    cause = unavailable(locked)
    assert cause == "OperationalError: database is locked"
    # Only the driver's words: never the statement or its parameters.
    assert "Budi" not in cause
    for message in ("attempt to write a readonly database", "disk I/O error"):
        assert unavailable(_wrapped(sqlite3.OperationalError(message), sa_exc.OperationalError))
    # Our own mistakes are not outages: waiting would not help.
    mistake = sqlite3.OperationalError("no such table: x")
    assert unavailable(_wrapped(mistake, sa_exc.OperationalError)) is None
    assert unavailable(_wrapped(sqlite3.IntegrityError("UNIQUE"), sa_exc.IntegrityError)) is None
    assert unavailable(ValueError("x")) is None


def test_a_vote_whose_commit_may_have_happened_is_recorded_once(
    bank: Database,  # noqa: F811
    member: MemberInfo,  # noqa: F811
) -> None:
    votes = _five_answers(bank, member)[:2]
    rules = RULES
    first = bank.run_sync(record_answers, answers=votes, rules=rules)
    assert [r.result for r in first] == [AnswerResult.RECORDED] * 2
    # The same votes again, after a try whose commit went through unseen: still recorded
    # (so the member's reply is not lost), and nothing is written twice.
    again = bank.run_sync(record_answers, answers=votes, rules=rules, again=True)
    assert [r.result for r in again] == [AnswerResult.RECORDED] * 2
    assert len(_rows(bank, QuizAnswer)) == 2
    # Without that doubt, or with another option, a second vote is a duplicate.
    plain = bank.run_sync(record_answers, answers=votes, rules=rules)
    assert [r.result for r in plain] == [AnswerResult.DUPLICATE] * 2
    other = [v._replace(option=v.option + 1) for v in votes]
    changed = bank.run_sync(record_answers, answers=other, rules=rules, again=True)
    assert [r.result for r in changed] == [AnswerResult.DUPLICATE] * 2
