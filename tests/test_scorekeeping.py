"""Scoring recorded answers: recorded first, scored moments later, exactly once, in batches
that end up where scoring each answer alone would; and the recorder and scorekeeper that
run it in the bot (`bot.quiz.recording`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core.calendar import WorkCalendar
from bot.quiz import answers, recording
from bot.quiz.answers import Answer, AnswerResult, Recorded
from bot.quiz.recording import AnswerBatcher, Scorekeeper
from bot.scores import scorekeeping
from bot.scores.scorekeeping import AlreadyScored
from bot.scores.scoring import PointRules
from content.loader import Question, load_content
from db.engine import Database
from db.migrate import upgrade
from db.models import (
    Member,
    MemberDay,
    QuestionBox,
    QuizAnswer,
    Score,
    Unit,
    UnitValueScore,
)
from db.queries.content import sync_bank
from db.queries.members import MemberInfo, create_member
from db.queries.quiz import record_poll
from db.queries.units import list_opd

RULES = PointRules()
# Mon 2026-11-30 .. Fri 2026-12-04, a plain working week; 2026-12-25 is Christmas.
CALENDAR = WorkCalendar.of([(date(2026, 12, 25), "Natal")])
MONDAY_9_WIB = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 30)


@cache
def _questions() -> tuple[Question, ...]:
    return tuple(load_content().questions)


def _wrong(question: Question) -> int:
    return (question.correct + 1) % len(question.options)


@pytest.fixture
def bank(kediri: Database) -> Database:
    """Kediri with the question bank, which polls refer to."""
    kediri.run_sync(sync_bank, questions=load_content().questions, prompts=[])
    return kediri


def _member(db: Database, telegram_user_id: int, unit_id: int, name: str = "Budi") -> MemberInfo:
    return db.run_sync(
        create_member,
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        full_name=name,
        unit_id=unit_id,
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
    )


def _units(db: Database) -> list[int]:
    return [u.id for u in db.run_sync(list_opd)]


@pytest.fixture
def member(bank: Database) -> MemberInfo:
    return _member(bank, 5_000_000_001, _units(bank)[0])


def _poll(
    db: Database, member: MemberInfo, poll_id: str, question: Question, *, practice: bool = False
) -> None:
    db.run_sync(
        record_poll,
        poll_id=poll_id,
        member_id=member.id,
        question_id=question.id,
        chat_id=member.chat_id,
        message_id=5,
        practice=practice,
    )


def _box(db: Database, member: MemberInfo, question: Question) -> None:
    """The question's Leitner box as it is once the question has been sent."""

    def add(*, session: Session) -> None:
        session.add(
            QuestionBox(
                member_id=member.id,
                question_id=question.id,
                value=question.value,
                last_sent=MONDAY,
            )
        )

    db.run_sync(add)


def _record(db: Database, votes: Sequence[Answer]) -> list[Recorded]:
    return db.run_sync(answers.record_answers, answers=list(votes), rules=RULES)


def _score(db: Database, limit: int = scorekeeping.BATCH) -> int:
    return db.run_sync(scorekeeping.score_answers, rules=RULES, calendar=CALENDAR, limit=limit)


def _rows(db: Database, model: type[Any]) -> list[Any]:
    return db.run_sync(lambda session: list(session.exec(select(model)).all()))


def _scored(db: Database) -> dict[str, bool]:
    return {a.poll_id: a.scored for a in _rows(db, QuizAnswer)}


def _score_rows(db: Database) -> dict[tuple[int, str], tuple[int, ...]]:
    return {
        (s.member_id, s.period): (s.points, s.answered, s.correct, s.practice_points)
        for s in _rows(db, Score)
    }


# --- recorded, then scored, once ------------------------------------------------------


