"""The question bank as a spreadsheet: the template HR fills, its validation, and export."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from content.loader import (
    OPTIONS_MAX,
    Question,
    check_question_fields,
    link_problems,
    question_from,
)
from content.spreadsheet import MAX_UNCOMPRESSED, Refused, read_rows, texts_as_text

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
MAX_UNCOMPRESSED_MB = MAX_UNCOMPRESSED // 1024 // 1024
COLUMNS = [
    "id",
    "value",
    "guideline",
    "difficulty",
    "kind",
    "scene",
    "question",
    "option_1",
    "option_2",
    "option_3",
    "option_4",
    "correct",
    "explanation",
    "then",
]
# Sheets made before two-step cases have no `then` column; they still import.
OPTIONAL_COLUMNS = frozenset({"then"})
HELP = {
    "id": "kosongkan untuk soal baru (diberi otomatis), atau isi mis. BP-H001",
    "value": "BP, AK, KO, HA, LO, AD, KL",
    "guideline": "mis. BP1 (panduan a), BP2 (b), BP3 (c)",
    "difficulty": "1 mudah, 2 sedang, 3 sulit",
    "kind": "scenario, guideline atau recall",
    "scene": "opsional, paling banyak 1000 karakter",
    "question": "pertanyaan kuis, paling banyak 300 karakter",
    "option_1": "pilihan 1, paling banyak 100 karakter",
    "option_2": "pilihan 2",
    "option_3": "pilihan 3",
    "option_4": "pilihan 4 (opsional)",
    "correct": "nomor pilihan yang benar: 1, 2, 3 atau 4",
    "explanation": "alasan, paling banyak 200 karakter dan 2 baris baru",
    "then": "opsional: id soal lanjutan (soal HR) yang dikirim begitu soal ini dijawab",
}


_REFUSALS = {
    "invalid": "Berkas ini bukan .xlsx yang valid (rusak atau bukan lembar kerja Excel). "
    "Simpan ulang dari Excel/LibreOffice sebagai .xlsx, atau pakai templat dari /soal_template.",
    "too_large": "Isi berkas ini terlalu besar setelah dibuka (lebih dari "
    f"{MAX_UNCOMPRESSED_MB} MB). Kirim hanya lembar soal, tanpa gambar atau lembar lain.",
    "too_many_rows": f"Terlalu banyak baris; maksimal {MAX_ROWS} soal. "
    "Bagi menjadi beberapa berkas.",
}


@dataclass(frozen=True)
class SheetError:
    row: int
    message: str

    def __str__(self) -> str:
        return f"Baris {self.row}: {self.message}" if self.row else self.message


class SheetRejected(Exception):
    def __init__(self, errors: list[SheetError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def template_bytes() -> bytes:
    """An empty sheet with the header, a help row and one worked example."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "soal"
    sheet.append(COLUMNS)
    sheet.append([HELP[c] for c in COLUMNS])
    sheet.append(
        [
            "",
            "BP",
            "BP1",
            2,
            "scenario",
            "Seorang lansia datang ke loket Dispendukcapil tanpa membawa fotokopi KK.",
            "Apa yang sebaiknya dilakukan petugas loket?",
            "Menolak dan memintanya kembali besok",
            "Memeriksa data KK secara daring lalu melanjutkan layanan",
            "Menyuruhnya mencari tempat fotokopi sendiri",
            "",
            2,
            "Memahami kebutuhan warga berarti mencari jalan agar layanan tetap berjalan.",
            "",
        ]
    )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="666666")
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
    return _save(book)


