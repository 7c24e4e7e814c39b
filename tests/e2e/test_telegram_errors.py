"""Telegram's answers, by kind, in each flow: a 400, a 403, a 429 that outlasts the retries,
a time-out, a dropped connection and a 500, injected through the sandbox (Sandbox.inject).

Each test asserts what the person sees (a short notice in Indonesian, or nothing after a
403), what is stored (the flow's state is consistent: nothing half done, nothing waiting
for a button that never came), and that the flow carries on afterwards."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import Workbook
from sqlmodel import select

from content.xlsx import COLUMNS
from db.engine import Database
from db.models import AuditLog, Broadcast, Member, ProgrammeSlot, QuestionRow, Registration, Role
from db.queries.content import sync_bank
from db.queries.members import create_member
from db.queries.units import list_children, list_opd
from sandbox import Sandbox
from sandbox.simulation import begin, expect
from sandbox.users import SimUser
from tests.utils import eventually

HANG = 5.5  # PTB gives up after its 5 s read timeout; the call takes effect after that
KINDS = ["bad_request", "forbidden", "retry_after", "timed_out", "dropped", "server_error"]
# What the generic notice says for each kind (telegram_failed.html); a 403 gets nothing.
SAYS = {
    "bad_request": "Telegram menolak balasan kami",
    "retry_after": "membatasi pesan dari bot ini",
    "timed_out": "Telegram terlambat menjawab",
    "dropped": "koneksi ke Telegram sedang terganggu",
    "server_error": "koneksi ke Telegram sedang terganggu",
}
DESCRIPTION = 'can\'t parse entities: Unsupported start tag "x" at byte offset 0'


def arm(
    sandbox: Sandbox, bot: Any, kind: str, method: str, chat_id: int, *, after: int = 0
) -> None:
    """The next `method` call to `chat_id` (after `after` of them) fails as `kind`."""
    faults: dict[str, dict[str, Any]] = {
        "bad_request": {"error_code": 400, "description": DESCRIPTION},
        "forbidden": {"error_code": 403},
        # Every attempt of the rate limiter's, so the 429 comes through to the handler.
        "retry_after": {"error_code": 429, "retry_after": 1, "times": retries(bot) + 1},
        "timed_out": {"hang": HANG},
        "dropped": {"drop": True},
        "server_error": {"error_code": 500},
    }
    sandbox.inject(method, chat_id=chat_id, after=after, **faults[kind])


def retries(bot: Any) -> int:
    return int(getattr(bot.bot.rate_limiter, "max_retries", 3))


async def enrol(sandbox: Sandbox, db: Database, name: str, role: str = Role.MEMBER) -> SimUser:
    """A member of a Dinas Kesehatan unit who has started the bot."""
    opd = {u.code: u for u in db.run_sync(list_opd)}
    unit = db.run_sync(list_children, opd_id=opd["DINKES"].id)[0]
    user = sandbox.user(name)
    db.run_sync(
        create_member,
        telegram_user_id=user.id,
        chat_id=user.chat_id,
        full_name=name,
        unit_id=unit.id,
        nip=None,
        language="id",
        consent_at=datetime(2026, 12, 1, tzinfo=UTC),
        role=role,
    )
    await user.send("/profil")
    await expect(user, "Profil Anda")
    return user


def member_row(db: Database, user: SimUser) -> Member:
    return db.run_sync(
        lambda session: session.exec(select(Member).where(Member.telegram_user_id == user.id)).one()
    )


def bot_texts(user: SimUser) -> list[str]:
    return [
        m.get("text") or m.get("caption") or ""
        for m in user.transcript
        if m["from"]["is_bot"] and ("text" in m or "caption" in m)
    ]


async def outcome(sandbox: Sandbox, user: SimUser, kind: str, says: str | None = None) -> None:
    """The person is told; after a 403 nothing is tried: no notice follows what got through."""
    if kind == "forbidden":
        await eventually(lambda: not sandbox.faults.pending, within=10)  # the 403 was given
        await sandbox.wait_idle()
        await asyncio.sleep(0.3)  # a notice would have come by now
        late = [m.text or m.caption or "" for m in user.pending()]
        assert not any("Maaf" in t or "tidak terkirim" in t for t in late), late
        while user.pending():
            await user.next_message()
        return
    await expect(user, says or SAYS[kind])


async def late_delivery(sandbox: Sandbox, kind: str) -> None:
    """A timed-out call still takes effect a moment later, as it may at Telegram."""
    if kind == "timed_out":
        await sandbox.wait_idle(quiet=1.0, timeout=HANG + 5)


# --- a plain command's reply --------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_command_reply(bot, sandbox, kediri: Database, caplog, kind: str) -> None:  # type: ignore[no-untyped-def]
    user = await enrol(sandbox, kediri, "Rina Marlina")
    caplog.set_level(logging.INFO, logger="handlers")
    arm(sandbox, bot, kind, "sendMessage", user.chat_id)
    await user.send("/profil")
    await outcome(sandbox, user, kind)
    await late_delivery(sandbox, kind)
    await eventually(lambda: member_row(kediri, user).reachable is (kind != "forbidden"))
    profiles = [t for t in bot_texts(user) if "Profil Anda" in t]
    # One from enrolling; a timed-out one arrived late and was not sent again.
    assert len(profiles) == (2 if kind == "timed_out" else 1)
    if kind == "bad_request":
        [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert "sendMessage" in record.getMessage()
        assert "unsupported start tag" in record.getMessage().lower()
    assert "Rina" not in caplog.text  # no personal data in any log line
    if kind != "forbidden":
        await user.send("/profil")  # and the next try works
        await expect(user, "Profil Anda")


async def test_a_single_429_is_waited_out_and_sent_once(bot, sandbox, kediri: Database) -> None:  # type: ignore[no-untyped-def]
    user = await enrol(sandbox, kediri, "Sri Wahyuni")
    sandbox.inject("sendMessage", chat_id=user.chat_id, error_code=429, retry_after=1)
    await user.send("/profil")
    await expect(user, "Profil Anda")
    await user.expect_silence(0.3)
    assert [c.status for c in sandbox.calls_to("sendMessage")][-2:] == [429, 200]


# --- the broadcast preview --------------------------------------------------------------------

PREVIEW_SAYS = {
    "bad_request": "Telegram menolak pesan ini: Can't parse entities",
    "retry_after": "Telegram meminta bot menunggu 1 detik",
    "timed_out": "Telegram terlambat menjawab",
    "dropped": "Koneksi ke Telegram sedang terganggu",
    "server_error": "Koneksi ke Telegram sedang terganggu",
}


def broadcasts(db: Database) -> list[Broadcast]:
    return db.run_sync(lambda session: list(session.exec(select(Broadcast)).all()))


@pytest.mark.parametrize("kind", KINDS)
async def test_the_broadcast_preview(bot, sandbox, kediri: Database, kind: str) -> None:  # type: ignore[no-untyped-def]
    admin = await enrol(sandbox, kediri, "Admin Siaran", Role.ADMIN)
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, "🛡 Admin (1)")
    await expect(admin, "Penerima: 1 orang")
    # The intro goes through; the preview itself (the second message) fails.
    arm(sandbox, bot, kind, "sendMessage", admin.chat_id, after=1)
    await admin.send("Apel pagi <b>{{ nama }}</b>")
    await expect(admin, "Pratinjau: begini")
    await outcome(sandbox, admin, kind, PREVIEW_SAYS.get(kind))
    await late_delivery(sandbox, kind)
    assert not any("Kirim ke 1 penerima?" in t for t in bot_texts(admin))
    assert broadcasts(kediri) == []
    if kind == "forbidden":
        # The admin blocked the bot: the draft is dropped, the admin marked unreachable.
        await eventually(lambda: "broadcast" not in bot.user_data[admin.id])
        await eventually(lambda: member_row(kediri, admin).reachable is False)
        return
    state = bot.user_data[admin.id].get("broadcast")
    # Not left waiting for a confirm button: the next message is the broadcast again.
    assert state["step"] == "message" and "draft" not in state
    await admin.send("Apel pagi diundur")
    await expect(admin, "Pratinjau: begini")
    confirm = await expect(admin, "Kirim ke 1 penerima?")
    await admin.press(confirm, "✅ Kirim sekarang ke 1")
    await expect(admin, "Apel pagi diundur")  # the admin is its only recipient
    [row] = broadcasts(kediri)
    assert row.content["html"] == "Apel pagi diundur"


async def test_a_failed_preview_can_be_cancelled(bot, sandbox, kediri: Database) -> None:  # type: ignore[no-untyped-def]
    admin = await enrol(sandbox, kediri, "Admin Batal", Role.ADMIN)
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, "🛡 Admin (1)")
    await expect(admin, "Penerima: 1 orang")
    arm(sandbox, bot, "bad_request", "sendMessage", admin.chat_id, after=1)
    await admin.send("Pesan uji")
    failed = await expect(admin, "Pratinjau tidak terkirim")
    assert "unsupported start tag" in (failed.text or "")
    await admin.press(failed, "Batal")
    await expect(admin, "Siaran dibatalkan")
    assert "broadcast" not in bot.user_data[admin.id]
    assert broadcasts(kediri) == []


# --- a registration step ----------------------------------------------------------------------


def draft(db: Database, user: SimUser) -> Registration | None:
    return db.run_sync(lambda session: session.get(Registration, user.id))


@pytest.mark.parametrize("kind", KINDS)
async def test_a_registration_step(bot, sandbox, kediri: Database, kind: str) -> None:  # type: ignore[no-untyped-def]
    user = sandbox.user("Dewi Lestari")
    await begin(user)
    # The name is taken; the next question (the OPD list) is what fails.
    arm(sandbox, bot, kind, "sendMessage", user.chat_id)
    await user.send("Dewi Lestari")
    expected = None if kind == "forbidden" else SAYS[kind]
    await outcome(sandbox, user, kind, expected)
    if kind != "forbidden":
        notice = bot_texts(user)[-1]
        assert "Ketik /start untuk melanjutkan" in notice or kind == "timed_out"
    await late_delivery(sandbox, kind)
    row = draft(kediri, user)
    assert row is not None and row.step == "unit" and row.full_name == "Dewi Lestari"
    assert row.consent_at is not None
    # /start resumes at the unit step with the name kept, and the step works.
    await user.send("/start")
    await expect(user, "belum selesai")
    await expect(user, "Unit kerja")
    await user.send("sukorame")
    results = await expect(user, "Hasil pencarian")
    await user.press(results, "Puskesmas Sukorame")
    await expect(user, "NIP")
    assert draft(kediri, user).step == "nip"  # type: ignore[union-attr]


async def test_a_registration_button_whose_answer_is_lost(bot, sandbox, kediri: Database) -> None:  # type: ignore[no-untyped-def]
    user = sandbox.user("Joko Santoso")
    await begin(user)
    await user.send("Joko Santoso")
    await expect(user, "Unit kerja")
    await user.send("sukorame")
    results = await expect(user, "Hasil pencarian")
    # The button's answer is lost on the wire: nothing is chosen, the press is answered
    # once more, and the same button still works.
    sandbox.inject("answerCallbackQuery", chat_id=user.chat_id, drop=True)
    query = await user.press(results, "Puskesmas Sukorame")
    await expect(user, SAYS["dropped"])
    answer = await sandbox.wait_callback_answer(query)
    assert answer["text"] == "Maaf, belum berhasil. Silakan coba lagi."
    row = draft(kediri, user)
    assert row is not None and row.step == "unit" and row.unit_id is None
    await user.press(results, "Puskesmas Sukorame")
    await expect(user, "NIP")
    assert draft(kediri, user).step == "nip"  # type: ignore[union-attr]


async def test_a_press_too_old_to_answer_still_counts(bot, sandbox, kediri: Database) -> None:  # type: ignore[no-untyped-def]
    user = sandbox.user("Eko Prasetyo")
    await begin(user)
    await user.send("Eko Prasetyo")
    await expect(user, "Unit kerja")
    await user.send("sukorame")
    results = await expect(user, "Hasil pencarian")
    # As after the bot was down a while: Telegram no longer takes the answer.
    too_old = "query is too old and response timeout expired or query ID is invalid"
    sandbox.inject("answerCallbackQuery", chat_id=user.chat_id, error_code=400, description=too_old)
    await user.press(results, "Puskesmas Sukorame")
    await expect(user, "NIP")
    assert draft(kediri, user).step == "nip"  # type: ignore[union-attr]
    assert not any("Maaf" in t for t in bot_texts(user))
    # The press stays unanswered at Telegram, which the sandbox reports; nothing else.
    await sandbox.settle_callbacks(0)
    assert [v.method for v in sandbox.take_violations()] == ["answerCallbackQuery"]


# --- a /jadwal edit ---------------------------------------------------------------------------


def slot_days(db: Database, key: str) -> list[int]:
    return db.run_sync(lambda session: sorted(session.get(ProgrammeSlot, key).days))


def changes(db: Database) -> list[dict[str, Any]]:
    rows = db.run_sync(lambda session: list(session.exec(select(AuditLog)).all()))
    return [r.detail for r in rows if r.action == "programme_change"]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_jadwal_edit(bot, sandbox, kediri: Database, kind: str) -> None:  # type: ignore[no-untyped-def]
    admin = await enrol(sandbox, kediri, "Admin Jadwal", Role.ADMIN)
    await admin.send("/jadwal")
    view = await expect(admin, "Jadwal program")
    await admin.press(view, "🧩 Kuis")
    editor = await expect(admin, "Jam 10.00 waktu setempat tiap unit")
    # Monday is added; showing the changed slot is what fails.
    arm(sandbox, bot, kind, "editMessageText", admin.chat_id)
    query = await admin.press(editor, "Sen")
    answer = await sandbox.wait_callback_answer(query, timeout=HANG + 5)
    assert "Tersimpan" in answer["text"]
    await outcome(sandbox, admin, kind)
    await late_delivery(sandbox, kind)
    # Stored, audited and re-planned once, in full; nothing half-changed.
    assert slot_days(kediri, "kuis") == [1, 2, 4]
    assert changes(kediri) == [{"slot": "kuis", "field": "days", "old": [2, 4], "new": [1, 2, 4]}]
    if kind == "forbidden":
        await eventually(lambda: member_row(kediri, admin).reachable is False)
        return
    assert "Ketik /jadwal" in bot_texts(admin)[-1]
    await admin.send("/jadwal")
    view = await expect(admin, "Jadwal program")
    assert "🕒 10.00 · Sen Sel Kam" in (view.text or "")


async def test_a_jadwal_button_whose_answer_is_lost(bot, sandbox, kediri: Database) -> None:  # type: ignore[no-untyped-def]
    admin = await enrol(sandbox, kediri, "Admin Tombol", Role.ADMIN)
    await admin.send("/jadwal")
    view = await expect(admin, "Jadwal program")
    sandbox.inject("answerCallbackQuery", chat_id=admin.chat_id, drop=True)
    query = await admin.press(view, "🧩 Kuis")
    assert "text" in await sandbox.wait_callback_answer(query)
    await expect(admin, SAYS["dropped"])
    assert slot_days(kediri, "kuis") == [2, 4] and changes(kediri) == []


# --- the question import preview --------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GOOD_ROW = {
    "value": "KL",
    "guideline": "KL2",
    "difficulty": 2,
    "kind": "scenario",
    "scene": "Tim kelurahan dan puskesmas merencanakan posyandu lansia bersama.",
    "question": "Apa langkah terbaik ketua tim?",
    "option_1": "Membagi tugas sendiri tanpa bertanya",
    "option_2": "Mengajak kedua pihak menyusun rencana bersama",
    "option_3": "Menyerahkan semuanya kepada puskesmas",
    "correct": 2,
    "explanation": "Kolaboratif: terbuka bekerja sama untuk nilai tambah.",
}


def sheet(rows: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(COLUMNS)
    for row in rows:
        ws.append([row.get(c, "") for c in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


IMPORT_SAYS = {
    "bad_request": "Telegram menolak salah satu soal: Can't parse entities",
    "retry_after": "Telegram meminta bot menunggu 1 detik",
    "timed_out": "Telegram terlambat menjawab",
    "dropped": "Koneksi ke Telegram sedang terganggu",
    "server_error": "Koneksi ke Telegram sedang terganggu",
}


def hr_questions(db: Database) -> list[QuestionRow]:
    hr = select(QuestionRow).where(QuestionRow.source == "hr")
    return db.run_sync(lambda session: list(session.exec(hr).all()))


@pytest.mark.parametrize("kind", KINDS)
async def test_the_question_import_preview(bot, sandbox, kediri: Database, kind: str) -> None:  # type: ignore[no-untyped-def]
    deps = bot.bot_data["deps"]
    kediri.run_sync(sync_bank, questions=deps.content.questions, prompts=deps.content.prompts)
    admin = await enrol(sandbox, kediri, "Admin Soal", Role.ADMIN)
    arm(sandbox, bot, kind, "sendPoll", admin.chat_id)
    await admin.upload_document("soal.xlsx", sheet([GOOD_ROW]), mime_type=XLSX)
    await outcome(sandbox, admin, kind, IMPORT_SAYS.get(kind))
    await late_delivery(sandbox, kind)
    assert not any("Impor 1 soal" in t for t in bot_texts(admin))
    await eventually(lambda: admin.id not in deps.pending_imports)  # no confirm awaited
    assert hr_questions(kediri) == []
    if kind == "forbidden":
        await eventually(lambda: member_row(kediri, admin).reachable is False)
        return
    await admin.upload_document("soal.xlsx", sheet([GOOD_ROW]), mime_type=XLSX)
    confirm = await expect(admin, "Impor 1 soal")
    await admin.press(confirm, "✅ Impor 1 soal")
    await expect(admin, "Impor selesai")
    assert [q.id for q in hr_questions(kediri)] == ["KL-H001"]
