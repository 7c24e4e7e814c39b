"""Answers and reflections as stored: once per poll, with points, streaks and Leitner boxes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.core.calendar import WorkCalendar
from bot.programme import activity
from bot.quiz import answers
from bot.quiz.answers import AnswerResult
from bot.scores import scorekeeping
from bot.scores.scoring import PointRules
from content.loader import Question, load_content
from db.engine import Database
from db.models import MemberDay, QuestionBox, QuizAnswer, Score, UnitValueScore
from db.queries.content import sync_bank
from db.queries.members import MemberInfo, create_member
from db.queries.outbox import create_broadcast
from db.queries.quiz import record_poll
from db.queries.units import list_opd

RULES = PointRules()
# Mon 2026-11-30 .. Fri 2026-12-04, a plain working week; 2026-12-25 is Christmas.
CALENDAR = WorkCalendar.of([(date(2026, 12, 25), "Natal")])
MONDAY_9_WIB = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.fixture
def member(kediri: Database) -> MemberInfo:
    content = load_content()
    kediri.run_sync(sync_bank, questions=content.questions, prompts=[])
    return kediri.run_sync(
        create_member,
        telegram_user_id=5_000_000_001,
        chat_id=5_000_000_001,
        full_name="Budi",
        unit_id=kediri.run_sync(list_opd)[0].id,
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
    )


def _question() -> Question:
    return load_content().questions[0]


def _poll(
    db: Database,
    member: MemberInfo,
    poll_id: str,
    *,
    practice: bool = False,
    round_id: int | None = None,
) -> None:
    def add(*, session) -> None:  # type: ignore[no-untyped-def]
        record_poll(
            session=session,
            poll_id=poll_id,
            member_id=member.id,
            question_id=_question().id,
            chat_id=member.chat_id,
            message_id=5,
            practice=practice,
        )
        if round_id is not None:
            from db.models import QuizPoll

            session.get(QuizPoll, poll_id).round_id = round_id
        session.add(
            QuestionBox(
                member_id=member.id,
                question_id=_question().id,
                value=_question().value,
                last_sent=date(2026, 11, 30),
            )
        )

    db.run_sync(add)


def _answer(
    db: Database,
    member: MemberInfo,
    poll_id: str,
    option: int,
    now: datetime = MONDAY_9_WIB,
    user: int | None = None,
) -> answers.Recorded:
    """Record the answer, then score it (as the scorekeeper does moments later)."""
    recorded = db.run_sync(
        answers.record_answer,
        poll_id=poll_id,
        telegram_user_id=member.telegram_user_id if user is None else user,
        option=option,
        now=now,
        rules=RULES,
    )
    db.run_sync(scorekeeping.score_answers, rules=RULES, calendar=CALENDAR)
    return recorded


def test_first_answer_counts_and_the_rest_are_ignored(kediri: Database, member: MemberInfo) -> None:
    _poll(kediri, member, "p1")
    wrong = (_question().correct + 1) % len(_question().options)
    first = _answer(kediri, member, "p1", wrong)
    assert first.result == AnswerResult.RECORDED and first.correct is False
    assert first.points == RULES.answered
    assert _answer(kediri, member, "p1", _question().correct).result == AnswerResult.DUPLICATE
    assert _answer(kediri, member, "p1", 0, user=42).result == AnswerResult.WRONG_USER
    assert _answer(kediri, member, "nope", 0).result == AnswerResult.UNKNOWN_POLL
    answers = kediri.run_sync(lambda session: session.exec(select(QuizAnswer)).all())
    assert [(a.option, a.correct, a.value) for a in answers] == [(wrong, False, _question().value)]
    # Missed: back to box 1, due again after a few days.
    box = kediri.run_sync(lambda session: session.get(QuestionBox, (member.id, _question().id)))
    assert box.box == 1 and box.due == date(2026, 12, 3)


def test_points_land_in_week_month_and_all_time(kediri: Database, member: MemberInfo) -> None:
    _poll(kediri, member, "p1")
    _answer(kediri, member, "p1", _question().correct)
    rows = kediri.run_sync(
        lambda session: {
            s.period: (s.points, s.answered, s.correct) for s in session.exec(select(Score))
        }
    )
    assert rows == {
        "W2026-11-30": (12, 1, 1),
        "M2026-11": (12, 1, 1),
        "all": (12, 1, 1),
    }
    values = kediri.run_sync(lambda session: len(session.exec(select(UnitValueScore)).all()))
    assert values == 3


def test_practice_is_scored_apart(kediri: Database, member: MemberInfo) -> None:
    _poll(kediri, member, "p1", practice=True)
    recorded = _answer(kediri, member, "p1", _question().correct)
    assert recorded.points == RULES.practice_correct
    score = kediri.run_sync(lambda session: session.get(Score, (member.id, "all")))
    assert (score.points, score.practice_points, score.answered) == (0, 1, 0)
    assert kediri.run_sync(lambda session: len(session.exec(select(MemberDay)).all())) == 0


def test_a_closed_round_takes_no_answers(kediri: Database, member: MemberInfo) -> None:
    closes = MONDAY_9_WIB + timedelta(minutes=30)
    info = kediri.run_sync(
        create_broadcast,
        kind="kuis",
        created_by=None,
        audience={"type": "all"},
        content={"closes_at": closes.isoformat()},
    )
    _poll(kediri, member, "p1", round_id=info.id)
    late = _answer(kediri, member, "p1", 0, now=closes + timedelta(seconds=1))
    assert late.result == AnswerResult.CLOSED
    assert kediri.run_sync(lambda session: len(session.exec(select(QuizAnswer)).all())) == 0
    on_time = _answer(kediri, member, "p1", _question().correct, now=closes)
    assert on_time.result == AnswerResult.RECORDED
    assert on_time.round_done is not None and on_time.round_done.correct == 1


def _reflect(db: Database, member: MemberInfo, now: datetime) -> int:
    return db.run_sync(
        activity.record_reflection,
        member_id=member.id,
        text="Saya membantu warga.",
        prompt_id="BP1-1",
        value="BP",
        broadcast_id=None,
        now=now,
        rules=RULES,
        calendar=CALENDAR,
    )


def test_reflection_points_once_a_day_and_streak_bonus(
    kediri: Database, member: MemberInfo
) -> None:
    assert _reflect(kediri, member, MONDAY_9_WIB) == RULES.reflection
    assert _reflect(kediri, member, MONDAY_9_WIB + timedelta(hours=1)) == 0
    # Tue..Thu, then skip the weekend? No: Friday is the fifth working day in a row.
    for day in range(1, 4):
        assert _reflect(kediri, member, MONDAY_9_WIB + timedelta(days=day)) == RULES.reflection
    fifth = _reflect(kediri, member, MONDAY_9_WIB + timedelta(days=4))
    assert fifth == RULES.reflection + RULES.streak_bonus
    score = kediri.run_sync(lambda session: session.get(Score, (member.id, "all")))
    assert score.reflections == 6
    assert score.points == 5 * RULES.reflection + RULES.streak_bonus
