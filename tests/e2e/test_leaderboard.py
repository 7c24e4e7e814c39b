"""Scores and team boards through the sandbox: /skor, /peringkat, /cuti, /tampilkan_nama,
linking a group, and the Friday posts from the programme's leaderboard slot."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.core.calendar import FakeClock
from bot.core.config import Settings
from db.engine import Database
from db.models import AuditLog, Member, MemberDay, Unit
from db.queries.content import sync_bank
from sandbox.simulation import Registrant, expect, register
from tests.utils import build

WIB = ZoneInfo("Asia/Jakarta")
# Wednesday 16 December 2026, 09:00 WIB: an ordinary working day.
START = datetime(2026, 12, 16, 9, 0, tzinfo=WIB)
BUDI = Registrant("Budi Santoso", "sukorame", "Puskesmas Sukorame")
SITI = Registrant("Siti Aminah", "sukorame", "Puskesmas Sukorame")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def app(sandbox, settings: Settings, kediri: Database, clock: FakeClock):  # type: ignore[no-untyped-def]
    from bot.app.wiring import polling

    async with polling(await build(settings, kediri, clock=clock)) as application:
        content = application.bot_data["deps"].content
        kediri.run_sync(sync_bank, questions=content.questions, prompts=content.prompts)
        yield application
        await sandbox.settle_callbacks()


async def answer_practice(user, db: Database, *, right: bool) -> None:  # type: ignore[no-untyped-def]
    from db.models import QuizPoll

    await user.send("/kuis")
    while True:
        event = await user.next_message(timeout=20)
        if event.poll is not None:
            break
    for _ in range(100):
        poll = db.run_sync(lambda session: session.get(QuizPoll, event.poll["id"]))
        if poll is not None:
            break
        import asyncio

        await asyncio.sleep(0.02)
    # The key as this member was shown it (options are shuffled per member).
    [key] = event.poll["correct_option_ids"]
    option = key if right else (key + 1) % len(event.poll["options"])
    await user.answer_poll(event, [option])


async def test_score_card_in_private_and_in_a_group(app, sandbox, kediri: Database) -> None:
    budi = sandbox.user("Budi Santoso")
    await register(budi, BUDI)
    await budi.send("Hari ini saya melayani warga dengan sabar.")
    await expect(budi, "refleksi Anda")
    await budi.send("/skor")
    photo = await budi.next_message(timeout=20)  # a chart, drawn in a worker thread
    assert photo.kind == "photo" or photo.photo is not None
    card = await expect(budi, "Skor Anda")
    assert "Runtun hari kerja: 1" in card.text and "Ketepatan per nilai" in card.text

    # The month's board in private, as a photo with its caption.
    await budi.send("/peringkat bulan")
    board = await budi.next_message(timeout=10)
    assert board.photo is not None
    caption = board.caption or ""
    assert "Papan BerAKHLAK · 12-2026" in caption
    # One member is too few to be ranked alone: counted with the OPD's other small units.
    assert "Puskesmas Sukorame: peringkat 1 dari 1 (dihitung bersama unit kecil" in caption

    group = sandbox.group("Tim Puskesmas Sukorame")
    await group.add(budi, admin=True)
    await group.add_bot()
    username = app.bot.username
    await budi.send_in(group, f"/skor@{username}")
    in_group = await expect(group, "Skor Anda")
    # In front of colleagues: points and streak, no accuracy (no wrong answers shown).
    assert "Ketepatan" not in in_group.text


async def test_group_link_and_friday_post(app, sandbox, kediri: Database, clock) -> None:  # type: ignore[no-untyped-def]
    budi, siti = sandbox.user("Budi Santoso"), sandbox.user("Siti Aminah")
    await register(budi, BUDI)
    await register(siti, SITI)
    group = sandbox.group("Tim Puskesmas Sukorame")
    await group.add(budi, admin=True)
    await group.add(siti)
    await group.add_bot()
    username = app.bot.username

    # A plain member may not link the group; the attempt is audited.
    await siti.send_in(group, f"/daftarkan_grup@{username}")
    await expect(group, "Hanya admin grup")
    await budi.send_in(group, f"/daftarkan_grup@{username}")
    await expect(group, "Puskesmas Sukorame")
    linked = kediri.run_sync(
        lambda session: session.exec(select(Unit).where(Unit.group_chat_id == group.chat_id)).one()
    )
    assert linked.name == "Puskesmas Sukorame"
    audits = kediri.run_sync(
        lambda session: [
            (a.action, a.allowed)
            for a in session.exec(select(AuditLog).where(AuditLog.action == "group_link"))
        ]
    )
    assert audits == [("group_link", False), ("group_link", True)]

    # Some activity, one opt-in name.
    await siti.send("/tampilkan_nama ya")
    await expect(siti, "Nama depan Anda boleh ditampilkan")
    await siti.send("Saya datang tepat waktu untuk melayani.")
    await expect(siti, "refleksi Anda")
    await answer_practice(budi, kediri, right=False)

    # /peringkat on demand in the group, then again at once: the second is ignored.
    await budi.send_in(group, f"/peringkat@{username}")
    post = await group.next_message(timeout=10)
    assert post.photo is not None and "Papan BerAKHLAK" in (post.caption or "")
    await budi.send_in(group, f"/peringkat@{username}")
    await group.expect_silence(1.0)

    # A second unit's group, linked earlier by its own admin.
    other = sandbox.group("Tim Kelurahan Bandar Lor")
    await other.add(sandbox.user("Ketua Bandar Lor"), admin=True)
    await other.add_bot()

    def link_other(*, session) -> None:  # type: ignore[no-untyped-def]
        unit = session.exec(select(Unit).where(Unit.name == "Kelurahan Bandar Lor")).one()
        unit.group_chat_id = other.chat_id

    kediri.run_sync(link_other)

    # Friday 15:00 WIB: the weekly slot posts each unit's board to its linked group.
    deps = app.bot_data["deps"]
    clock.set(datetime(2026, 12, 18, 15, 0, tzinfo=WIB) - timedelta(seconds=0.3))
    await deps.programme.plan()
    friday = await group.next_message(timeout=15)
    assert friday.photo is not None
    caption = friday.caption or ""
    assert "Puskesmas Sukorame" in caption and "Teladan minggu ini: Siti" in caption
    assert "Budi" not in caption  # did not opt in
    theirs = await other.next_message(timeout=15)
    assert theirs.photo is not None
    assert "Kelurahan Bandar Lor" in (theirs.caption or "")
    assert not sandbox.take_violations()


async def test_leave_keeps_the_streak(app, sandbox, kediri: Database) -> None:
    budi = sandbox.user("Budi Santoso")
    await register(budi, BUDI)
    await budi.send("/cuti 17-12-2026")
    await expect(budi, "Runtun Anda dilindungi untuk 17-12-2026")
    await budi.send("/cuti 19-12-2026")
    await expect(budi, "bukan hari kerja")
    await budi.send("/cuti besok pagi")
    await expect(budi, "HH-BB-TTTT")
    await budi.send("/cuti 17-12-2026")
    await expect(budi, "17-12-2026 sudah dihitung untuk runtun Anda")
    member = kediri.run_sync(lambda session: session.exec(select(Member)).one())
    days = kediri.run_sync(
        lambda session: [(d.day.isoformat(), d.kind) for d in session.exec(select(MemberDay))]
    )
    assert days == [("2026-12-17", "shield")] and member.show_name is False
