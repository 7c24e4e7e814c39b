"""A quiz round with an answer window: a partial result when it closes, and a late
answer told politely that it does not count."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.core.calendar import FakeClock
from bot.core.config import Settings
from bot.quiz.rounds import send_quiz_round
from db.engine import Database
from db.models import QuizAnswer, QuizPoll
from db.queries.content import sync_bank
from sandbox.simulation import Registrant, expect, register
from tests.utils import build, eventually

WIB = ZoneInfo("Asia/Jakarta")
BUDI = Registrant("Budi Santoso", "sukorame", "Puskesmas Sukorame")


async def test_window_closes_with_a_partial_result(
    sandbox, settings: Settings, kediri: Database
) -> None:
    from bot.app.wiring import polling

    clock = FakeClock(datetime(2026, 12, 15, 9, 55, tzinfo=WIB))
    async with polling(await build(settings, kediri, clock=clock)) as app:
        deps = app.bot_data["deps"]
        kediri.run_sync(sync_bank, questions=deps.content.questions, prompts=deps.content.prompts)
        budi = sandbox.user("Budi Santoso")
        await register(budi, BUDI)
        round_id, count = await send_quiz_round(
            deps,
            {"type": "all"},
            day=clock.today("Asia/Jakarta"),
            questions=3,
            window_minutes=30,
        )
        assert count == 1
        intro = await expect(budi, "Kuis ditutup pukul 10.25 WIB", within=10)
        assert intro is not None
        polls = []
        while len(polls) < 3:
            event = await budi.next_message(timeout=10)
            if event.poll is not None:
                polls.append(event)

        def sent() -> list[QuizPoll]:
            return kediri.run_sync(lambda session: list(session.exec(select(QuizPoll)).all()))

        await eventually(lambda: len(sent()) == 3)
        # The key where Budi was shown it (options are shuffled per member).
        await budi.answer_poll(polls[0], polls[0].poll["correct_option_ids"])
        await eventually(lambda: len(_answers(kediri)) == 1)

        # Half an hour later the window closes: a result for what was answered.
        closes = clock.now() + timedelta(minutes=31)
        clock.set(closes)
        deps.schedule_round_close(round_id, closes)
        await expect(budi, "1 dari 3 benar (1 dijawab sebelum kuis ditutup)", within=10)
        await budi.answer_poll(polls[1], [0])
        await expect(budi, "sudah ditutup")
        assert len(_answers(kediri)) == 1
        # Closing again (a restart, a second job) sends nothing more.
        deps.schedule_round_close(round_id, closes)
        await budi.expect_silence(1.0)


def _answers(db: Database) -> list[QuizAnswer]:
    return db.run_sync(lambda session: list(session.exec(select(QuizAnswer)).all()))
