"""A simulated week of the programme through the sandbox, with a clock the test moves.

Week of Monday 21 December 2026: 24 December (cuti bersama) and 25 December (Natal) are
holidays in content/holidays.yaml. Three members, one each in WIB, WITA and WIT.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.core.calendar import FakeClock
from bot.core.config import Settings
from bot.programme.scheduler import Programme
from db.engine import Database
from db.models import ProgrammeRun, QuizAnswer, QuizPoll, Reflection
from db.queries.content import sync_bank
from db.queries.units import RosterRow, import_roster
from sandbox.simulation import Registrant, expect, register
from tests.utils import build, eventually

WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
PEOPLE = {
    "wib": Registrant("Budi Santoso", "sukorame", "Puskesmas Sukorame"),
    "wita": Registrant("Andi Makkasau", "tamalanrea", "Kecamatan Tamalanrea"),
    "wit": Registrant("Yohana Wenda", "abepura", "Distrik Abepura"),
}


def local(day: int, hour: int, minute: int, tz: ZoneInfo, second: float = 0) -> datetime:
    whole = int(second)
    micro = int((second - whole) * 1_000_000)
    return datetime(2026, 12, day, hour, minute, whole, micro, tzinfo=tz)


@pytest.fixture
def clock() -> FakeClock:
    # Sunday evening before the week, WIB.
    return FakeClock(local(20, 19, 0, WIB))


@pytest.fixture
def world(kediri: Database) -> Database:
    kediri.run_sync(
        import_roster,
        rows=[
            RosterRow("MKS", "Pemerintah Kota Makassar", None, "Asia/Makassar"),
            RosterRow("MKS-TML", "Kecamatan Tamalanrea", "MKS", "Asia/Makassar"),
            RosterRow("JAP", "Pemerintah Kota Jayapura", None, "Asia/Jayapura"),
            RosterRow("JAP-ABE", "Distrik Abepura", "JAP", "Asia/Jayapura"),
        ],
    )
    return kediri


async def start(settings: Settings, db: Database, clock: FakeClock):  # type: ignore[no-untyped-def]
    from bot.app.wiring import polling

    return polling(await build(settings, db, clock=clock))


def programme(app) -> Programme:  # type: ignore[no-untyped-def]
    return app.bot_data["deps"].programme  # type: ignore[no-any-return]


async def at(app, clock: FakeClock, moment: datetime) -> None:  # type: ignore[no-untyped-def]
    """Move the clock to just before `moment` and re-plan: the real job fires in 0.3 s."""
    clock.set(moment - timedelta(seconds=0.3))
    await programme(app).plan()


def runs(db: Database) -> list[ProgrammeRun]:
    return db.run_sync(lambda session: list(session.exec(select(ProgrammeRun)).all()))


async def test_a_week_of_prompts_quizzes_and_restarts(
    sandbox, settings: Settings, world: Database, clock: FakeClock, caplog
) -> None:
    caplog.set_level(logging.INFO)
    async with await start(settings, world, clock) as app:
        content = app.bot_data["deps"].content
        world.run_sync(sync_bank, questions=content.questions, prompts=content.prompts)
        users = {k: sandbox.user(p.name) for k, p in PEOPLE.items()}
        for key, user in users.items():
            await register(user, PEOPLE[key])

        # Monday 07:30 arrives first in Jayapura, then Makassar, then Kediri.
        for key, tz in (("wit", WIT), ("wita", WITA), ("wib", WIB)):
            await at(app, clock, local(21, 7, 30, tz))
            message = await expect(users[key], "Nilai hari ini", within=5)
            for other in users:
                if other != key:
                    await users[other].expect_silence(0.2)
        monday = {r.timezone: r for r in runs(world) if r.slot == "nilai"}
        assert {
            tz: r.due_at.astimezone(ZoneInfo(tz)).strftime("%a %H:%M")
            for tz, r in monday.items()
            if r.status == "sent"
        } == {
            "Asia/Jayapura": "Mon 07:30",
            "Asia/Makassar": "Mon 07:30",
            "Asia/Jakarta": "Mon 07:30",
        }

        # A reply to the daily message is a reflection on its value.
        await users["wib"].send("Saya menyapa warga dengan ramah hari ini.", reply_to=message)
        await expect(users["wib"], "refleksi Anda tentang")
        [reflection] = world.run_sync(lambda session: list(session.exec(select(Reflection)).all()))
        assert reflection.text.startswith("Saya menyapa") and reflection.broadcast_id is not None
        await users["wita"].send("x" * 1500)
        await expect(users["wita"], "batasnya 1000")

        # Tuesday 10:00 WIB: a quiz round of three polls; answers stored once each.
        await at(app, clock, local(22, 10, 0, WIB))
        budi = users["wib"]
        polls = []
        while len(polls) < 3:
            event = await budi.next_message(timeout=15)
            if event.poll is not None:
                polls.append(event)
        await eventually(lambda: len(_polls(world)) >= 3, within=5)
        for poll in polls:
            row = next(p for p in _polls(world) if p.poll_id == poll.poll["id"])
            assert row.round_id is not None and row.practice is False
            # The key where this member was shown it (options are shuffled per member).
            await budi.answer_poll(poll, poll.poll["correct_option_ids"])
        await expect(budi, "3 dari 3 benar", within=5)
        await sandbox.wait_idle()
        assert len(_answers(world)) == 3 and all(a.correct for a in _answers(world))

        # Thursday 24 and Friday 25 are holidays: nothing is planned for them.
        clock.set(local(23, 18, 0, WIB))
        await programme(app).plan()
        nxt = programme(app).next_runs()
        assert nxt["nilai"].astimezone(WIB).date().isoformat() == "2026-12-28"
        assert nxt["kuis"].astimezone(WIB).date().isoformat() == "2026-12-29"

    # Down from Wednesday 07:00 WIB to 07:45: the prompt goes out late, once.
    clock.set(local(23, 7, 45, WIB))
    async with await start(settings, world, clock):
        await expect(users["wib"], "Nilai hari ini", within=5)
    async with await start(settings, world, clock):
        await users["wib"].expect_silence(1.0)
    wednesday = [
        r
        for r in runs(world)
        if r.local_date.isoformat() == "2026-12-23"
        and r.timezone == "Asia/Jakarta"
        and r.slot == "nilai"
    ]
    assert len(wednesday) == 1 and wednesday[0].late_seconds >= 14 * 60

    # Down over Monday 28 07:30 until 10:00 WIB: beyond the two-hour grace, skipped.
    clock.set(local(28, 10, 0, WIB))
    caplog.clear()
    async with await start(settings, world, clock):
        await users["wib"].expect_silence(1.0)
    skipped = [
        r
        for r in runs(world)
        if r.local_date.isoformat() == "2026-12-28"
        and r.timezone == "Asia/Jakarta"
        and r.slot == "nilai"
    ]
    assert [r.status for r in skipped] == ["skipped"]
    assert any("beyond the 120 min grace period" in m for m in caplog.messages)


def _polls(db: Database) -> list[QuizPoll]:
    return db.run_sync(lambda session: list(session.exec(select(QuizPoll)).all()))


def _answers(db: Database) -> list[QuizAnswer]:
    return db.run_sync(lambda session: list(session.exec(select(QuizAnswer)).all()))