def test_a_recorded_answer_counts_only_once_scored(bank: Database, member: MemberInfo) -> None:
    question = _questions()[0]
    _poll(bank, member, "p1", question)
    _box(bank, member, question)
    recorded = bank.run_sync(
        answers.record_answer,
        poll_id="p1",
        telegram_user_id=member.telegram_user_id,
        option=question.correct,
        now=MONDAY_9_WIB,
        rules=RULES,
    )
    assert recorded.result == AnswerResult.RECORDED and recorded.points == 12
    # Recording writes the answer and nothing else: the hot path stays one insert.
    assert _rows(bank, Score) == []
    assert _rows(bank, UnitValueScore) == []
    assert _rows(bank, MemberDay) == []
    assert _scored(bank) == {"p1": False}

    assert _score(bank) == 1
    scores = _score_rows(bank)
    assert scores == {
        (member.id, "W2026-11-30"): (12, 1, 1, 0),
        (member.id, "M2026-11"): (12, 1, 1, 0),
        (member.id, "all"): (12, 1, 1, 0),
    }
    assert _scored(bank) == {"p1": True}
    assert [(d.day, d.kind) for d in _rows(bank, MemberDay)] == [(MONDAY, "active")]
    box = bank.run_sync(lambda session: session.get(QuestionBox, (member.id, question.id)))
    assert (box.box, box.due) == (2, MONDAY + timedelta(days=7))
    last = bank.run_sync(lambda session: session.get(Member, member.id).last_active_at)
    assert last == MONDAY_9_WIB

    # Scoring again finds nothing: an answer is added to the scores once.
    values = [(v.unit_id, v.period, v.answered, v.correct) for v in _rows(bank, UnitValueScore)]
    assert _score(bank) == 0
    assert _score_rows(bank) == scores
    assert [(v.unit_id, v.period, v.answered, v.correct) for v in _rows(bank, UnitValueScore)] == (
        values
    )


# --- a batch ends up where answers scored one at a time do ------------------------------


@dataclass(frozen=True)
class Vote:
    who: int  # which of the scenario's two members
    poll: str
    question: int  # index into the bank
    correct: bool
    after: timedelta  # since Monday 09:00 WIB
    practice: bool = False


# Budi (WIB) takes part Monday to Friday: the fifth working day earns the streak bonus, on
# its first answer only. Sari (WIT, two hours ahead) shielded Monday and Thursday; she
# answers on Monday anyway (the shield becomes an active day), answers Tuesday night UTC
# (already Wednesday for her) and on Saturday (active, but no working day), so Friday is
# the fourth day of her streak and earns nothing. A question asked twice moves its box
# twice; a second vote on a poll is ignored.
SCENARIO = [
    Vote(0, "mon", 0, True, timedelta()),
    Vote(1, "mon", 0, True, timedelta(minutes=30)),
    Vote(1, "mon", 0, False, timedelta(minutes=40)),  # a second vote: the first counts
    Vote(0, "mon-2", 5, True, timedelta(hours=1)),
    Vote(0, "tue", 1, True, timedelta(days=1)),
    Vote(1, "tue", 1, False, timedelta(days=1, minutes=30)),
    Vote(0, "tue-practice", 6, True, timedelta(days=1, hours=2), practice=True),
    Vote(1, "wed-wit", 2, True, timedelta(days=1, hours=13, minutes=30)),
    Vote(0, "wed", 2, False, timedelta(days=2)),
    Vote(0, "thu", 3, True, timedelta(days=3)),
    Vote(0, "fri", 4, True, timedelta(days=4)),
    Vote(1, "fri", 3, True, timedelta(days=4, minutes=30)),
    Vote(1, "fri-practice", 4, False, timedelta(days=4, minutes=40), practice=True),
    Vote(0, "fri-again", 0, True, timedelta(days=4, hours=3)),
    Vote(1, "sat", 5, True, timedelta(days=5, minutes=30)),
]
SHIELDS = [(1, MONDAY), (1, MONDAY + timedelta(days=3))]


@dataclass(frozen=True)
class Scenario:
    members: list[MemberInfo]
    units: list[int]
    votes: list[Answer]


