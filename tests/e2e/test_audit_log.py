"""An audit log HR can read: refused attempts collapse per person per minute, and /audit
shows admin actions apart from refusals, page by page."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlmodel import select

from db.engine import Database
from db.models import AuditLog, Role
from db.queries.members import create_member
from db.queries.units import list_opd
from sandbox.simulation import expect


def rows(db: Database) -> list[AuditLog]:
    return db.run_sync(lambda session: list(session.exec(select(AuditLog)).all()))


async def test_a_flood_of_forged_buttons_stays_one_line(bot, sandbox, kediri: Database) -> None:
    hr = sandbox.user("Admin BKPSDM")
    kediri.run_sync(
        create_member,
        telegram_user_id=hr.id,
        chat_id=hr.chat_id,
        full_name="Admin BKPSDM",
        unit_id=kediri.run_sync(list_opd)[0].id,
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
        role=Role.ADMIN,
    )
    # The admin's real work: 25 entries, more than one page.
    for _ in range(25):
        await hr.send("/statistik")
        await expect(hr, "Anggota terdaftar")
    stranger = sandbox.user("Orang Asing")
    presses = 200
    queries = [await stranger.press_forged(1, f"adm:del:{n % 7 + 1}") for n in range(presses)]
    answers = await asyncio.gather(*(sandbox.wait_callback_answer(q, timeout=60) for q in queries))
    # Every press is answered; those past the 20 one person may have waiting are dropped
    # unread (README "Floods"), and refusals past the per-person limit are not written.
    answered = sum("hanya untuk admin" in (a.get("text") or "") for a in answers)
    refused = [r for r in rows(kediri) if not r.allowed]
    # Within a minute or two: at most a few lines, their counts adding up to what was written.
    assert 1 <= len(refused) <= 3
    # Each refusal is written before it is answered.
    written = sum(r.detail.get("count", 1) for r in refused)
    assert 1 <= written <= min(answered, 12)
    await hr.send("/audit")
    first = await expect(hr, "Log audit terbaru")
    assert "tindakan admin" in first.text and "halaman 1 dari 2" in first.text
    assert first.text.count("statistics") == 20 and "Orang Asing" not in first.text
    assert f"Percobaan yang ditolak: {len(refused)} catatan" in first.text
    await hr.press(first, "Berikutnya ▶️")
    second = await expect(hr, "halaman 2 dari 2")
    assert second.text.count("statistics") == 5
    await hr.press(second, f"⛔ Percobaan ditolak ({len(refused)})")
    refusals = await expect(hr, "percobaan yang ditolak")
    assert "admin_role_button" in refusals.text and "ditolak" in refusals.text
    assert f"{written}×" in refusals.text or len(refused) > 1
    # A member cannot page through it either: refused, and counted on the same line.
    before = len(rows(kediri))
    query = await stranger.press_forged(1, "aud:a:2")
    notice = await sandbox.wait_callback_answer(query)
    assert "hanya untuk admin" in notice["text"]
    assert len(rows(kediri)) == before
    # One person's entries: by name for members, by Telegram id for anyone.
    await hr.send("/audit Admin BKPSDM")
    mine = await expect(hr, "tindakan admin oleh Admin BKPSDM")
    assert "halaman 1 dari 2" in mine.text and "Percobaan yang ditolak: 0 catatan" in mine.text
    await hr.send(f"/audit {stranger.id}")
    theirs = await expect(hr, f"oleh {stranger.id}")
    assert "Belum ada catatan" in theirs.text
    await hr.press(theirs, f"⛔ Percobaan ditolak ({len(refused)})")
    await expect(hr, "percobaan yang ditolak")
    await hr.send("/audit tidak ada orangnya")
    await expect(hr, "Tidak ada anggota dengan nama itu")
