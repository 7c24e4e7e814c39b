"""HR broadcasts end to end: targeting, placeholders, preview, cancel, schedule, report,
blocked users, rate limits, and the roles that may do it."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from db.engine import Database
from db.models import AuditLog, Broadcast, Delivery, Member, Role, Unit
from db.queries.members import create_member
from db.queries.units import RosterRow, import_roster, list_children, list_opd
from sandbox.ratelimit import RateLimits
from sandbox.simulation import expect
from sandbox.users import SimUser
from tests.utils import eventually


async def enrol(
    sandbox,
    db: Database,
    name: str,
    unit_id: int,
    role: str = Role.MEMBER,
    bot_token: str | None = None,
) -> SimUser:  # type: ignore[no-untyped-def]
    """A member who has started the bot (Telegram only delivers to those); `bot_token`: the
    bot of another instansi than the default."""
    user = sandbox.user(name, bot_token=bot_token)
    db.run_sync(
        create_member,
        telegram_user_id=user.id,
        chat_id=user.chat_id,
        full_name=name,
        unit_id=unit_id,
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
        role=role,
    )
    await user.send("/profil")
    await expect(user, "Profil Anda")
    return user


def texts(user: SimUser) -> list[str]:
    return [
        m.get("text") or m.get("caption") or ""
        for m in user.transcript
        if m["from"]["is_bot"] and ("text" in m or "caption" in m)
    ]


async def settle(bot, db: Database, broadcasts: int = 1) -> None:  # type: ignore[no-untyped-def]
    """Wait until the confirmed broadcasts have their rows, then until every row settles."""
    async with asyncio.timeout(15):
        while True:
            started = db.run_sync(
                lambda session: session.exec(
                    select(Broadcast).where(Broadcast.started_at != None)  # noqa: E711
                ).all()
            )
            if len(started) >= broadcasts:
                break
            await asyncio.sleep(0.02)
    await bot.bot_data["deps"].sender.drain(within=60)


def audit_rows(db: Database) -> list[AuditLog]:
    return db.run_sync(lambda session: list(session.exec(select(AuditLog)).all()))


@pytest.fixture
def opds(kediri: Database) -> tuple[int, int]:
    """Two OPD with a unit kerja each, one of them with HTML-looking characters."""
    kediri.run_sync(
        import_roster,
        rows=[
            RosterRow("UJI", "Badan Uji", None, "Asia/Jakarta"),
            RosterRow("UJI-AB", "Bidang A & B <Uji>", "UJI", "Asia/Jakarta"),
        ],
    )
    opd_list = {u.code: u for u in kediri.run_sync(list_opd)}
    uji = kediri.run_sync(list_children, opd_id=opd_list["UJI"].id)[0].id
    dinkes = kediri.run_sync(list_children, opd_id=opd_list["DINKES"].id)[0].id
    return uji, dinkes


async def compose(admin: SimUser, text: str) -> None:
    await admin.send(text)
    await expect(admin, "Pratinjau")


async def test_broadcast_to_everyone_with_placeholders(bot, sandbox, kediri, opds) -> None:
    uji, dinkes = opds
    admin = await enrol(sandbox, kediri, "Admin Satu", dinkes, Role.ADMIN)
    rina = await enrol(sandbox, kediri, "Rina Marlina", uji)
    budi = await enrol(sandbox, kediri, "Budi Santoso", dinkes)
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    assert menu.buttons[0] == ["👥 Semua anggota (3)"]
    await admin.press(menu, "👥 Semua anggota (3)")
    await expect(admin, "Penerima: 3 orang")
    await compose(admin, "Halo <b>{{ nama }}</b> dari {{unit}}: apel pagi pukul 07.30.")
    preview = await admin.next_message()
    assert preview.text.startswith("Halo Admin Satu dari ")
    confirm = await expect(admin, "Kirim ke 3 penerima?")
    await admin.press(confirm, "✅ Kirim sekarang ke 3")
    await settle(bot, kediri)
    got = await expect(rina, "Halo Rina Marlina")
    assert got.text == "Halo Rina Marlina dari Bidang A & B <Uji>: apel pagi pukul 07.30."
    assert {"type": "bold", "offset": 5, "length": 12} in [
        {k: e[k] for k in ("type", "offset", "length")} for e in got.entities
    ]
    await expect(budi, "Halo Budi Santoso")
    report = await expect(admin, "selesai", within=15)
    assert "Terkirim: 3" in report.text
    [row] = [a for a in audit_rows(kediri) if a.action == "broadcast_send"]
    assert row.actor_user_id == admin.id and row.audience_size == 3
    assert Counter(len([t for t in texts(u) if t.startswith("Halo ")]) for u in (rina, budi)) == {
        1: 2
    }


async def test_preview_is_exactly_what_recipients_get(bot, sandbox, kediri, opds) -> None:
    uji, _ = opds
    admin = await enrol(sandbox, kediri, "Admin Dua", uji, Role.ADMIN)
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, "🛡 Admin (1)")
    await compose(admin, "Unit Anda: {{ unit }} & OPD {{ opd }}")
    preview = await admin.next_message()
    assert preview.text == "Unit Anda: Bidang A & B <Uji> & OPD Badan Uji"


async def test_targeting_units_reaches_only_them(bot, sandbox, kediri, opds) -> None:
    uji, dinkes = opds
    admin = await enrol(sandbox, kediri, "Admin Tiga", dinkes, Role.ADMIN)
    inside = await enrol(sandbox, kediri, "Orang Uji", uji)
    outside = await enrol(sandbox, kediri, "Orang Dinkes", dinkes)
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, "🏢 Pilih OPD / unit kerja")
    units = await expect(admin, "Pilih OPD atau unit kerja")
    await admin.send("badan uji")
    found = await expect(admin, "Terpilih: 0")
    await admin.press(found, "Badan Uji")
    chosen = await expect(admin, "Terpilih: 1")
    assert ["✅ Badan Uji"] in chosen.buttons
    await admin.press(chosen, "➡️ Lanjut (1 penerima)")
    await expect(admin, "Penerima: 1 orang")
    await compose(admin, "Khusus Badan Uji")
    confirm = await expect(admin, "Kirim ke 1 penerima?")
    await admin.press(confirm, "✅ Kirim sekarang ke 1")
    await settle(bot, kediri)
    await expect(inside, "Khusus Badan Uji")
    assert not any("Khusus" in t for t in texts(outside))
    assert units.message_id  # the unit list was a live, edited message


async def test_bad_messages_are_explained(bot, sandbox, kediri, opds) -> None:
    _, dinkes = opds
    admin = await enrol(sandbox, kediri, "Admin Empat", dinkes, Role.ADMIN)
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, "👥 Semua anggota (1)")
    await expect(admin, "Penerima: 1 orang")
    await admin.send("Halo {{ jabatan }}")
    await expect(admin, "tidak dikenal")
    await admin.send("baris satu<br>baris dua")
    bad = await expect(admin, "tidak diterima Telegram")
    assert 'Unsupported start tag "br"' in bad.text
    await admin.send("x" * 4090 + " {{ nama }}")
    await expect(admin, "terlalu panjang")
    assert kediri.run_sync(lambda session: session.exec(select(Broadcast)).all()) == []


async def test_cancel_before_sending_sends_nothing(bot, sandbox, kediri, opds) -> None:
    uji, dinkes = opds
    admin = await enrol(sandbox, kediri, "Admin Lima", dinkes, Role.ADMIN)
    member = await enrol(sandbox, kediri, "Anggota Lima", uji)
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, "👥 Semua anggota (2)")
    await compose(admin, "Jangan terkirim")
    confirm = await expect(admin, "Kirim ke 2 penerima?")
    await admin.press(confirm, "Batal")
    await expect(admin, "Tidak ada yang dikirim")
    await member.expect_silence(0.5)
    assert kediri.run_sync(lambda session: session.exec(select(Broadcast)).all()) == []


async def test_schedule_then_cancel_and_schedule_then_run(bot, sandbox, kediri, opds) -> None:
    uji, dinkes = opds
    admin = await enrol(sandbox, kediri, "Admin Enam", dinkes, Role.ADMIN)
    member = await enrol(sandbox, kediri, "Anggota Enam", uji)
    for attempt in range(2):
        await admin.send("/broadcast")
        menu = await expect(admin, "Pilih penerima")
        await admin.press(menu, "👥 Semua anggota (2)")
        await compose(admin, f"Terjadwal {attempt}")
        confirm = await expect(admin, "Kirim ke 2 penerima?")
        await admin.press(confirm, "🕒 Jadwalkan")
        await expect(admin, "Ketik tanggal dan jam")
        await admin.send("kemarin sore")
        await expect(admin, "Format waktu tidak dikenali")
        await admin.send("01-01-2020 08:00")
        await expect(admin, "sudah lewat")
        when = bot.bot_data["deps"].clock.now() + timedelta(days=1)  # the bot's own clock
        local = when.astimezone(ZoneInfo("Asia/Jakarta"))
        await admin.send(local.strftime("%d-%m-%Y %H:%M"))
        await expect(admin, f"Siaran #{attempt + 1} dijadwalkan")
    jobs = {job.name: job for job in bot.job_queue.jobs()}
    assert "broadcast-1" in jobs and "broadcast-2" in jobs
    await admin.send("/broadcast_batal")
    menu = await expect(admin, "Pilih siaran yang akan dibatalkan")
    await admin.press(menu, "✖️ Batalkan #1 (scheduled)")
    await expect(admin, "Siaran #1 dibatalkan")
    await sandbox.wait_idle()
    assert "broadcast-1" not in {job.name for job in bot.job_queue.jobs()}
    # The second one's time comes: run its job as the scheduler would.
    await jobs["broadcast-2"].run(bot)
    await settle(bot, kediri)
    await expect(member, "Terjadwal 1")
    assert not any("Terjadwal 0" in t for t in texts(member))
    await admin.send("/broadcast_daftar")
    listing = await expect(admin, "Siaran terakhir")
    assert "#1 · dibatalkan" in listing.text and "#2 · " in listing.text


async def test_blocked_and_unknown_chats_are_reported(bot, sandbox, kediri, opds) -> None:
    uji, dinkes = opds
    admin = await enrol(sandbox, kediri, "Admin Tujuh", dinkes, Role.ADMIN)
    ok = await enrol(sandbox, kediri, "Masih Aktif", uji)
    gone = await enrol(sandbox, kediri, "Sudah Blokir", uji)
    await gone.block()

    def gone_row(session):  # type: ignore[no-untyped-def]
        return session.exec(select(Member).where(Member.telegram_user_id == gone.id)).one()

    await eventually(lambda: kediri.run_sync(gone_row).reachable is False)
    # As if the block had happened while the bot was down (the update never came): the
    # broadcast's 403 is what tells the bot.
    kediri.run_sync(lambda session: setattr(gone_row(session), "reachable", True))
    # A member whose chat Telegram does not know (e.g. imported with a wrong id).
    kediri.run_sync(
        create_member,
        telegram_user_id=9_000_000_001,
        chat_id=9_000_000_001,
        full_name="Salah Data",
        unit_id=uji,
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
    )
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, "👥 Semua anggota (4)")
    await compose(admin, "Info penting")
    confirm = await expect(admin, "Kirim ke 4 penerima?")
    await admin.press(confirm, "✅ Kirim sekarang ke 4")
    await settle(bot, kediri)
    await expect(ok, "Info penting")
    report = await expect(admin, "selesai", within=15)
    assert (
        "Gagal: 1" in report.text
        and "Diblokir (bot diblokir atau belum pernah dimulai): 1" in report.text
    )
    assert report.buttons == [["🔁 Kirim ulang yang gagal (1)"]]
    blocked = kediri.run_sync(
        lambda session: session.exec(select(Member).where(Member.telegram_user_id == gone.id)).one()
    )
    assert blocked.reachable is False
    states = Counter(
        d.state for d in kediri.run_sync(lambda session: session.exec(select(Delivery)).all())
    )
    assert states == {"sent": 2, "blocked": 1, "failed": 1}
    query_id = await admin.press(report, "🔁 Kirim ulang yang gagal (1)")
    await sandbox.wait_callback_answer(query_id)
    await bot.bot_data["deps"].sender.drain()
    assert any(a.action == "broadcast_retry" for a in audit_rows(kediri))
    # The unknown chat was provoked on purpose: Telegram answered 400 twice (send, retry).
    violations = sandbox.take_violations()
    assert len(violations) == 2 and all("chat not found" in str(v) for v in violations)


@pytest.mark.sandbox(rate_limits=RateLimits(global_per_second=5))
async def test_a_429_storm_pauses_and_loses_nothing(bot, sandbox, kediri, opds) -> None:
    uji, dinkes = opds
    admin = await enrol(sandbox, kediri, "Admin Delapan", dinkes, Role.ADMIN)
    members = [await enrol(sandbox, kediri, f"Anggota Badai {i}", uji) for i in range(12)]
    await sandbox.wait_idle()
    sandbox.take_violations()
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, "👥 Semua anggota (13)")
    await compose(admin, "Badai")
    confirm = await expect(admin, "Kirim ke 13 penerima?")
    await admin.press(confirm, "✅ Kirim sekarang ke 13")
    await settle(bot, kediri)
    for member in members:
        assert [t for t in texts(member) if t == "Badai"] == ["Badai"]
    violations = sandbox.take_violations()
    # Telegram said 429 (this sandbox allows only 5/s); the engine waited, retried, and
    # never sent during a retry_after.
    assert violations and all("429" in str(v) for v in violations)
    assert not any("ignored retry_after" in str(v) for v in violations), [
        (v.params.get("chat_id"), v.note, v.time) for v in violations
    ]


async def test_non_admins_reach_no_admin_path(bot, sandbox, kediri, opds) -> None:
    uji, _ = opds
    member = await enrol(sandbox, kediri, "Bukan Admin", uji)
    for command in (
        "/broadcast",
        "/broadcast_daftar",
        "/broadcast_batal",
        "/admin_tambah siti",
        "/admin_hapus",
        "/admin_daftar",
        "/audit",
        "/statistik",
    ):
        await member.send(command)
        await expect(member, "hanya untuk")
    for data in ("bc:aud:all", "bc:send", "bc:retry:1", "bc:stop:1", "adm:add:1", "soal:ok"):
        query_id = await member.press_forged(1, data)
        answer = await sandbox.wait_callback_answer(query_id)
        assert "hanya untuk admin" in answer["text"]
    # Refusals by one person within a minute share a line with a count; past their
    # limit (REFUSED_PER_MINUTE, 10 at once, then one every 6 s) they are answered as
    # above but no longer written.
    refused = [a for a in audit_rows(kediri) if not a.allowed]
    limit = bot.bot_data["deps"].settings.refused_per_minute
    assert limit <= sum(a.detail.get("count", 1) for a in refused) <= 14
    assert all(a.actor_user_id == member.id for a in refused)
    assert kediri.run_sync(lambda session: session.exec(select(Broadcast)).all()) == []


async def test_superadmin_manages_admins_and_reads_the_audit(
    sandbox, settings, kediri, opds
) -> None:
    from tests.utils import running_bot

    uji, dinkes = opds
    boss = sandbox.user("Kepala BKPSDM")
    async with running_bot(settings.model_copy(update={"superadmin_ids": [boss.id]}), kediri):
        kediri.run_sync(
            create_member,
            telegram_user_id=boss.id,
            chat_id=boss.chat_id,
            full_name="Kepala BKPSDM",
            unit_id=dinkes,
            nip=None,
            language="id",
            consent_at=datetime.now(UTC),
            role=Role.SUPERADMIN,
        )
        siti = await enrol(sandbox, kediri, "Siti Rahayu", uji)
        await boss.send("/admin_tambah siti")
        candidates = await expect(boss, "Pilih yang dijadikan admin")
        await boss.press(candidates, candidates.buttons[0][0])
        await expect(boss, "Siti Rahayu sekarang admin program")
        await siti.send("/admin_daftar")
        listing = await expect(siti, "Admin program")
        assert "Siti Rahayu" in listing.text
        await siti.send("/admin_tambah budi")
        await expect(siti, "hanya untuk superadmin")
        await boss.send("/admin_hapus")
        menu = await expect(boss, "Pilih admin yang dikembalikan")
        await boss.press(menu, menu.buttons[0][0])
        await expect(boss, "Siti Rahayu sekarang anggota biasa")
        await boss.send("/audit")
        log = await expect(boss, "Log audit terbaru")
        assert "admin_add" in log.text and "admin_remove" in log.text and "ditolak" in log.text
    roles = kediri.run_sync(
        lambda session: session.exec(
            select(Member.role).where(Member.full_name == "Siti Rahayu")
        ).one()
    )
    assert roles == Role.MEMBER


async def test_migrated_group_gets_the_message_at_its_new_id(bot, sandbox, kediri, opds) -> None:
    from bot.delivery.broadcasts import launch
    from db.queries import outbox

    uji, _ = opds
    group = sandbox.group("Tim Badan Uji")
    await group.add(sandbox.user("Ketua Tim"), admin=True)
    await group.add_bot()
    kediri.run_sync(lambda session: setattr(session.get(Unit, uji), "group_chat_id", group.chat_id))
    new_id = await group.migrate_to_supergroup()
    info = kediri.run_sync(
        outbox.create_broadcast, kind="group", created_by=None, audience={}, content={}
    )
    kediri.run_sync(
        outbox.enqueue,
        broadcast_id=info.id,
        rows=[
            (
                None,
                group.old_chat_id,
                {"messages": [{"method": "sendMessage", "params": {"text": "Halo tim"}}]},
            )
        ],
    )
    sender = bot.bot_data["deps"].sender
    sender.wake()
    await sender.drain()
    await expect(group, "Halo tim")
    unit = kediri.run_sync(lambda session: session.get(Unit, uji))
    assert unit.group_chat_id == new_id
    [row] = kediri.run_sync(lambda session: session.exec(select(Delivery)).all())
    assert row.state == "sent" and row.chat_id == new_id
    assert launch  # the same engine serves HR broadcasts
