"""Registration end to end: the real bot, over HTTP, against the strict sandbox."""

from __future__ import annotations

from sqlmodel import select

from db.engine import Database
from db.models import Member, Registration, Unit
from sandbox.simulation import Registrant, begin, expect, register
from tests.utils import build

BUDI = Registrant(
    name="Budi Santoso",
    unit_query="sukorame",
    unit_button="Puskesmas Sukorame",
    nip="19860926 201505 1 001",
)


def members(db: Database) -> list[Member]:
    return db.run_sync(lambda session: list(session.exec(select(Member)).all()))


def draft(db: Database, user_id: int) -> Registration | None:
    return db.run_sync(lambda session: session.get(Registration, user_id))


async def test_full_registration_stores_the_member(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Budi Santoso")
    done = await register(user, BUDI)
    assert "Budi Santoso" in done.text
    [member] = members(kediri)
    assert member.telegram_user_id == user.id
    assert member.chat_id == user.chat_id
    assert member.full_name == "Budi Santoso"
    assert member.nip == "198609262015051001"
    assert member.consent_at is not None
    assert member.role == "member"
    unit = kediri.run_sync(lambda session: session.get(Unit, member.unit_id))
    assert unit is not None and unit.name == "Puskesmas Sukorame"
    assert draft(kediri, user.id) is None


async def test_summary_and_profile_mask_the_nip(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Sri Wahyuni")
    await register(user, BUDI)
    await user.send("/profil")
    profile = await expect(user, "Profil Anda")
    assert "1986**********1001" in profile.text
    assert "198609262015051001" not in profile.text
    assert all(
        "198609262015051001" not in (m.get("text") or "")
        for m in user.transcript
        if m["from"]["is_bot"]
    )


async def test_consent_declined_stores_nothing(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Andi")
    await user.send("/start")
    welcome = await expect(user, "BerAKHLAK")
    await user.press(welcome, "🇮🇩 Bahasa Indonesia")
    consent = await expect(user, "Persetujuan")
    await user.press(consent, "Tidak setuju")
    await expect(user, "tidak ada data Anda yang kami simpan")
    assert members(kediri) == []
    assert draft(kediri, user.id) is None


async def test_bad_names_are_explained_and_the_step_resumes(bot, sandbox, kediri) -> None:
    user = sandbox.user("Tester")
    await begin(user)
    cases = [
        ("x" * 5000, "terlalu panjang (5000 karakter)"),
        ("😀😀😀", "harus berisi huruf"),
        ("<b>Budi</b> & co", "hanya boleh berisi huruf"),
        ("Budi 2", "tidak boleh berisi angka"),
        ("Bu", "terlalu pendek"),
    ]
    for text, answer in cases:
        await user.send(text)
        await expect(user, answer)
        assert draft(kediri, user.id).step == "name"
    await user.upload_photo(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    await expect(user, "mengetik pesan teks")
    await expect(user, "Nama lengkap")
    await user.send("Dewi Lestari")
    await expect(user, "Unit kerja")
    assert draft(kediri, user.id).full_name == "Dewi Lestari"


async def test_unit_by_pages_and_buttons(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Rina")
    await begin(user)
    await user.send("Rina Marlina")
    page1 = await expect(user, "Halaman 1 dari")
    await user.press(page1, "Berikutnya ▶️")
    page2 = await expect(user, "Halaman 2 dari")
    assert page2.kind == "edit" and page2.message_id == page1.message_id
    await user.press(page2, "◀️ Sebelumnya")
    page1 = await expect(user, "Halaman 1 dari")
    await user.press(page1, "Berikutnya ▶️")
    page2 = await expect(user, "Halaman 2 dari")
    await user.press(page2, "Dinas Kesehatan")
    units = await expect(user, "Pilih unit kerja Anda")
    assert any("Puskesmas" in b for row in units.buttons for b in row)
    await user.press(units, "⬅️ Kembali ke daftar OPD")
    await expect(user, "Halaman 1 dari")


async def test_unit_search_none_and_too_long(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Rudi")
    await begin(user)
    await user.send("Rudi Hartono")
    await expect(user, "Unit kerja")
    await user.send("zzzz tidak ada")
    nothing = await expect(user, "Tidak ada unit yang cocok")
    assert nothing.buttons == [["📋 Pilih dari daftar"]]
    await user.send("k" * 200)
    await expect(user, "paling banyak 64 karakter")
    assert draft(kediri, user.id).step == "unit"


async def test_bad_nips_and_skip(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Wati")
    who = Registrant(
        name="Wati Ningsih",
        unit_query="bandar lor",
        unit_button="Kelurahan Bandar Lor",
        nip=None,
        bad_nips=("1234", "19861399 201505 1 001", "19860926 201505 3 001", "abc"),
    )
    await register(user, who)
    [member] = members(kediri)
    assert member.nip is None
    texts = [m["text"] for m in user.transcript if m["from"]["is_bot"] and "text" in m]
    assert any("18 angka, yang Anda ketik 4" in t for t in texts)
    assert any("tanggal lahir" in t for t in texts)
    assert any("Angka ke-15" in t for t in texts)
    assert any("hanya berisi angka" in t for t in texts)


async def test_start_again_midway_resumes(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Joko")
    await begin(user)
    await user.send("Joko Widodo")
    await expect(user, "Unit kerja")
    await user.send("/start")
    await expect(user, "belum selesai")
    await expect(user, "Unit kerja")
    row = draft(kediri, user.id)
    assert row.step == "unit" and row.full_name == "Joko Widodo"


async def test_old_and_forged_buttons_change_nothing(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Maya")
    await begin(user)
    consent = next(m for m in user.transcript if "Persetujuan" in (m.get("text") or ""))
    await user.send("Maya Sari")
    units = await expect(user, "Unit kerja")
    before = draft(kediri, user.id)
    # The consent message no longer shows buttons; a hostile client presses anyway.
    await user.press_forged(consent["message_id"], "reg:consent:no")
    for data in ("reg:unit:999999", "reg:opd:abc", "reg:lang:xx", "garbage", "reg:save"):
        await user.press_forged(units.message_id, data)
    await user.press_forged(units.message_id, "x" * 64)
    # Each press gets a short notice (the sandbox fails the test on an unanswered one),
    # and nothing is sent or edited in the chat.
    await user.expect_silence(0.5)
    after = draft(kediri, user.id)
    assert (after.step, after.full_name, after.unit_id, after.consent_at) == (
        before.step,
        before.full_name,
        before.unit_id,
        before.consent_at,
    )
    assert members(kediri) == []


async def test_change_unit(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Eko")
    await register(user, BUDI)
    await user.send("/ubah_unit")
    await expect(user, "Unit Anda sekarang")
    await expect(user, "Pilih unit kerja baru")
    await user.send("dukcapil")
    results = await expect(user, "Hasil pencarian")
    first = results.buttons[0][0]
    await user.press(results, first)
    await expect(user, "Unit kerja Anda sekarang")
    [member] = members(kediri)
    unit = kediri.run_sync(lambda session: session.get(Unit, member.unit_id))
    assert unit.name == first


async def test_erase_removes_personal_data(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Fajar")
    await register(user, BUDI)
    await user.send("/hapus_data")
    confirm = await expect(user, "Hapus data pribadi?")
    await user.press(confirm, "🗑 Ya, hapus data saya")
    await expect(user, "sudah dihapus")
    [row] = members(kediri)
    assert row.full_name is None and row.nip is None and row.deleted_at is not None
    assert row.telegram_user_id != user.id and row.chat_id != user.chat_id
    assert row.unit_id is not None  # anonymous aggregates keep their unit
    await user.send("/profil")
    await expect(user, "Anda belum terdaftar")
    # They can come back as a new member.
    await register(user, BUDI)
    assert len(members(kediri)) == 2


async def test_erase_cancelled_keeps_everything(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Gita")
    await register(user, BUDI)
    await user.send("/hapus_data")
    confirm = await expect(user, "Hapus data pribadi?")
    await user.press(confirm, "Batal")
    await expect(user, "Dibatalkan")
    [row] = members(kediri)
    assert row.full_name == "Budi Santoso"


async def test_help_lists_commands_for_the_caller(bot, sandbox, kediri: Database) -> None:
    guest = sandbox.user("Tamu")
    await guest.send("/bantuan")
    text = (await expect(guest, "Bantuan")).text
    assert "/start" in text and "/statistik" not in text
    member = sandbox.user("Anggota")
    await register(member, BUDI)
    await member.send("/bantuan")
    text = (await expect(member, "Bantuan")).text
    assert "/profil" in text and "/hapus_data" in text and "/statistik" not in text
    for command in ("/skor", "/peringkat", "/cuti", "/tampilkan_nama", "/ide", "/apresiasi"):
        assert f"{command} — " in text, command


async def test_unknown_command_and_stray_text(bot, sandbox, kediri: Database) -> None:
    user = sandbox.user("Hadi")
    await user.send("/tidakada")
    await expect(user, "tidak dikenal")
    await user.send("halo")
    await expect(user, "Ketik /start")


async def test_groups_only_answer_commands_addressed_to_the_bot(bot, sandbox, kediri) -> None:
    user = sandbox.user("Indah")
    group = sandbox.group("Tim Puskesmas Sukorame")
    await group.add(user)
    await group.add_bot()
    await user.send_in(group, "/bantuan")
    await user.send_in(group, "selamat pagi semua")
    await user.send_in(group, "/start")
    await group.expect_silence(0.5)
    username = bot.bot.username
    await user.send_in(group, f"/bantuan@{username}")
    reply = await expect(group, "BerAKHLAK")
    assert reply.buttons == [["Buka chat pribadi"]]
    await user.send_in(group, f"/profil@{username}")
    await expect(group, "hanya bisa dipakai di chat pribadi")
    assert members(kediri) == []


async def test_superadmin_from_configuration(sandbox, settings, kediri: Database) -> None:
    from tests.utils import running_bot

    admin = sandbox.user("Kepala BKPSDM")
    async with running_bot(settings.model_copy(update={"superadmin_ids": [admin.id]}), kediri):
        await register(admin, BUDI)
        await admin.send("/statistik")
        stats = await expect(admin, "Anggota terdaftar per OPD")
        assert "Dinas Kesehatan" in stats.text and "Jumlah: 1" in stats.text
        other = sandbox.user("Bukan Admin")
        await other.send("/statistik")
        await expect(other, "hanya untuk admin")
    [row, *_] = members(kediri)
    assert row.role == "superadmin"


async def test_command_menus_are_set_per_scope(bot, sandbox) -> None:
    calls = [c for c in sandbox.calls if c.method == "setMyCommands"]
    scopes = {c.params.get("scope", {}).get("type") for c in calls}
    assert {"all_private_chats", "all_group_chats"} <= scopes


async def test_webhook_mode_with_secret_token(sandbox, settings, kediri: Database) -> None:
    """The same bot, fed by webhook: the sandbox posts updates with the secret header."""
    from bot.app.wiring import ALLOWED_UPDATES
    from sandbox.pytest_plugin import free_port

    app = await build(settings, kediri)
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()
    port = free_port()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="telegram",
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        secret_token="rahasia-123",
        allowed_updates=ALLOWED_UPDATES,
    )
    try:
        user = sandbox.user("Lewat Webhook")
        await user.send("/start")
        await expect(user, "BerAKHLAK")
        [call] = sandbox.calls_to("setWebhook")
        assert call.params["secret_token"] == "rahasia-123"
    finally:
        await sandbox.settle_callbacks()
        await app.updater.stop()
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
        await app.shutdown()


async def test_a_failure_is_apologised_for_and_logged_without_personal_data(
    bot, sandbox, kediri: Database, monkeypatch, caplog
) -> None:
    import db.queries.members

    user = sandbox.user("Nama Rahasia")
    await register(user, BUDI)

    secret = f"{BUDI.name} {BUDI.nip}"  # what an exception message might quote

    def broken(**_: object) -> None:
        raise RuntimeError(secret)

    monkeypatch.setattr(db.queries.members, "get_member", broken)
    await user.send("/profil")
    await expect(user, "terjadi kesalahan")
    assert "RuntimeError" in caplog.text
    assert BUDI.name not in caplog.text and "19860926" not in caplog.text
    assert bot.bot.token not in caplog.text


async def test_blocking_and_unblocking_the_bot_is_remembered(bot, sandbox, kediri) -> None:
    user = sandbox.user("Pemblokir")
    await register(user, BUDI)
    from tests.utils import eventually

    await user.block()
    await eventually(lambda: members(kediri)[0].reachable is False)
    await user.unblock()
    await eventually(lambda: members(kediri)[0].reachable is True)


async def test_no_roster_yet_is_explained(sandbox, settings, db: Database) -> None:
    from tests.utils import running_bot

    async with running_bot(settings, db):
        user = sandbox.user("Terlalu Awal")
        await begin(user)
        await user.send("Siti Aminah")
        await expect(user, "belum dimuat")
        assert draft(db, user.id).full_name == "Siti Aminah"
