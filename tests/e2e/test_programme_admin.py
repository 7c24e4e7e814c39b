"""The programme for admins end to end: /jadwal and its editor, sending now, pause and resume,
and the refusals (non-admins, forged buttons, a confirmation pressed twice)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from db.engine import Database
from db.models import AuditLog, Broadcast, Delivery, ProgrammeSlot, Role, Setting
from db.queries.content import sync_bank
from db.queries.members import create_member
from db.queries.units import RosterRow, import_roster, list_children, list_opd
from sandbox.simulation import expect
from sandbox.users import SimUser
from tests.utils import eventually

STALE = "Tombol ini sudah tidak berlaku"
UNKNOWN = "Tombol tidak dikenal."


async def enrol(sandbox, db: Database, name: str, unit_id: int, role: str = Role.MEMBER) -> SimUser:  # type: ignore[no-untyped-def]
    """A member who has started the bot (Telegram only delivers to those)."""
    user = sandbox.user(name)
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


def audit_rows(db: Database, action: str | None = None) -> list[AuditLog]:
    rows = db.run_sync(lambda session: list(session.exec(select(AuditLog)).all()))
    return [r for r in rows if action is None or r.action == action]


def slot_row(db: Database, key: str) -> dict[str, Any]:
    def read(session):  # type: ignore[no-untyped-def]
        row = session.get(ProgrammeSlot, key)
        return {
            "time": row.time,
            "days": sorted(row.days),
            "enabled": row.enabled,
            "questions": row.questions,
            "window_minutes": row.window_minutes,
        }

    return db.run_sync(read)


def broadcasts_by(db: Database, user: SimUser) -> list[Broadcast]:
    return db.run_sync(
        lambda session: list(
            session.exec(select(Broadcast).where(Broadcast.created_by == user.id)).all()
        )
    )


def texts(user: SimUser) -> list[str]:
    return [m.get("text") or "" for m in user.transcript if m["from"]["is_bot"]]


def polls(user: SimUser) -> list[dict[str, Any]]:
    return [m["poll"] for m in user.transcript if m["from"]["is_bot"] and "poll" in m]


@pytest.fixture
def units(kediri: Database) -> tuple[int, int]:
    """Badan Uji with one unit kerja (HTML-looking name), and a unit kerja of Dinkes."""
    kediri.run_sync(
        import_roster,
        rows=[
            RosterRow("UJI", "Badan Uji", None, "Asia/Jakarta"),
            RosterRow("UJI-AB", "Bidang A & B <Uji>", "UJI", "Asia/Jakarta"),
        ],
    )
    opd = {u.code: u for u in kediri.run_sync(list_opd)}
    uji = kediri.run_sync(list_children, opd_id=opd["UJI"].id)[0].id
    dinkes = kediri.run_sync(list_children, opd_id=opd["DINKES"].id)[0].id
    return uji, dinkes


@pytest.fixture
async def admin(bot, sandbox, kediri: Database, units: tuple[int, int]) -> SimUser:  # type: ignore[no-untyped-def]
    return await enrol(sandbox, kediri, "Admin Jadwal", units[1], Role.ADMIN)


async def test_jadwal_shows_the_default_programme(admin: SimUser) -> None:
    await admin.send("/jadwal")
    view = await expect(admin, "Jadwal program BerAKHLAK")
    assert view.text is not None
    assert "waktu setempat tiap unit" in view.text
    assert "Nilai harian · ✅ aktif\n🕒 07.30 · Sen Sel Rab Kam Jum" in view.text
    assert "Kuis · ✅ aktif\n🕒 10.00 · Sel Kam\n🧩 3 soal" in view.text
    assert "Papan peringkat · ✅ aktif\n🕒 15.00 · Jum" in view.text
    # The admins' own slots: the monthly report and the Monday silent-units alert.
    assert "Laporan bulanan (admin) · ✅ aktif\n🕒 08.00 · Sen Sel Rab Kam Jum" in view.text
    assert "Peringatan unit sepi (admin) · ✅ aktif\n🕒 08.00 · Sen" in view.text
    # The report's next run: the first working day of January 2027 (the 1st is a holiday).
    assert "Berikutnya: Sen 04-01-2027 08.00 WIB" in view.text
    # Each slot's next run, in the instansi's own zone (DEFAULT_TIMEZONE, WIB here).
    for time in ("07.30", "10.00", "15.00"):
        assert re.search(rf"Berikutnya: \w{{3}} \d\d-\d\d-\d{{4}} {time} WIB\n", view.text)
    assert "dijeda" not in view.text
    assert view.buttons == [
        ["🌅 Nilai harian"],
        ["🧩 Kuis"],
        ["🏆 Papan peringkat"],
        ["📊 Laporan bulanan (admin)"],
        ["🔕 Peringatan unit sepi (admin)"],
    ]


async def test_editing_the_quiz_slot_is_stored_audited_and_replanned(
    bot, sandbox, admin: SimUser, kediri: Database
) -> None:
    programme = bot.bot_data["deps"].programme
    assert programme.next_runs()["kuis"].strftime("%H:%M") == "10:00"
    await admin.send("/jadwal")
    view = await expect(admin, "Jadwal program")
    await admin.press(view, "🧩 Kuis")
    editor = await expect(admin, "Jam 10.00 waktu setempat tiap unit")
    assert editor.message_id == view.message_id  # edited in place
    await admin.press(editor, "🕒 Ubah jam (10.00)")
    hours = await expect(admin, "Pilih jamnya")
    assert hours.buttons[0] == ["05", "06", "07", "08"] and hours.buttons[3][-1] == "20"
    await admin.press(hours, "14")
    minutes = await expect(admin, "Jam 14, pilih menitnya")
    assert minutes.buttons[0] == ["14.00", "14.15", "14.30", "14.45"]
    query_id = await admin.press(minutes, "14.45")
    assert "Tersimpan" in (await sandbox.wait_callback_answer(query_id))["text"]
    editor = await expect(admin, "Jam 14.45 waktu setempat tiap unit")
    assert slot_row(kediri, "kuis")["time"] == "14:45"
    [change] = audit_rows(kediri, "programme_change")
    assert change.actor_user_id == admin.id and change.allowed
    assert change.detail == {"slot": "kuis", "field": "time", "old": "10:00", "new": "14:45"}
    due = programme.next_runs()["kuis"]
    assert due.strftime("%H:%M") == "14:45" and due.isoweekday() in (2, 4)
    assert re.search(r"Berikutnya: (Sel|Kam) \S+ 14\.45 WI", editor.text or "")

    # A day on, the question count, the answer window: each stored and audited.
    await admin.press(editor, "Sen")
    editor = await expect(admin, "Sen Sel Kam, kecuali hari libur")
    assert editor.buttons[2][0] == "✓ Sen"
    await admin.press(editor, "5 soal")
    editor = await expect(admin, "5 soal · waktu menjawab: sampai kuis berikutnya")
    await admin.press(editor, "1 jam")
    editor = await expect(admin, "waktu menjawab: 1 jam")
    assert slot_row(kediri, "kuis") == {
        "time": "14:45",
        "days": [1, 2, 4],
        "enabled": True,
        "questions": 5,
        "window_minutes": 60,
    }
    fields = [(a.detail["field"], a.detail["old"], a.detail["new"]) for a in audit_rows(kediri)]
    assert fields[-3:] == [
        ("days", [2, 4], [1, 2, 4]),
        ("questions", 3, 5),
        ("window_minutes", None, 60),
    ]
    assert programme.next_runs()["kuis"].isoweekday() in (1, 2, 4)

    # Back to the overview, in place.
    await admin.press(editor, "⬅️ Kembali")
    view = await expect(admin, "Jadwal program")
    assert "🕒 14.45 · Sen Sel Kam" in (view.text or "")


async def test_switching_off_and_the_last_day_is_kept(
    bot, sandbox, admin: SimUser, kediri: Database
) -> None:
    programme = bot.bot_data["deps"].programme
    await admin.send("/jadwal")
    view = await expect(admin, "Jadwal program")
    await admin.press(view, "🏆 Papan peringkat")
    editor = await expect(admin, "Jam 15.00")
    query_id = await admin.press(editor, "✓ Jum")
    answer = await sandbox.wait_callback_answer(query_id)
    assert "Minimal satu hari" in answer["text"]
    assert slot_row(kediri, "peringkat")["days"] == [5]
    await admin.press(editor, "⛔ Matikan")
    editor = await expect(admin, "⛔ nonaktif")
    assert "Berikutnya: —" in (editor.text or "")
    assert slot_row(kediri, "peringkat")["enabled"] is False
    assert "peringkat" not in programme.next_runs()
    await admin.press(editor, "✅ Nyalakan")
    await expect(admin, "✅ aktif")
    assert "peringkat" in programme.next_runs()
    changes = [a.detail for a in audit_rows(kediri, "programme_change")]
    assert [(c["field"], c["old"], c["new"]) for c in changes] == [
        ("enabled", True, False),
        ("enabled", False, True),
    ]


async def test_non_admins_are_refused_and_audited(
    bot, sandbox, kediri: Database, units: tuple[int, int]
) -> None:
    member = await enrol(sandbox, kediri, "Bukan Admin", units[0])
    for command in (
        "/jadwal",
        "/jeda",
        "/lanjut",
        "/kirim_nilai_sekarang",
        "/kirim_kuis_sekarang badan uji",
    ):
        await member.send(command)
        await expect(member, "hanya untuk admin")
    for data in ("prg:s:kuis", "prg:t:kuis:1445", "prg:go:0123abcd"):
        query_id = await member.press_forged(1, data)
        answer = await sandbox.wait_callback_answer(query_id)
        assert "hanya untuk admin" in answer["text"]
    # Refusals by one person within a minute share a line with a count and their actions.
    refused = [a for a in audit_rows(kediri) if not a.allowed]
    assert sum(a.detail.get("count", 1) for a in refused) == 8
    assert all(a.actor_user_id == member.id for a in refused)
    assert {x for a in refused for x in a.detail.get("actions", [a.action])} == {
        "programme_view",
        "programme_pause",
        "programme_resume",
        "send_value_now",
        "send_quiz_now",
        "programme_button",
    }
    assert slot_row(kediri, "kuis")["time"] == "10:00"
    assert kediri.run_sync(lambda session: session.get(Setting, "paused")) is None
    assert broadcasts_by(kediri, member) == []


async def test_forged_buttons_change_nothing(sandbox, admin: SimUser, kediri: Database) -> None:
    await admin.send("/jadwal")
    view = await expect(admin, "Jadwal program")
    before = {k: slot_row(kediri, k) for k in ("nilai", "kuis", "peringkat")}
    for data in (
        "prg:t:kuis:2359",
        "prg:t:kuis:1050",
        "prg:hh:kuis:04",
        "prg:d:kuis:8",
        "prg:d:kuis:0",
        "prg:q:kuis:9",
        "prg:q:nilai:2",
        "prg:w:kuis:45",
        "prg:w:peringkat:60",
        "prg:on:lainnya",
        "prg:on:kuis:x",
        "prg:u:n:1234567890",
        "prg:go:XYZ",
        "prg:s:kuis\n",
        "prg:" + "x" * 60,
    ):
        query_id = await admin.press_forged(view.message_id, data)
        answer = await sandbox.wait_callback_answer(query_id)
        assert answer.get("text") == UNKNOWN, data
    # Well-formed but never issued (or already used): stale, and still nothing happens.
    for data in ("prg:go:0123abcd", "prg:no:0123abcd", "prg:u:n:999999"):
        query_id = await admin.press_forged(view.message_id, data)
        answer = await sandbox.wait_callback_answer(query_id)
        assert STALE in answer.get("text", ""), data
    assert {k: slot_row(kediri, k) for k in before} == before
    assert audit_rows(kediri, "programme_change") == []
    assert broadcasts_by(kediri, admin) == []
    await admin.expect_silence(0.3)


async def test_pause_and_resume_are_idempotent_and_audited(
    admin: SimUser, kediri: Database
) -> None:
    def paused() -> bool:
        row = kediri.run_sync(lambda session: session.get(Setting, "paused"))
        return bool(row and row.value.get("on"))

    await admin.send("/jeda")
    reply = await expect(admin, "Program dijeda.")
    assert "tidak dikirim susulan" in (reply.text or "") and paused()
    await admin.send("/jeda")
    await expect(admin, "sudah dalam keadaan dijeda")
    await admin.send("/jadwal")
    view = await expect(admin, "Jadwal program")
    assert "Program sedang dijeda" in (view.text or "")
    await admin.send("/lanjut")
    reply = await expect(admin, "Program dilanjutkan.")
    assert "jadwal berikutnya" in (reply.text or "") and not paused()
    await admin.send("/lanjut")
    await expect(admin, "sudah berjalan")
    rows = [
        (a.action, a.detail["changed"], a.actor_user_id)
        for a in audit_rows(kediri)
        if a.action.startswith("programme_")
    ]
    assert rows == [
        ("programme_pause", True, admin.id),
        ("programme_pause", False, admin.id),
        ("programme_resume", True, admin.id),
        ("programme_resume", False, admin.id),
    ]


async def test_send_value_now_to_everyone_exactly_once(
    bot, sandbox, admin: SimUser, kediri: Database, units: tuple[int, int]
) -> None:
    uji, dinkes = units
    rina = await enrol(sandbox, kediri, "Rina Marlina", uji)
    budi = await enrol(sandbox, kediri, "Budi Santoso", dinkes)
    await admin.send("/kirim_nilai_sekarang")
    confirm = await expect(admin, "Kirim nilai hari ini sekarang?")
    assert "semua anggota · 3 orang" in (confirm.text or "")
    assert confirm.buttons == [["✅ Kirim ke 3 orang"], ["Batal"]]
    # A double tap: both presses reach the bot before it has answered the first.
    first = await admin.press(confirm, "✅ Kirim ke 3 orang")
    second = await admin.press(confirm, "✅ Kirim ke 3 orang")
    await expect(admin, "masuk antrean kirim untuk 3 orang")
    await sandbox.wait_callback_answer(first)
    assert STALE in (await sandbox.wait_callback_answer(second))["text"]
    await bot.bot_data["deps"].sender.drain(within=30)
    # The admin's own copy may arrive before the confirmation above (the outbox can be
    # quicker than the reply); then it was read past already.
    await eventually(lambda: any(t.startswith("🌅 Nilai") for t in texts(admin)))
    order = [
        t.startswith("🌅 Nilai")
        for t in texts(admin)
        if "antrean" in t or t.startswith("🌅 Nilai hari ini:")
    ]
    waiting = (rina, budi, admin) if order[0] is False else (rina, budi)
    for user in waiting:
        await expect(user, "🌅 Nilai hari ini:")
    for user in (rina, budi, admin):
        assert len([t for t in texts(user) if t.startswith("🌅 Nilai hari ini:")]) == 1
    [sent] = broadcasts_by(kediri, admin)
    assert sent.kind == "nilai" and sent.audience == {"type": "all"}
    deliveries = kediri.run_sync(
        lambda session: list(
            session.exec(select(Delivery).where(Delivery.broadcast_id == sent.id)).all()
        )
    )
    assert len(deliveries) == 3 and {d.state for d in deliveries} == {"sent"}
    [row] = audit_rows(kediri, "send_value_now")
    assert row.allowed and row.actor_user_id == admin.id and row.audience_size == 3
    assert row.detail["broadcast_id"] == sent.id
    # The buttons are gone; the second tap of an old confirmation sends nothing either.
    await admin.expect_silence(0.3)
    assert len(broadcasts_by(kediri, admin)) == 1


async def test_send_now_finds_units_or_explains_and_can_be_cancelled(
    admin: SimUser, kediri: Database
) -> None:
    await admin.send("/kirim_nilai_sekarang zzzz tidak ada")
    reply = await expect(admin, "Tidak ada OPD atau unit kerja yang cocok")
    assert "/kirim_nilai_sekarang dinas kesehatan" in (reply.text or "")
    await admin.send("/kirim_nilai_sekarang badan uji")
    confirm = await expect(admin, "Kirim nilai hari ini sekarang?")
    assert "Penerima: Badan Uji · 0 orang" in (confirm.text or "")
    assert "tidak ada yang dikirim" in (confirm.text or "") and confirm.buttons == []
    await admin.send("/kirim_nilai_sekarang kesehatan masyarakat")
    confirm = await expect(admin, "Kirim nilai hari ini sekarang?")
    assert "Penerima: Bidang Kesehatan Masyarakat (Dinas Kesehatan) · 1 orang" in (
        confirm.text or ""
    )
    await admin.press(confirm, "Batal")
    await expect(admin, "Dibatalkan. Nilai hari ini tidak dikirim.")
    assert broadcasts_by(kediri, admin) == []
    assert audit_rows(kediri, "send_value_now") == []


async def test_send_quiz_now_to_one_unit_only(
    bot, sandbox, admin: SimUser, kediri: Database, units: tuple[int, int]
) -> None:
    content = bot.bot_data["deps"].content
    kediri.run_sync(sync_bank, questions=content.questions, prompts=content.prompts)
    uji, dinkes = units
    inside = await enrol(sandbox, kediri, "Orang Uji", uji)
    outside = await enrol(sandbox, kediri, "Orang Dinkes", dinkes)
    await admin.send("/kirim_kuis_sekarang uji")
    choices = await expect(admin, "Ada beberapa unit yang cocok dengan")
    # Unit kerja first, then OPD; "uji" also finds e.g. "UPTD Pengujian Kendaraan Bermotor".
    assert choices.buttons[0] == ["Bidang A & B <Uji> · Badan Uji"]
    assert choices.buttons[-1] == ["Badan Uji"] and len(choices.buttons) <= 8
    await admin.press(choices, "Badan Uji")
    confirm = await expect(admin, "Kirim satu ronde kuis sekarang?")
    assert confirm.message_id == choices.message_id
    assert "Penerima: Badan Uji · 1 orang" in (confirm.text or "")
    assert "Setiap orang mendapat 3 soal" in (confirm.text or "")
    await admin.press(confirm, "✅ Kirim ke 1 orang")
    await expect(admin, "Kuis masuk antrean kirim untuk 1 orang di Badan Uji")
    await bot.bot_data["deps"].sender.drain(within=30)
    await expect(inside, "Kuis BerAKHLAK")
    assert len(polls(inside)) == 3 and all(p["type"] == "quiz" for p in polls(inside))
    assert polls(outside) == [] and polls(admin) == []
    [sent] = broadcasts_by(kediri, admin)
    assert sent.kind == "kuis"
    opd = {u.code: u.id for u in kediri.run_sync(list_opd)}
    assert sent.audience == {"type": "units", "unit_ids": [opd["UJI"]]}
    [row] = audit_rows(kediri, "send_quiz_now")
    assert row.audience_size == 1 and row.actor_user_id == admin.id
