"""Small things in the registration and broadcast flows: the NIP question's skip button goes
once a NIP is typed, an HTML error is located in the admin's own text, and "now" is the
injected clock's, never the system's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.core.calendar import FakeClock
from bot.delivery.message import ComposeError, Draft, validate
from db.engine import Database
from db.models import Broadcast, Registration, Role
from db.queries.members import create_member
from db.queries.units import list_opd
from sandbox.simulation import begin, expect
from sandbox.users import SimUser
from tests.utils import running_bot

# Far from any system clock the suite runs on: a Wednesday, 10:00 WIB.
ELSEWHEN = datetime(2031, 3, 5, 3, 0, tzinfo=UTC)


async def admin_of(sandbox, db: Database) -> SimUser:  # type: ignore[no-untyped-def]
    user = sandbox.user("Admin Waktu")
    db.run_sync(
        create_member,
        telegram_user_id=user.id,
        chat_id=user.chat_id,
        full_name="Admin Waktu",
        unit_id=db.run_sync(list_opd)[0].id,
        nip=None,
        language="id",
        consent_at=ELSEWHEN,
        role=Role.ADMIN,
    )
    return user


async def test_a_typed_nip_takes_the_skip_button_away(bot, sandbox, kediri: Database) -> None:  # type: ignore[no-untyped-def]
    user = sandbox.user("Wati Ningsih")
    await begin(user)
    await user.send("Wati Ningsih")
    await expect(user, "Unit kerja")
    await user.send("sukorame")
    results = await expect(user, "Hasil pencarian")
    await user.press(results, "Puskesmas Sukorame")
    question = await expect(user, "NIP")
    assert question.buttons == [["Lewati"]]
    await user.send("1234")  # a wrong NIP: the question (and its button) stays
    await expect(user, "18 angka")
    await user.send("19860926 201505 1 001")
    closed = await expect(user, "NIP")
    assert closed.kind == "edit" and closed.message_id == question.message_id
    assert closed.buttons == []
    await expect(user, "Periksa data Anda")
    [current] = [m for m in user.transcript if m["message_id"] == question.message_id]
    assert "reply_markup" not in current


def test_an_html_error_points_into_the_admins_own_text() -> None:
    text = "Halo {{ nama }} dari {{ unit }},<br>apel pagi 😀 pukul 07.30"
    try:
        validate(Draft(html=text))
    except ComposeError as exc:
        detail = exc.detail
    else:
        raise AssertionError("<br> was accepted")
    # Where the admin typed it (not 200 characters on, in the text with the longest values).
    assert detail["position"] == text.index("<br>") + 1
    assert detail["reason"] == 'Unsupported start tag "br"'
    assert "<br>" in detail["excerpt"] and len(detail["excerpt"]) <= 32
    # An error after an emoji (four bytes, one character) is still counted in characters.
    later = "😀 <b>tebal</i>"
    try:
        validate(Draft(html=later))
    except ComposeError as exc:
        assert exc.detail["position"] == later.index("</i>") + 1
        assert exc.detail["reason"].startswith("Unmatched end tag, expected")
    else:
        raise AssertionError("a mismatched tag was accepted")


async def test_the_admin_reads_the_position_of_an_html_error(bot, sandbox, kediri) -> None:  # type: ignore[no-untyped-def]
    admin = await admin_of(sandbox, kediri)
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, "🛡 Admin (1)")
    await expect(admin, "Penerima: 1 orang")
    await admin.send("Halo {{ nama }}, baris satu<br>baris dua")
    bad = await expect(admin, "tidak diterima Telegram")
    assert 'Unsupported start tag "br", di karakter ke-28: ' in (bad.text or "")
    assert "baris satu<br>baris dua" in (bad.text or "")
    assert "byte offset" not in (bad.text or "")


async def test_scheduling_and_consent_read_the_injected_clock(sandbox, settings, kediri) -> None:  # type: ignore[no-untyped-def]
    async with running_bot(settings, kediri, clock=FakeClock(ELSEWHEN)) as app:
        # Consent is timed by the bot's clock.
        member = sandbox.user("Dewi Lestari")
        await begin(member)
        row = kediri.run_sync(lambda session: session.get(Registration, member.id))
        assert row is not None and row.consent_at is not None
        assert abs(row.consent_at.replace(tzinfo=UTC) - ELSEWHEN) < timedelta(minutes=1)

        admin = await admin_of(sandbox, kediri)
        await admin.send("/broadcast")
        menu = await expect(admin, "Pilih penerima")
        # "This week" is the clock's week: from Monday 3 March 2031, 00:00 WIB.
        assert app.user_data[admin.id]["broadcast"]["since"] == "2031-03-03T00:00:00+07:00"
        await admin.press(menu, "🛡 Admin (1)")
        await expect(admin, "Penerima: 1 orang")
        await admin.send("Rapat koordinasi")
        confirm = await expect(admin, "Kirim ke 1 penerima?")
        await admin.press(confirm, "🕒 Jadwalkan")
        await expect(admin, "Ketik tanggal dan jam")
        # In the past by the bot's clock (the system's would call it years ahead).
        await admin.send("04-03-2031 08:00")
        await expect(admin, "sudah lewat")
        # More than 90 days ahead by the bot's clock.
        await admin.send("10-06-2031 08:00")
        await expect(admin, "paling lama 90 hari")
        await admin.send("06-03-2031 08:00")
        await expect(admin, "dijadwalkan")
        [broadcast] = kediri.run_sync(lambda session: list(session.exec(select(Broadcast)).all()))
        assert broadcast.scheduled_at.replace(tzinfo=UTC) == datetime(2031, 3, 6, 1, 0, tzinfo=UTC)
        await sandbox.settle_callbacks()
