"""Two-step cases end to end: the first step goes out (in /kuis or in a round), the member
answers, the follow-up arrives at once in their chat, and its answer counts like any other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.core.calendar import FakeClock
from bot.core.config import Settings
from bot.quiz import followups
from bot.quiz.rounds import send_quiz_round
from content.loader import Question
from db.engine import Database
from db.models import QuestionBox, QuizAnswer, QuizPoll, Score
from db.queries.content import sync_bank
from db.queries.scores import ALL
from handlers.quiz import handle_raw_votes
from sandbox.simulation import Registrant, expect, register
from tests.utils import build, eventually

WIB = ZoneInfo("Asia/Jakarta")
BUDI = Registrant("Budi Santoso", "sukorame", "Puskesmas Sukorame")
FIRST, FOLLOW = "AK-019", "AK-049"


def _bank(content: Any, *ids: str) -> list[Question]:
    return [q for q in content.questions if q.id in ids]


def _polls(db: Database) -> list[QuizPoll]:
    return db.run_sync(lambda session: list(session.exec(select(QuizPoll)).all()))


def _answers(db: Database) -> list[QuizAnswer]:
    return db.run_sync(lambda session: list(session.exec(select(QuizAnswer)).all()))


def _poll(db: Database, poll_id: str) -> QuizPoll | None:
    return db.run_sync(lambda session: session.get(QuizPoll, poll_id))


async def _next_poll(user):  # type: ignore[no-untyped-def]
    while True:
        message = await user.next_message(timeout=10)
        if message.poll is not None:
            return message


def _key(message: Any) -> list[int]:
    """The key where this member was shown it (options are shuffled per member)."""
    return list(message.poll["correct_option_ids"])


@pytest.fixture
async def budi(bot, sandbox, kediri: Database):  # type: ignore[no-untyped-def]
    """A member, and a bank of one two-step case only."""
    content = bot.bot_data["deps"].content
    kediri.run_sync(sync_bank, questions=_bank(content, FIRST, FOLLOW), prompts=content.prompts)
    user = sandbox.user("Budi Santoso")
    await register(user, BUDI)
    return user


async def test_practice_first_step_then_its_follow_up(bot, budi, kediri: Database) -> None:
    content = bot.bot_data["deps"].content
    first_q, follow_q = (next(q for q in content.questions if q.id == i) for i in (FIRST, FOLLOW))
    await budi.send("/kuis")
    # The follow-up is never chosen on its own: the only soal /kuis may pick is the first step.
    first = await _next_poll(budi)
    assert first.poll["question"] == first_q.question
    await eventually(lambda: _poll(kediri, first.poll["id"]) is not None)
    stored = _poll(kediri, first.poll["id"])
    assert stored is not None and stored.follow_up == FOLLOW
    await budi.answer_poll(first, _key(first))

    intro = await expect(budi, "Kasus lanjutan")
    assert follow_q.scene is not None and follow_q.scene in intro.text
    follow = await _next_poll(budi)
    assert follow.poll["question"] == follow_q.question
    assert follow.poll["type"] == "quiz" and follow.poll["is_anonymous"] is False
    await eventually(lambda: _poll(kediri, follow.poll["id"]) is not None)
    sent = _poll(kediri, follow.poll["id"])
    assert sent is not None
    assert (sent.question_id, sent.practice, sent.round_id) == (FOLLOW, True, None)
    assert sent.follows == first.poll["id"] and sent.follow_up is None
    # Its own order, shown as stored.
    assert sent.shown_order is not None
    assert [o["text"] for o in follow.poll["options"]] == [
        follow_q.options[i] for i in sent.shown_order
    ]

    # Shown position 0, stored in the bank's terms.
    await budi.answer_poll(follow, [0])
    await eventually(lambda: len(_answers(kediri)) == 2)
    answer = next(a for a in _answers(kediri) if a.question_id == FOLLOW)
    assert answer.option == sent.shown_order[0] and answer.practice is True
    assert answer.correct is (sent.shown_order[0] == follow_q.correct)

    # Scored like any answer: its Leitner box moves.
    def box() -> int:
        row = kediri.run_sync(lambda session: session.get(QuestionBox, (sent.member_id, FOLLOW)))
        return row.box if row is not None else -1

    await eventually(lambda: box() == (2 if answer.correct else 1))
    await budi.expect_silence(0.5)

    # The next /kuis still never sends the follow-up alone.
    await budi.send("/kuis")
    again = await _next_poll(budi)
    assert again.poll["question"] == first_q.question


async def test_a_vote_that_arrives_twice_sends_the_follow_up_once(
    bot, budi, kediri: Database
) -> None:
    deps = bot.bot_data["deps"]
    await budi.send("/kuis")
    first = await _next_poll(budi)
    poll_id = first.poll["id"]
    await eventually(lambda: _poll(kediri, poll_id) is not None)
    vote = {
        "update_id": 1,
        "poll_answer": {"poll_id": poll_id, "user": {"id": budi.id}, "option_ids": [0]},
    }
    # Twice in one response, then once more in the next.
    await handle_raw_votes(deps, bot.bot, [vote, vote])
    await expect(budi, "Kasus lanjutan")
    await _next_poll(budi)
    await handle_raw_votes(deps, bot.bot, [vote])
    await budi.expect_silence(1.5)
    assert len(_answers(kediri)) == 1
    follow_ups = [p for p in _polls(kediri) if p.follows == poll_id]
    assert len(follow_ups) == 1


@asynccontextmanager
async def _round(
    sandbox: Any, settings: Settings, kediri: Database
) -> AsyncIterator[tuple[Any, Any, int, list[Any]]]:
    """A round of three for Budi: the first step and two single soal."""
    from bot.app.wiring import polling

    clock = FakeClock(datetime(2026, 12, 15, 9, 55, tzinfo=WIB))
    async with polling(await build(settings, kediri, clock=clock)) as app:
        deps = app.bot_data["deps"]
        bank = _bank(deps.content, FIRST, FOLLOW, "BP-001", "KL-001")
        kediri.run_sync(sync_bank, questions=bank, prompts=deps.content.prompts)
        budi = sandbox.user("Budi Santoso")
        await register(budi, BUDI)
        round_id, count = await send_quiz_round(
            deps, {"type": "all"}, day=clock.today("Asia/Jakarta"), questions=3, window_minutes=None
        )
        assert count == 1 and round_id is not None
        polls = [await _next_poll(budi) for _ in range(3)]
        await eventually(lambda: len(_polls(kediri)) == 3)
        yield deps, budi, round_id, polls


async def test_a_round_sends_the_follow_up_and_counts_it(
    sandbox, settings: Settings, kediri: Database
) -> None:
    async with _round(sandbox, settings, kediri) as (deps, budi, round_id, polls):
        first_q = next(q for q in deps.content.questions if q.id == FIRST)
        follow_q = next(q for q in deps.content.questions if q.id == FOLLOW)
        [first] = [p for p in polls if p.poll["question"] == first_q.question]
        # The follow-up is not one of the round's three.
        assert all(p.poll["question"] != follow_q.question for p in polls)
        for single in (p for p in polls if p is not first):
            await budi.answer_poll(single, _key(single))
        await budi.answer_poll(first, _key(first))
        # Right after the first step: the follow-up, and no result yet (it is part of the round).
        intro = await budi.next_message(timeout=10)
        assert intro.text is not None and intro.text.startswith("🔁 Kasus lanjutan"), intro.text
        follow = await budi.next_message(timeout=10)
        assert follow.poll is not None and follow.poll["question"] == follow_q.question
        await eventually(lambda: _poll(kediri, follow.poll["id"]) is not None)
        sent = _poll(kediri, follow.poll["id"])
        assert sent is not None
        assert (sent.round_id, sent.practice, sent.follows) == (round_id, False, first.poll["id"])
        await budi.answer_poll(follow, _key(follow))
        await expect(budi, "4 dari 4 benar")

        def scored() -> tuple[int, int] | None:
            def read(session):  # type: ignore[no-untyped-def]
                return session.exec(select(Score).where(Score.period == ALL)).first()

            row = kediri.run_sync(read)
            return (row.answered, row.correct) if row is not None else None

        await eventually(lambda: scored() == (4, 4))
        await budi.expect_silence(0.5)


async def test_a_follow_up_telegram_refuses_is_dropped_and_the_round_still_ends(
    sandbox, settings: Settings, kediri: Database
) -> None:
    async with _round(sandbox, settings, kediri) as (deps, budi, _, polls):
        first_q = next(q for q in deps.content.questions if q.id == FIRST)
        [first] = [p for p in polls if p.poll["question"] == first_q.question]
        sandbox.inject(
            "sendPoll", error_code=400, description="Bad Request: poll failed", chat_id=budi.id
        )
        for single in (p for p in polls if p is not first):
            await budi.answer_poll(single, _key(single))
        await budi.answer_poll(first, [0])
        # Logged and moved on: no follow-up counts, and the result of the three comes.
        await expect(budi, "dari 3 benar")
        stored = _poll(kediri, first.poll["id"])
        assert stored is not None and stored.follow_up is None
        assert len(_polls(kediri)) == 3


async def test_a_follow_up_retired_after_the_round_was_built_is_not_sent(
    sandbox, settings: Settings, kediri: Database
) -> None:
    async with _round(sandbox, settings, kediri) as (deps, budi, _, polls):
        # The follow-up leaves the files (and so is retired) while the round is out.
        bank = _bank(deps.content, FIRST, "BP-001", "KL-001")
        kediri.run_sync(sync_bank, questions=bank, prompts=deps.content.prompts)
        first_q = next(q for q in deps.content.questions if q.id == FIRST)
        [first] = [p for p in polls if p.poll["question"] == first_q.question]
        for single in (p for p in polls if p is not first):
            await budi.answer_poll(single, _key(single))
        await budi.answer_poll(first, _key(first))
        result = await budi.next_message(timeout=10)
        assert result.text is not None and "3 dari 3 benar" in result.text, result.text
        await budi.expect_silence(0.5)
        assert len(_polls(kediri)) == 3


async def test_a_follow_up_owed_after_a_failure_is_sent_later(
    bot, budi, kediri: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer is recorded but the follow-up is not sent (the database failed, or the
    bot stopped, in between): the follow-ups job sends it later, once."""
    deps = bot.bot_data["deps"]
    await budi.send("/kuis")
    first = await _next_poll(budi)
    await eventually(lambda: _poll(kediri, first.poll["id"]) is not None)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(followups, "send_follow_up", broken)
    await budi.answer_poll(first, _key(first))
    await eventually(lambda: len(_answers(kediri)) == 1)
    await budi.expect_silence(0.5)
    monkeypatch.undo()

    # Not while the path that recorded the answer may still be at it...
    assert await followups.resume(deps, bot.bot) == 0
    deps.clock.advance(timedelta(minutes=2))
    # ...then once.
    assert await followups.resume(deps, bot.bot) == 1
    await expect(budi, "Kasus lanjutan")
    follow = await _next_poll(budi)
    sent = _poll(kediri, follow.poll["id"])
    assert sent is not None and sent.follows == first.poll["id"]
    assert await followups.resume(deps, bot.bot) == 0
    await budi.expect_silence(0.5)
