"""The programme only where it reaches someone: jobs and catch-up for the zones whose units
have members, and no broadcast stored for a send that reaches nobody."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.core.calendar import FakeClock
from bot.core.config import Settings
from db.engine import Database
from db.models import Broadcast, ProgrammeRun
from db.queries.members import create_member
from db.queries.units import RosterRow, import_roster, list_children, list_opd
from sandbox.simulation import Registrant, expect, register
from tests.utils import eventually, running_bot

WIB = ZoneInfo("Asia/Jakarta")
# Wednesday 9 December 2026, 08:00 WIB: the value of the day (07:30) is 30 min late in
# WIB; in WITA (09:00, 90 min late) it would still be within the grace period too.
EIGHT_WIB = datetime(2026, 12, 9, 8, 0, tzinfo=WIB)


def programme_jobs(app) -> set[str]:  # type: ignore[no-untyped-def]
    return {
        job.name
        for job in app.job_queue.jobs()
        if job.name and job.name.startswith("programme:") and not job.removed
    }


def with_makassar(db: Database) -> Database:
    db.run_sync(
        import_roster,
        rows=[
            RosterRow("MKS", "Pemerintah Kota Makassar", None, "Asia/Makassar"),
            RosterRow("MKS-TML", "Kecamatan Tamalanrea", "MKS", "Asia/Makassar"),
        ],
    )
    return db


async def test_no_member_no_jobs_and_the_first_member_brings_their_zone(
    sandbox, settings: Settings, kediri: Database
) -> None:  # type: ignore[no-untyped-def]
    with_makassar(kediri)
    async with running_bot(settings, kediri) as app:
        assert programme_jobs(app) == set()  # units in WIB and WITA, nobody registered
        budi = sandbox.user("Budi Santoso")
        await register(budi, Registrant("Budi Santoso", "sukorame", "Puskesmas Sukorame"))
        await eventually(lambda: bool(programme_jobs(app)))
        assert programme_jobs(app) == {
            "programme:nilai:Asia/Jakarta",
            "programme:kuis:Asia/Jakarta",
            "programme:peringkat:Asia/Jakarta",
            # The admins' report and alert: once, in the instansi's zone.
            "programme:laporan:Asia/Jakarta",
            "programme:sepi:Asia/Jakarta",
        }
        # /ubah_unit to a unit in another zone brings that zone's jobs too.
        await budi.send("/ubah_unit")
        await expect(budi, "Pilih unit kerja baru")
        await budi.send("tamalanrea")
        results = await expect(budi, "Hasil pencarian")
        await budi.press(results, "Kecamatan Tamalanrea")
        await expect(budi, "Kecamatan Tamalanrea")
        await eventually(lambda: "programme:nilai:Asia/Makassar" in programme_jobs(app))
        await sandbox.settle_callbacks()
    # No catch-up for what was due before the zone had anyone.
    assert kediri.run_sync(lambda session: list(session.exec(select(Broadcast)).all())) == []


async def test_catch_up_only_in_zones_with_members(
    sandbox, settings: Settings, kediri: Database
) -> None:  # type: ignore[no-untyped-def]
    with_makassar(kediri)
    opd = next(u for u in kediri.run_sync(list_opd) if u.code == "DINKES")
    unit = kediri.run_sync(list_children, opd_id=opd.id)[0]
    user = sandbox.user("Siti Aminah")
    kediri.run_sync(
        create_member,
        telegram_user_id=user.id,
        chat_id=user.chat_id,
        full_name="Siti Aminah",
        unit_id=unit.id,
        nip=None,
        language="id",
        consent_at=EIGHT_WIB.astimezone(UTC),
        role="member",
    )
    await user.send("/profil")  # she has started the bot; Telegram keeps it until polled
    async with running_bot(settings, kediri, clock=FakeClock(EIGHT_WIB)) as app:
        await app.bot_data["deps"].sender.drain(within=30)
        await expect(user, "Nilai hari ini")
    runs = kediri.run_sync(lambda session: list(session.exec(select(ProgrammeRun)).all()))
    assert {(r.slot, r.timezone, r.status) for r in runs if r.slot == "nilai"} == {
        ("nilai", "Asia/Jakarta", "sent")
    }
    assert all(r.timezone == "Asia/Jakarta" for r in runs)
    [daily] = kediri.run_sync(lambda session: list(session.exec(select(Broadcast)).all()))
    assert daily.kind == "nilai" and daily.audience == {
        "type": "timezone",
        "timezone": "Asia/Jakarta",
    }


async def test_a_send_to_nobody_stores_nothing(bot, kediri: Database) -> None:  # type: ignore[no-untyped-def]
    from bot.programme.value_message import send_daily
    from bot.quiz.rounds import send_quiz_round

    deps = bot.bot_data["deps"]
    day = deps.clock.today("Asia/Jakarta")
    nobody = {"type": "timezone", "timezone": "Asia/Jayapura"}
    assert await send_daily(deps, nobody, day=day) == (None, 0)
    assert await send_quiz_round(deps, nobody, day=day, questions=3, window_minutes=None) == (
        None,
        0,
    )
    assert kediri.run_sync(lambda session: list(session.exec(select(Broadcast)).all())) == []