def export_bytes(questions: Iterable[Question]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "soal"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for q in questions:
        options = list(q.options) + [""] * (OPTIONS_MAX - len(q.options))
        sheet.append(
            [
                *(q.id, q.value, q.guideline, q.difficulty, q.kind, q.scene or "", q.question),
                *options,
                *(q.correct + 1, q.explanation, q.follow_up or ""),
            ]
        )
    # An item imported with "=HYPERLINK(...)" in it must come back out as the words HR
    # typed, not as a live formula in whoever opens the export.
    texts_as_text(sheet.iter_rows(min_row=2))
    return _save(book)


def _save(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def parse_sheet(
    data: bytes,
    guideline_codes: dict[str, str],
    *,
    reserved_ids: frozenset[str] = frozenset(),
    next_id: dict[str, int] | None = None,
    stored_links: dict[str, str | None] | None = None,
) -> list[Question]:
    """Validate every row; raise SheetRejected listing all problems, or return the items.

    Rows whose id is blank get `<VALUE>-H<n>` ids, counting on from `next_id`; ids in
    `reserved_ids` (the built-in bank) cannot be overwritten from a spreadsheet.
    `stored_links` (every stored soal's follow-up) is what a `then` link is checked
    against with the sheet's own rows: a follow-up must be an HR soal, here or stored.
    """
    if len(data) > MAX_BYTES:
        raise SheetRejected(
            [
                SheetError(
                    0, f"Berkas terlalu besar ({len(data) // 1024 // 1024} MB). Maksimal 5 MB."
                )
            ]
        )
    try:
        # The header, the help row and MAX_ROWS items; one more row tells "too many".
        table = read_rows(data, max_rows=MAX_ROWS + 3, max_cols=len(COLUMNS) + 20)
    except Refused as refused:
        raise SheetRejected([SheetError(0, _REFUSALS[refused.reason])]) from None
    if not table:
        raise SheetRejected([SheetError(0, "Spreadsheet tidak punya lembar kerja.")])
    rows = iter(table)
    header = [str(h).strip().lower() if h is not None else "" for h in next(rows, ())]
    missing = [c for c in COLUMNS if c not in header and c not in OPTIONAL_COLUMNS]
    if missing:
        raise SheetRejected(
            [
                SheetError(
                    1,
                    f"Kolom tidak ditemukan: {', '.join(missing)}. "
                    "Pakai baris judul dari /soal_template tanpa diubah.",
                )
            ]
        )
    index = {name: header.index(name) for name in COLUMNS if name in header}
    errors: list[SheetError] = []
    items: list[Question] = []
    counters = dict(next_id or {})
    seen: dict[str, int] = {}
    links = dict(stored_links or {})
    for number, values in enumerate(rows, start=2):
        if number - 1 > MAX_ROWS:
            errors.append(SheetError(number, f"Terlalu banyak baris; maksimal {MAX_ROWS} soal."))
            break
        cells = {name: _cell(values[i]) if i < len(values) else None for name, i in index.items()}
        cells.setdefault("then", None)
        if all(v is None for v in cells.values()):
            continue
        if number == 2 and str(cells["value"] or "").startswith("BP, AK"):
            continue  # the help row of our own template
        raw = _raw_item(cells, counters)
        problems = check_question_fields(raw, guideline_codes)
        if raw["id"] in seen:
            problems.append(f"id {raw['id']} juga dipakai di baris {seen[raw['id']]}")
        seen[raw["id"]] = number
        if raw["id"] in reserved_ids:
            problems.append(f"id {raw['id']} milik bank soal bawaan; kosongkan id untuk soal baru")
        if raw["then"] in reserved_ids:
            problems.append(
                f"soal lanjutan {raw['then']} milik bank soal bawaan; "
                "lanjutan soal HR harus soal HR juga"
            )
        links[raw["id"]] = raw["then"]
        errors += [SheetError(number, p[0].upper() + p[1:] + ".") for p in problems]
        if not problems:
            items.append(question_from(raw, source="hr"))
    # Links are checked over the bank as it would be after the import.
    for qid, link_errors in link_problems(links).items():
        if qid in seen:
            errors += [SheetError(seen[qid], e[0].upper() + e[1:] + ".") for e in link_errors]
    if errors:
        raise SheetRejected(sorted(errors, key=lambda e: e.row))
    if not items:
        raise SheetRejected([SheetError(0, "Tidak ada soal di spreadsheet ini.")])
    return items


def _raw_item(cells: dict[str, Any], counters: dict[str, int]) -> dict[str, Any]:
    value = str(cells["value"] or "").upper()
    qid = cells["id"]
    if qid is None and value:
        counters[value] = counters.get(value, 0) + 1
        qid = f"{value}-H{counters[value]:03d}"
    options = [cells[f"option_{n}"] for n in range(1, OPTIONS_MAX + 1)]
    while options and options[-1] is None:
        options.pop()
    correct = cells["correct"]
    difficulty = cells["difficulty"]
    return {
        "id": str(qid or "").upper(),
        "value": value,
        "guideline": str(cells["guideline"] or "").upper(),
        "difficulty": difficulty if isinstance(difficulty, int) else None,
        "kind": str(cells["kind"] or "").lower(),
        "scene": cells["scene"],
        "question": str(cells["question"]) if cells["question"] is not None else None,
        "options": [str(o) if o is not None else "" for o in options],
        "correct": correct - 1
        if isinstance(correct, int) and not isinstance(correct, bool)
        else None,
        "explanation": str(cells["explanation"]) if cells["explanation"] is not None else None,
        "then": str(cells["then"]).upper() if cells["then"] is not None else None,
    }
