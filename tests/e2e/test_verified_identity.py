"""Verified identity: with HR's employee list loaded, registration matches NIP and name,
takes the unit from the list, and sends what the list does not confirm (an unknown NIP, a
different name, a NIP another account holds, a move to another unit) to the admins, who
approve or decline with a button. Each refusal is polite and stores nothing of a member."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import select

from db.engine import Database
from db.models import AuditLog, Member, Registration, Role, Unit
from db.queries.employees import EmployeeEntry, import_employees
from db.queries.members import create_member
from sandbox.simulation import begin, expect

BUDI_NIP = "198609262015051001"
SARI_NIP = "199001152015032002"


def members(db: Database) -> list[Member]:
    return db.run_sync(lambda session: list(session.exec(select(Member)).all()))


def draft(db: Database, user_id: int) -> Registration | None:
    return db.run_sync(lambda session: session.get(Registration, user_id))


def unit_id(db: Database, code: str) -> int:
    unit = db.run_sync(lambda session: session.exec(select(Unit).where(Unit.code == code)).one())
    assert unit.id is not None
    return unit.id


def audit_actions(db: Database) -> list[str]:
    return db.run_sync(lambda session: [a.action for a in session.exec(select(AuditLog)).all()])


def load_list(db: Database) -> None:
    db.run_sync(
        import_employees,
        rows=[
            EmployeeEntry(BUDI_NIP, "Dr. Budi Santoso, S.Kom.", "PKM-SUKORAME"),
            EmployeeEntry(SARI_NIP, "Hj. Sari Wulandari, S.E., M.M.", "KEL-BANDAR-LOR"),
        ],
    )


async def make_admin(db: Database, user) -> None:  # type: ignore[no-untyped-def]
    """An admin who has opened a private chat with the bot (else it may not write first)."""
    db.run_sync(
        create_member,
        telegram_user_id=user.id,
        chat_id=user.chat_id,
        full_name="Admin BKPSDM",
        unit_id=unit_id(db, "PKM-SUKORAME"),
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
        role=Role.ADMIN,
    )
    await user.send("/bantuan")
    await expect(user, "/audit_ekspor")


async def to_nip(user, name: str):  # type: ignore[no-untyped-def]
    """/start up to the NIP question, which comes right after the name with the list."""
    await begin(user)
    await user.send(name)
    return await expect(user, "Langkah 2 dari 2: NIP")


async def test_a_listed_employee_registers_without_a_unit_question(
    bot, sandbox, kediri: Database
) -> None:
    load_list(kediri)
    user = sandbox.user("Budi")
    await begin(user)
    await user.send("budi   SANTOSO")  # no titles, other case and spacing
    prompt = await expect(user, "Langkah 2 dari 2: NIP")
    assert "dicocokkan dengan daftar pegawai" in prompt.text
    assert "Lewati" not in str(prompt.message.get("reply_markup"))  # no skipping with the list
    await user.send("19860926 201505 1 001")
    summary = await expect(user, "Periksa data Anda")
    assert "Puskesmas Sukorame" in summary.text and "persetujuan" not in summary.text
    await user.press(summary, "✅ Simpan")
    await expect(user, "Selamat bergabung")
    assert not any("Unit kerja" in (m.get("text") or "")[:40] for m in user.transcript[1:])
    [member] = members(kediri)
    assert member.nip == BUDI_NIP and member.unit_id == unit_id(kediri, "PKM-SUKORAME")
    assert member.full_name == "budi SANTOSO"
    # Their copy of their data shows what HR's list says about them.
    await user.send("/data_saya")
    doc = await expect(user, "Data Anda")
    data = json.loads(sandbox.world.files[doc.document["file_id"]].data)
    assert data["daftar_pegawai"] == {
        "nip": BUDI_NIP,
        "nama": "Dr. Budi Santoso, S.Kom.",
        "kode_unit": "PKM-SUKORAME",
    }


async def test_an_unknown_nip_is_refused_then_approved_by_hr(
    bot, sandbox, kediri: Database
) -> None:
    load_list(kediri)
    hr = sandbox.user("Admin BKPSDM")
    await make_admin(kediri, hr)
    user = sandbox.user("Rina")
    await to_nip(user, "Rina Kartika")
    await user.send("19950505 202001 2 003")
    refused = await expect(user, "tidak ada di daftar pegawai")
    assert "Minta persetujuan HR" in refused.text
    assert [m for m in members(kediri) if m.telegram_user_id == user.id] == []
    assert "identity_refused" in audit_actions(kediri)
    # A typo can be fixed by typing again; here the NIP is right, so HR decides.
    await user.press(refused, "🙋 Minta persetujuan HR")
    await user.send("sukorame")
    results = await expect(user, "Hasil pencarian")
    await user.press(results, "Puskesmas Sukorame")
    summary = await expect(user, "Periksa data Anda")
    assert "dikirim ke admin kepegawaian" in summary.text
    await user.press(summary, "📨 Kirim ke HR")
    await expect(user, "sudah dikirim ke admin kepegawaian")
    pending = draft(kediri, user.id)
    assert pending is not None and pending.step == "pending" and pending.verify == "unknown"
    await user.send("halo?")
    await expect(user, "masih menunggu persetujuan")
    request = await expect(hr, "Permintaan persetujuan HR")
    assert "Rina Kartika" in request.text and "tidak ada di daftar pegawai" in request.text
    assert "199505052020012003" not in request.text  # masked
    # A member pressing the admin's button (forged) is refused and changes nothing.
    stranger = sandbox.user("Orang Lain")
    approve = request.message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    notice = await sandbox.wait_callback_answer(await stranger.press_forged(1, approve))
    assert "hanya untuk admin" in notice["text"]
    assert draft(kediri, user.id) is not None
    await hr.press(request, "✅ Setujui")
    await expect(hr, "Disetujui oleh Admin BKPSDM")
    await expect(user, "Selamat bergabung")
    [rina] = [m for m in members(kediri) if m.telegram_user_id == user.id]
    assert rina.nip == "199505052020012003" and rina.unit_id == unit_id(kediri, "PKM-SUKORAME")
    assert "registration_approved" in audit_actions(kediri)
    # The same button pressed again (a second admin's copy, say): already decided.
    again = await sandbox.wait_callback_answer(await hr.press_forged(request.message_id, approve))
    assert "sudah diputuskan" in again["text"]
    assert len([m for m in members(kediri) if m.telegram_user_id == user.id]) == 1


async def test_a_different_name_is_refused_and_can_be_fixed(bot, sandbox, kediri) -> None:
    load_list(kediri)
    user = sandbox.user("Sari")
    await to_nip(user, "Sari Wulan")
    await user.send(SARI_NIP)
    refused = await expect(user, "tidak sama dengan nama untuk NIP ini")
    assert draft(kediri, user.id).step == "nip"  # type: ignore[union-attr]
    assert members(kediri) == []
    await user.press(refused, "✏️ Perbaiki nama")
    await expect(user, "Nama lengkap")
    await user.send("Sari Wulandari, SE")
    await expect(user, "Langkah 2 dari 2: NIP")
    await user.send(SARI_NIP)
    summary = await expect(user, "Periksa data Anda")
    assert "Kelurahan Bandar Lor" in summary.text
    await user.press(summary, "✅ Simpan")
    await expect(user, "Selamat bergabung")
    [sari] = members(kediri)
    assert sari.unit_id == unit_id(kediri, "KEL-BANDAR-LOR")


async def test_a_taken_nip_is_refused_and_hr_may_decline(bot, sandbox, kediri) -> None:
    load_list(kediri)
    hr = sandbox.user("Admin BKPSDM")
    await make_admin(kediri, hr)
    first = sandbox.user("Budi")
    await to_nip(first, "Budi Santoso")
    await first.send(BUDI_NIP)
    await first.press(await expect(first, "Periksa data Anda"), "✅ Simpan")
    await expect(first, "Selamat bergabung")
    second = sandbox.user("Budi Kedua")
    await to_nip(second, "Budi Santoso")
    await second.send(BUDI_NIP)
    refused = await expect(second, "sudah terdaftar untuk akun Telegram lain")
    assert [m.telegram_user_id for m in members(kediri) if m.nip == BUDI_NIP] == [first.id]
    await second.press(refused, "🙋 Minta persetujuan HR")
    summary = await expect(second, "Periksa data Anda")  # the unit comes from the list
    assert "Puskesmas Sukorame" in summary.text
    await second.press(summary, "📨 Kirim ke HR")
    await expect(second, "sudah dikirim")
    request = await expect(hr, "Permintaan persetujuan HR")
    assert "sudah dipakai akun lain" in request.text and "Budi Santoso" in request.text
    await hr.press(request, "✖️ Tolak")
    await expect(hr, "Ditolak oleh Admin BKPSDM")
    await expect(second, "belum dapat menyetujui pendaftaran Anda")
    assert draft(kediri, second.id) is None
    assert [m.telegram_user_id for m in members(kediri) if m.nip == BUDI_NIP] == [first.id]
    assert "registration_declined" in audit_actions(kediri)


async def test_hr_approval_moves_a_taken_nip_to_the_new_account(bot, sandbox, kediri) -> None:
    load_list(kediri)
    hr = sandbox.user("Admin BKPSDM")
    await make_admin(kediri, hr)
    squatter = sandbox.user("Penyusup")
    await to_nip(squatter, "Budi Santoso")
    await squatter.send(BUDI_NIP)
    await squatter.press(await expect(squatter, "Periksa data Anda"), "✅ Simpan")
    await expect(squatter, "Selamat bergabung")
    real = sandbox.user("Budi Asli")
    await to_nip(real, "Dr. Budi Santoso")
    await real.send(BUDI_NIP)
    await real.press(await expect(real, "sudah terdaftar"), "🙋 Minta persetujuan HR")
    await real.press(await expect(real, "Periksa data Anda"), "📨 Kirim ke HR")
    await hr.press(await expect(hr, "Permintaan persetujuan HR"), "✅ Setujui")
    await expect(real, "Selamat bergabung")
    by_user = {m.telegram_user_id: m for m in members(kediri)}
    assert by_user[real.id].nip == BUDI_NIP and by_user[squatter.id].nip is None
    entry = kediri.run_sync(
        lambda session: session.exec(
            select(AuditLog).where(AuditLog.action == "registration_approved")
        ).one()
    )
    assert entry.detail["nip_from_member_id"] == by_user[squatter.id].id


async def test_no_nip_goes_to_hr_with_a_chosen_unit(bot, sandbox, kediri) -> None:
    load_list(kediri)
    hr = sandbox.user("Admin BKPSDM")
    await make_admin(kediri, hr)
    user = sandbox.user("Tenaga Honorer")
    prompt = await to_nip(user, "Dewi Lestari")
    await user.press(prompt, "🙋 Minta persetujuan HR")
    await user.send("bandar lor")
    results = await expect(user, "Hasil pencarian")
    await user.press(results, "Kelurahan Bandar Lor")
    summary = await expect(user, "Periksa data Anda")
    assert "tidak diisi" in summary.text
    await user.press(summary, "📨 Kirim ke HR")
    request = await expect(hr, "Permintaan persetujuan HR")
    assert "tidak punya NIP" in request.text
    await hr.press(request, "✅ Setujui")
    await expect(user, "Selamat bergabung")
    [dewi] = [m for m in members(kediri) if m.telegram_user_id == user.id]
    assert dewi.nip is None and dewi.unit_id == unit_id(kediri, "KEL-BANDAR-LOR")


async def test_moving_away_from_the_listed_unit_needs_hr(bot, sandbox, kediri) -> None:
    load_list(kediri)
    hr = sandbox.user("Admin BKPSDM")
    await make_admin(kediri, hr)
    user = sandbox.user("Budi")
    await to_nip(user, "Budi Santoso")
    await user.send(BUDI_NIP)
    await user.press(await expect(user, "Periksa data Anda"), "✅ Simpan")
    await expect(user, "Selamat bergabung")
    await user.send("/ubah_unit")
    await expect(user, "Unit Anda sekarang")
    await user.send("bandar lor")
    await user.press(await expect(user, "Hasil pencarian"), "Kelurahan Bandar Lor")
    refused = await expect(user, "perlu persetujuan admin kepegawaian")
    assert "Puskesmas Sukorame" in refused.text
    [budi] = [m for m in members(kediri) if m.telegram_user_id == user.id]
    assert budi.unit_id == unit_id(kediri, "PKM-SUKORAME")
    assert "unit_change_refused" in audit_actions(kediri)
    await user.press(refused, "🙋 Minta persetujuan HR")
    await expect(user, "sudah dikirim")
    # While HR decides, the member's messages are still reflections, not registration text.
    assert draft(kediri, user.id).step == "pending"  # type: ignore[union-attr]
    await user.send("Hari ini saya melayani warga dengan sabar dan ramah.")
    reply = await expect(user, "refleksi")
    assert "menunggu persetujuan" not in reply.text
    request = await expect(hr, "ingin pindah ke unit kerja")
    assert "Kelurahan Bandar Lor" in request.text and "Puskesmas Sukorame" in request.text
    await hr.press(request, "✅ Setujui")
    await expect(user, "Unit kerja Anda sekarang")
    [budi] = [m for m in members(kediri) if m.telegram_user_id == user.id]
    assert budi.unit_id == unit_id(kediri, "KEL-BANDAR-LOR")
    assert "unit_change_approved" in audit_actions(kediri)
    # Back to the listed unit needs nobody.
    await user.send("/ubah_unit")
    await expect(user, "Unit Anda sekarang")
    await user.send("sukorame")
    await user.press(await expect(user, "Hasil pencarian"), "Puskesmas Sukorame")
    await expect(user, "Unit kerja Anda sekarang")
    # Asked again, and declined this time: the member stays where the list has them.
    await user.send("/ubah_unit")
    await expect(user, "Unit Anda sekarang")
    await user.send("bandar lor")
    await user.press(await expect(user, "Hasil pencarian"), "Kelurahan Bandar Lor")
    await user.press(await expect(user, "perlu persetujuan"), "🙋 Minta persetujuan HR")
    await hr.press(await expect(hr, "ingin pindah ke unit kerja"), "✖️ Tolak")
    decided = await expect(hr, "Ditolak oleh Admin BKPSDM")
    assert "Budi Santoso" in decided.text
    await expect(user, "belum dapat menyetujui perpindahan unit kerja Anda")
    [budi] = [m for m in members(kediri) if m.telegram_user_id == user.id]
    assert budi.unit_id == unit_id(kediri, "PKM-SUKORAME") and draft(kediri, user.id) is None
    assert "unit_change_declined" in audit_actions(kediri)


async def test_without_the_list_registration_is_as_before(bot, sandbox, kediri) -> None:
    user = sandbox.user("Budi")
    await begin(user)
    await user.send("Budi Santoso")
    await expect(user, "Unit kerja")  # the unit is asked: no list to take it from
    await user.send("sukorame")
    await user.press(await expect(user, "Hasil pencarian"), "Puskesmas Sukorame")
    prompt = await expect(user, "NIP (boleh dilewati)")
    # The HR button exists only with the list: forged on the live question, it is stale.
    notice = await sandbox.wait_callback_answer(
        await user.press_forged(prompt.message_id, "reg:hr")
    )
    assert "tidak berlaku" in notice["text"]
    assert draft(kediri, user.id).step == "nip"  # type: ignore[union-attr]
    await user.send(BUDI_NIP)  # not in any list: none is loaded
    await user.press(await expect(user, "Periksa data Anda"), "✅ Simpan")
    await expect(user, "Selamat bergabung")
    assert [m.nip for m in members(kediri)] == [BUDI_NIP]


async def test_an_admin_cannot_approve_their_own_move(bot, sandbox, kediri) -> None:  # type: ignore[no-untyped-def]
    load_list(kediri)
    hr = sandbox.user("Admin BKPSDM")
    await make_admin(kediri, hr)
    user = sandbox.user("Budi")
    await to_nip(user, "Budi Santoso")
    await user.send(BUDI_NIP)
    await user.press(await expect(user, "Periksa data Anda"), "✅ Simpan")
    await expect(user, "Selamat bergabung")

    def promote(*, session) -> None:  # type: ignore[no-untyped-def]
        budi = session.exec(select(Member).where(Member.telegram_user_id == user.id)).one()
        budi.role = Role.ADMIN
        session.add(budi)

    kediri.run_sync(promote)
    await user.send("/ubah_unit")
    await expect(user, "Unit Anda sekarang")
    await user.send("bandar lor")
    await user.press(await expect(user, "Hasil pencarian"), "Kelurahan Bandar Lor")
    await user.press(await expect(user, "perlu persetujuan"), "🙋 Minta persetujuan HR")
    own = await expect(user, "ingin pindah ke unit kerja")  # Budi is an admin: he is told too
    notice = await sandbox.wait_callback_answer(await user.press(own, "✅ Setujui"))
    assert "Permintaan Anda sendiri" in notice["text"]
    [budi] = [m for m in members(kediri) if m.telegram_user_id == user.id]
    assert budi.unit_id == unit_id(kediri, "PKM-SUKORAME")
    assert draft(kediri, user.id).step == "pending"  # type: ignore[union-attr]
    await hr.press(await expect(hr, "ingin pindah ke unit kerja"), "✅ Setujui")
    await expect(user, "Unit kerja Anda sekarang")
    [budi] = [m for m in members(kediri) if m.telegram_user_id == user.id]
    assert budi.unit_id == unit_id(kediri, "KEL-BANDAR-LOR")
