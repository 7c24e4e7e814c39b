"""/kuis practice questions, their answers recorded once, and /nilai."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import select

from bot.quiz import practice as practice_questions
from db.engine import Database
from db.models import Member, QuestionRow, QuizAnswer, QuizPoll
from db.queries.content import sync_bank
from handlers.quiz import handle_raw_votes
from sandbox.simulation import Registrant, expect, register
from tests.utils import eventually

BUDI = Registrant(name="Budi Santoso", unit_query="sukorame", unit_button="Puskesmas Sukorame")


def answers(db: Database) -> list[QuizAnswer]:
    return db.run_sync(lambda session: list(session.exec(select(QuizAnswer)).all()))


@pytest.fixture
async def member(bot, sandbox, kediri: Database):  # type: ignore[no-untyped-def]
    """A registered member, with the shipped question bank in the database."""
    content = bot.bot_data["deps"].content
    kediri.run_sync(sync_bank, questions=content.questions, prompts=content.prompts)
    user = sandbox.user("Budi Santoso")
    await register(user, BUDI)
    return user


async def quiz_poll(user):  # type: ignore[no-untyped-def]
    while True:
        message = await user.next_message()
        if message.poll is not None:
            return message


async def test_practice_question_is_a_quiz_and_its_answer_is_stored_once(
    member, kediri: Database
) -> None:
    user = member
    await user.send("/kuis")
    poll = await quiz_poll(user)
    assert poll.poll["type"] == "quiz" and poll.poll["is_anonymous"] is False

    def polls():  # type: ignore[no-untyped-def]
        return kediri.run_sync(lambda session: list(session.exec(select(QuizPoll)).all()))

    await eventually(lambda: len(polls()) == 1)
    [sent] = polls()
    assert sent.poll_id == poll.poll["id"] and sent.practice is True
    question = kediri.run_sync(lambda session: session.get(QuestionRow, sent.question_id))
    # The options come in this member's own order; the key is wherever it was shown.
    assert (
        sent.shown_order is not None
        and sorted(sent.shown_order) == [0, 1, 2, 3][: len(question.options)]
    )
    shown = [o["text"] for o in poll.poll["options"]]
    assert shown == [question.options[i] for i in sent.shown_order]
    await user.answer_poll(poll, [sent.shown_order.index(question.correct)])
    await eventually(lambda: len(answers(kediri)) == 1)
    [answer] = answers(kediri)
    # Stored and scored in the bank's terms.
    assert answer.correct is True and answer.option == question.correct
    assert answer.practice is True and answer.seconds >= 0
    # A quiz vote cannot be changed in Telegram; once the answer is scored (a moment
    # later, in the background) the member counts as active.
    await user.send("/nilai")
    await expect(user, "Nilai hari ini")
    assert len(answers(kediri)) == 1

    def active() -> bool:
        member = kediri.run_sync(lambda session: session.exec(select(Member)).one())
        return member.last_active_at is not None

    await eventually(active)


async def test_no_repeats_until_the_pool_is_seen(bot, sandbox, kediri: Database) -> None:
    content = bot.bot_data["deps"].content
    kediri.run_sync(sync_bank, questions=content.questions[:3], prompts=content.prompts)
    user = sandbox.user("Sri Rahayu")
    await register(user, BUDI)
    seen = []
    for _ in range(3):
        await user.send("/kuis")
        seen.append((await quiz_poll(user)).poll["question"])
    assert len(set(seen)) == 3


async def test_answers_to_unknown_polls_and_from_strangers_are_ignored(
    member, sandbox, kediri: Database
) -> None:
    user = member
    await user.send("/kuis")
    poll = await quiz_poll(user)
    guest = sandbox.user("Bukan Anggota")
    await guest.send("/kuis")
    await expect(guest, "Anda belum terdaftar")
    # A stranger cannot vote in someone's private poll in Telegram; the bot would ignore it
    # anyway (checked in db.queries.quiz). The member's own vote still counts once.
    await user.answer_poll(poll, [0])
    await eventually(lambda: len(answers(kediri)) == 1, within=15)


async def test_a_vote_faster_than_the_polls_record_still_counts(
    member, kediri: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The poll reaches the member before the bot has stored it (a slow database): the
    vote that comes in between is kept until the poll is known, not dropped as unknown."""
    user = member
    recording = practice_questions.note_practice_sent
    voted = asyncio.Event()

    async def slow_record(*args: Any, **kwargs: Any) -> None:
        await voted.wait()
        await asyncio.sleep(0.5)  # the vote has reached the bot and found no poll
        await recording(*args, **kwargs)

    monkeypatch.setattr(practice_questions, "note_practice_sent", slow_record)
    await user.send("/kuis")
    poll = await quiz_poll(user)
    await user.answer_poll(poll, [0])
    voted.set()
    await eventually(lambda: len(answers(kediri)) == 1, within=15)
    [answer] = answers(kediri)
    assert answer.poll_id == poll.poll["id"]


async def test_forged_votes_are_dropped_and_the_real_one_counts(
    bot, member, kediri: Database
) -> None:
    """Votes as a getUpdates response could carry them if forged: odd user, option and
    poll id. None reaches the table or disturbs the real vote in the same response."""
    user = member
    await user.send("/kuis")
    poll = await quiz_poll(user)
    poll_id = poll.poll["id"]
    deps = bot.bot_data["deps"]
    await eventually(
        lambda: kediri.run_sync(lambda session: session.get(QuizPoll, poll_id)) is not None
    )

    def vote(poll_id: object, user_id: object, options: object) -> dict[str, object]:
        return {
            "update_id": 1,
            "poll_answer": {"poll_id": poll_id, "user": {"id": user_id}, "option_ids": options},
        }

    forged = [
        vote(poll_id, user.id, [2**70]),  # beyond any integer column
        vote(poll_id, user.id, [-1]),
        vote(poll_id, user.id, [True]),
        vote(poll_id, user.id, "0"),
        vote(poll_id, True, [0]),
        vote(poll_id, None, [0]),
        vote("x" * 5000, user.id, [0]),
        vote("bad\x00id", user.id, [0]),
        vote(poll_id, user.id + 1, [0]),  # somebody else
        vote(poll_id, user.id, [len(poll.poll["options"])]),  # an option the poll never had
        vote(poll_id, user.id, [99]),
        {"update_id": 2, "poll_answer": "not a vote"},
    ]
    await handle_raw_votes(deps, bot.bot, [*forged, vote(poll_id, user.id, [1])])
    [answer] = answers(kediri)
    sent = kediri.run_sync(lambda session: session.get(QuizPoll, poll_id))
    # Shown position 1, stored as the bank's option it showed.
    assert (answer.poll_id, answer.option) == (poll_id, sent.shown_order[1])


async def test_value_of_the_day_for_guests_too(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Tamu")
    await user.send("/nilai")
    text = (await expect(user, "Nilai hari ini")).text
    assert "Panduan perilaku" in text