def _scenario(db: Database, tag: str, units: list[int]) -> Scenario:
    """SCENARIO for two new members in `units` (whose accuracy no one else adds to); the
    poll ids carry `tag`, so that two scenarios live side by side in one database."""

    def east(*, session: Session) -> None:
        unit = session.get(Unit, units[1])
        assert unit is not None
        unit.timezone = "Asia/Jayapura"
        session.add(unit)

    db.run_sync(east)
    base = 5_100_000_000 + 10 * len(db.run_sync(lambda session: session.exec(select(Member)).all()))
    members = [
        _member(db, base + i, unit, name)
        for i, (unit, name) in enumerate(zip(units, ["Budi", "Sari"], strict=True))
    ]
    boxed: set[tuple[int, int]] = set()
    seen: set[str] = set()
    votes = []
    for vote in SCENARIO:
        member = members[vote.who]
        question = _questions()[vote.question]
        poll_id = f"{tag}-{vote.who}-{vote.poll}"
        if poll_id not in seen:
            seen.add(poll_id)
            _poll(db, member, poll_id, question, practice=vote.practice)
        if (vote.who, vote.question) not in boxed:
            boxed.add((vote.who, vote.question))
            _box(db, member, question)
        option = question.correct if vote.correct else _wrong(question)
        votes.append(Answer(poll_id, member.telegram_user_id, option, MONDAY_9_WIB + vote.after))

    def shield(*, session: Session) -> None:
        for who, day in SHIELDS:
            session.add(MemberDay(member_id=members[who].id, day=day, kind="shield"))

    db.run_sync(shield)
    return Scenario(members, units, votes)


def _state(db: Database, scenario: Scenario) -> dict[str, Any]:
    """Everything scoring writes for the scenario's members, with members and units named
    by their place in the scenario, so two scenarios compare."""
    who = {m.id: i for i, m in enumerate(scenario.members)}
    unit = {u: i for i, u in enumerate(scenario.units)}

    def read(*, session: Session) -> dict[str, Any]:
        return {
            "score": sorted(
                (
                    who[s.member_id],
                    s.period,
                    unit[s.unit_id],
                    s.points,
                    s.answered,
                    s.correct,
                    s.reflections,
                    s.practice_points,
                )
                for s in session.exec(select(Score).where(col(Score.member_id).in_(list(who))))
            ),
            "unit_value": sorted(
                (unit[v.unit_id], v.period, v.value, v.answered, v.correct)
                for v in session.exec(
                    select(UnitValueScore).where(col(UnitValueScore.unit_id).in_(list(unit)))
                )
            ),
            "days": sorted(
                (who[d.member_id], d.day, d.kind)
                for d in session.exec(
                    select(MemberDay).where(col(MemberDay.member_id).in_(list(who)))
                )
            ),
            "boxes": sorted(
                (who[b.member_id], b.question_id, b.box, b.due)
                for b in session.exec(
                    select(QuestionBox).where(col(QuestionBox.member_id).in_(list(who)))
                )
            ),
            "last_active": [session.get(Member, m.id).last_active_at for m in scenario.members],  # type: ignore[union-attr]
            "unscored": session.exec(
                select(QuizAnswer.poll_id).where(
                    col(QuizAnswer.member_id).in_(list(who)), ~col(QuizAnswer.scored)
                )
            ).all(),
        }

    return db.run_sync(read)


def _as_they_come(db: Database, scenario: Scenario) -> list[Recorded]:
    """Each answer scored alone, the moment it is recorded."""
    out = []
    for vote in scenario.votes:
        [recorded] = _record(db, [vote])
        assert _score(db) == (1 if recorded.result == AnswerResult.RECORDED else 0)
        out.append(recorded)
    return out


def _batched(db: Database, scenario: Scenario, limit: int) -> list[Recorded]:
    """All answers recorded in one transaction, then scored `limit` at a time."""
    out = _record(db, scenario.votes)
    scored = 0
    # Bounded: scoring that never marks its answers would otherwise go round forever.
    for _ in range(len(scenario.votes) + 1):
        if not (n := _score(db, limit)):
            break
        assert n <= limit
        scored += n
    else:
        pytest.fail("scoring never ran out of answers")
    assert scored == sum(r.result == AnswerResult.RECORDED for r in out)
    return out


