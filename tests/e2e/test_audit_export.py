"""/audit_ekspor: the audit log as an .xlsx HR can open, admin actions and refused attempts on
separate sheets, and text that starts like a formula stays text."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from db.engine import Database
from db.models import Role
from db.queries.members import create_member
from db.queries.units import list_opd
from sandbox.simulation import expect

HOSTILE_NAME = '=HYPERLINK("http://evil.example","klik")'


async def test_hr_gets_the_log_as_a_spreadsheet(bot, sandbox, kediri: Database) -> None:
    hr = sandbox.user("Admin BKPSDM")
    # Stored directly: registration refuses such a name, an older row or an import may not.
    kediri.run_sync(
        create_member,
        telegram_user_id=hr.id,
        chat_id=hr.chat_id,
        full_name=HOSTILE_NAME,
        unit_id=kediri.run_sync(list_opd)[0].id,
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
        role=Role.ADMIN,
    )
    await hr.send("/statistik")
    await expect(hr, "Anggota terdaftar")
    stranger = sandbox.user("Orang Asing")
    for _ in range(3):
        await stranger.send("/audit_ekspor")
        refused = await expect(stranger, "hanya untuk admin")
    assert refused.message.get("document") is None
    await hr.send("/audit_ekspor")
    sent = await expect(hr, "Log audit:")
    assert "2 tindakan admin dan 1 baris percobaan yang ditolak" in sent.message["caption"]
    data = sandbox.world.files[sent.message["document"]["file_id"]].data
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Tindakan admin", "Percobaan ditolak"]
    actions = list(book["Tindakan admin"].iter_rows(values_only=True))
    assert actions[0][:4] == ("Waktu (UTC)", "Telegram ID", "Nama", "Tindakan")
    assert [r[3] for r in actions[1:]] == ["audit_export", "statistics"]
    assert all(r[1] == hr.id and isinstance(r[0], datetime) for r in actions[1:])
    name = book["Tindakan admin"]["C2"]
    assert name.value == HOSTILE_NAME and name.data_type == "s"  # text, not a formula
    refusals = list(book["Percobaan ditolak"].iter_rows(values_only=True))
    assert len(refusals) == 2
    assert refusals[1][1] == stranger.id and refusals[1][3] == "audit_export"
    assert refusals[1][5] == 3 and refusals[1][2] is None  # collapsed; a stranger has no name