@pytest.mark.parametrize("limit", [scorekeeping.BATCH, 4, 1])
def test_a_batch_scores_as_answers_scored_one_by_one(bank: Database, limit: int) -> None:
    units = _units(bank)
    alone = _scenario(bank, "alone", units[0:2])
    alone_recorded = _as_they_come(bank, alone)
    batch = _scenario(bank, "batch", units[2:4])
    batch_recorded = _batched(bank, batch, limit)

    assert [r.result for r in batch_recorded] == [r.result for r in alone_recorded]
    assert [r.result for r in batch_recorded].count(AnswerResult.DUPLICATE) == 1
    expected = _state(bank, alone)
    assert _state(bank, batch) == expected
    assert expected["unscored"] == []

    # Not equal by being equally wrong: the bonus is there, once, for Budi alone.
    def round_points(who: int) -> int:
        return sum(
            r.points
            for vote, r in zip(SCENARIO, batch_recorded, strict=True)
            if vote.who == who and not vote.practice and r.result == AnswerResult.RECORDED
        )

    totals = {(s[0], s[1]): s[3] for s in expected["score"]}
    assert totals[(0, "all")] == round_points(0) + RULES.streak_bonus
    assert totals[(1, "all")] == round_points(1)
    assert [(d, k) for who, d, k in expected["days"] if who == 1] == [
        (MONDAY, "active"),  # shielded, then answered: active
        (MONDAY + timedelta(days=1), "active"),
        (MONDAY + timedelta(days=2), "active"),  # Tuesday 15:30 UTC is Wednesday in Jayapura
        (MONDAY + timedelta(days=3), "shield"),
        (MONDAY + timedelta(days=4), "active"),
        (MONDAY + timedelta(days=5), "active"),
    ]
    # The question Budi was asked twice, right both times: box 0 -> 2 -> 3.
    budi_q0 = [b for b in expected["boxes"] if b[0] == 0 and b[1] == _questions()[0].id]
    assert [b[2] for b in budi_q0] == [3]


# --- the claim: another writer scored the batch's answers meanwhile -------------------------


@pytest.mark.parametrize("taken", ["all", "first"])
def test_answers_scored_meanwhile_roll_the_batch_back(
    bank: Database,
    member: MemberInfo,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    taken: str,
) -> None:
    questions = _questions()[:2]
    for i, question in enumerate(questions):
        _poll(bank, member, f"p{i}", question)
        _box(bank, member, question)
    _record(
        bank,
        [
            Answer(f"p{i}", member.telegram_user_id, q.correct, MONDAY_9_WIB + timedelta(minutes=i))
            for i, q in enumerate(questions)
        ],
    )
    ids = sorted(a.id for a in _rows(bank, QuizAnswer))
    stolen = ids if taken == "all" else ids[:1]
    write = scorekeeping._ScoreBatch.write

    def raced(self: scorekeeping._ScoreBatch, session: Session) -> None:
        # Between this batch's read and its write, a second bot process (its own
        # connection, committed) scores some of the same answers.
        other = Database(database_url)
        try:
            other.run_sync(
                lambda session: session.connection().execute(
                    update(QuizAnswer).where(col(QuizAnswer.id).in_(stolen)).values(scored=True)
                )
            )
        finally:
            other.close()
        write(self, session)

    monkeypatch.setattr(scorekeeping._ScoreBatch, "write", raced)
    with pytest.raises(AlreadyScored):
        _score(bank)
    monkeypatch.undo()

    # Nothing of the batch is written, not even its claim on the answers nobody else took.
    assert _rows(bank, Score) == []
    assert _rows(bank, UnitValueScore) == []
    assert _rows(bank, MemberDay) == []
    assert [b.box for b in _rows(bank, QuestionBox)] == [0, 0]
    assert _scored(bank) == {"p0": True, "p1": taken == "all"}

    # The other writer owns what it took; the rest is scored by the next run, once.
    if taken == "all":
        assert _score(bank) == 0
        assert _rows(bank, Score) == []
    else:
        assert _score(bank) == 1
        assert _score_rows(bank)[(member.id, "all")] == (12, 1, 1, 0)
        assert _scored(bank) == {"p0": True, "p1": True}
        assert _score(bank) == 0


# --- the scorekeeper and the answer batcher ----------------------------------------------


def _five_answers(db: Database, member: MemberInfo) -> list[Answer]:
    votes = []
    for i, question in enumerate(_questions()[:5]):
        _poll(db, member, f"p{i}", question)
        votes.append(
            Answer(
                f"p{i}",
                member.telegram_user_id,
                question.correct,
                MONDAY_9_WIB + timedelta(minutes=i),
            )
        )
    return votes


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record what each scoring run of the scorekeeper scored."""
    runs: list[int] = []
    real: Callable[..., int] = recording.score_answers

    def spy(**kwargs: Any) -> int:
        n = real(**kwargs)
        runs.append(n)
        return n

    monkeypatch.setattr(recording, "score_answers", spy)
    return runs


async def test_settle_scores_batch_after_batch(
    bank: Database, member: MemberInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(bank, _five_answers(bank, member))
    monkeypatch.setattr(recording, "SCORE_BATCH", 2)
    runs = _spy(monkeypatch)
    keeper = Scorekeeper(bank, RULES, CALENDAR)

    async with asyncio.timeout(30):  # scoring that never marks its answers never settles
        assert await keeper.settle() is True
    assert runs == [2, 2, 1]
    assert set(_scored(bank).values()) == {True}
    assert _score_rows(bank)[(member.id, "all")] == (60, 5, 5, 0)


async def test_settle_reports_a_failed_scoring_and_tries_again(
    bank: Database,
    member: MemberInfo,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _record(bank, _five_answers(bank, member)[:2])
    failing = True
    real = recording.score_answers

    def flaky(**kwargs: Any) -> int:
        if failing:
            raise RuntimeError("database gone")
        return real(**kwargs)

    monkeypatch.setattr(recording, "score_answers", flaky)
    keeper = Scorekeeper(bank, RULES, CALENDAR)

    with caplog.at_level(logging.ERROR, logger="bot.quiz.recording"):
        assert await keeper.settle() is False
    assert any(r.name == "bot.quiz.recording" and r.exc_info for r in caplog.records)
    assert _scored(bank) == {"p0": False, "p1": False}
    assert _rows(bank, Score) == []

    failing = False
    assert await keeper.settle() is True
    assert _scored(bank) == {"p0": True, "p1": True}
    assert _score_rows(bank)[(member.id, "all")] == (24, 2, 2, 0)


async def test_one_bad_answer_does_not_lose_its_batch(
    bank: Database, member: MemberInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    good1, good2 = _five_answers(bank, member)[:2]
    bad = Answer("bad", member.telegram_user_id, 0, MONDAY_9_WIB)
    batches: list[list[str]] = []
    real = recording.record_answers

    def refusing(
        *, session: Session, answers: Sequence[Answer], rules: PointRules
    ) -> list[Recorded]:
        batches.append([a.poll_id for a in answers])
        # Written first and then refused, so the failed batch must roll back its rows too.
        out = real(session=session, answers=answers, rules=rules)
        if any(a.poll_id == "bad" for a in answers):
            raise RuntimeError("refused")
        return out

    monkeypatch.setattr(recording, "record_answers", refusing)
    keeper = Scorekeeper(bank, RULES, CALENDAR)
    batcher = AnswerBatcher(bank, RULES, keeper)
    try:
        results = await batcher.record([good1, bad, good2])
    finally:
        await keeper.stop()

    assert [r.result for r in results] == [
        AnswerResult.RECORDED,
        AnswerResult.FAILED,
        AnswerResult.RECORDED,
    ]
    # Together first, then each alone.
    assert batches == [["p0", "bad", "p1"], ["p0"], ["bad"], ["p1"]]
    assert sorted(_scored(bank)) == ["p0", "p1"]
    # Stopping scores what was left.
    assert set(_scored(bank).values()) == {True}


def test_finding_the_unscored_answers_reads_the_index_not_the_table(tmp_path: Path) -> None:
    """Every /skor first looks for unscored answers: among millions of scored ones that
    must be an index probe. SQLite (the default) only uses the partial index when the
    query states its condition the same way."""
    url = f"sqlite:///{tmp_path / 'plan.sqlite3'}"
    upgrade(url)
    db = Database(url)
    try:
        query = str(
            scorekeeping._UNSCORED.limit(5).compile(
                dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}
            )
        )
        with db.engine.connect() as conn:
            plan = " ".join(
                str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}")
            )
    finally:
        db.close()
    assert "USING INDEX ix_quiz_answer_unscored" in plan, plan
