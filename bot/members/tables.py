"""Lists HR keeps in a spreadsheet (the unit roster, the employee list) read row by row.

One way to read them, so both get the same limits (file size, row count, the .xlsx checks
of `content.spreadsheet`) and the same kind of report: every problem, with its row number
as the admin sees it, in Indonesian (the admin of a BKPSDM reads them). Pure: no
database and no Telegram.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from content import spreadsheet

MAX_FILE_BYTES = 5 * 1024 * 1024
# A zip-compressed .xlsx under 5 MB can still expand to millions of rows; stop reading
# well past any real list (a ministry has a few thousand units, a province ~50,000 staff).
MAX_ROWS = 50_000


@dataclass(frozen=True)
class RowError:
    """One problem; row 0 means the file as a whole."""

    row: int
    message: str

    def __str__(self) -> str:
        return self.message if self.row == 0 else f"Baris {self.row}: {self.message}"


class RowErrors(Exception):
    """Every problem found in a file, in row order."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors: list[RowError] = sorted(errors, key=lambda error: error.row)
        # args holds the errors (not the text) so the exception survives pickling.
        super().__init__(self.errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


@dataclass(frozen=True)
class Columns:
    """What a list's header may say and what its messages call things."""

    aliases: dict[str, str]  # normalised heading -> canonical field
    labels: dict[str, str]  # canonical field -> the name messages use
    required: tuple[str, ...]
    noun: str  # "daftar unit"
    formats: str  # ".csv, .xlsx, atau .yaml"


@dataclass
class RawRow:
    """A non-blank record before validation: canonical field -> text."""

    row: int
    fields: dict[str, str]
    # Fields whose problem is already reported, so validation does not repeat it.
    reported: set[str] = field(default_factory=set)


def rows_from_csv(data: bytes, errors: list[RowError], columns: Columns) -> list[RawRow] | None:
    try:
        # utf-8-sig also takes plain UTF-8 and drops the BOM that Excel writes.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        errors.append(
            RowError(
                0,
                "File CSV tidak berenkode UTF-8. Di Excel pilih Simpan Sebagai -> "
                '"CSV UTF-8 (Comma delimited)", lalu kirim ulang.',
            )
        )
        return None
    if not text.strip():
        errors.append(empty(columns))
        return None

    first_line = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
    records: list[list[str]] = []
    try:
        for record in reader:
            if len(records) > MAX_ROWS:
                errors.append(too_many_rows(columns))
                return None
            records.append(record)
    except csv.Error as exc:
        errors.append(
            RowError(
                0,
                f"File CSV rusak sekitar baris teks {reader.line_num} ({exc}). "
                "Simpan ulang dari aplikasi lembar kerja lalu kirim lagi.",
            )
        )
        return None
    return rows_from_table(records, errors, columns)


def _sniff_delimiter(header_line: str) -> str:
    # Excel with Indonesian regional settings saves "CSV" with semicolons.
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > 0 else ","


def rows_from_xlsx(data: bytes, errors: list[RowError], columns: Columns) -> list[RawRow] | None:
    try:
        # One row past the limit tells "too many"; no list needs more than 40 columns.
        table = spreadsheet.read_rows(data, max_rows=MAX_ROWS + 1, max_cols=40)
    except spreadsheet.Refused as refused:
        if refused.reason == "too_many_rows":
            errors.append(too_many_rows(columns))
        elif refused.reason == "too_large":
            errors.append(
                RowError(
                    0,
                    "File .xlsx ini terlalu besar setelah dibuka (lebih dari "
                    f"{spreadsheet.MAX_UNCOMPRESSED // 1024 // 1024} MB). Kirim hanya lembar "
                    f"{columns.noun}, tanpa gambar atau lembar lain.",
                )
            )
        else:
            errors.append(
                RowError(
                    0,
                    "File ini bukan .xlsx yang valid: tidak dapat dibuka sebagai lembar kerja "
                    'Excel. Simpan file dari Excel/LibreOffice sebagai "Excel Workbook (.xlsx)"; '
                    "jangan hanya mengganti nama file.",
                )
            )
        return None
    if not table:
        errors.append(empty(columns))
        return None
    if len(table) > MAX_ROWS:
        errors.append(too_many_rows(columns))
        return None
    return rows_from_table([[cell_text(value) for value in row] for row in table], errors, columns)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # Spreadsheets store a typed 7 as 7.0; the admin meant "7". Past 15 digits a float
        # has lost digits (an 18-digit NIP typed as a number): keep its E-notation so the
        # check says so instead of taking rounded digits for real ones.
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def rows_from_table(
    records: list[list[str]], errors: list[RowError], columns: Columns
) -> list[RawRow] | None:
    """Turn csv/xlsx records (header first) into raw rows; row numbers are 1-based."""
    if all(is_blank(record) for record in records):
        errors.append(empty(columns))
        return None

    header = records[0]
    header_errors = len(errors)
    found: dict[str, int] = {}
    for index, heading in enumerate(header):
        canonical = columns.aliases.get(normalise_key(heading))
        if canonical is None:
            continue  # extra columns (notes, numbering) are allowed and ignored
        if canonical in found:
            errors.append(
                RowError(
                    1,
                    f'Kolom "{columns.labels[canonical]}" muncul lebih dari sekali di baris '
                    "judul. Hapus salah satunya.",
                )
            )
        else:
            found[canonical] = index
    for column in columns.required:
        if column not in found:
            label = columns.labels[column]
            errors.append(
                RowError(
                    1,
                    f'Baris judul tidak memuat kolom "{label}". '
                    f'Tambahkan kolom "{label}" (atau "{column}") di baris 1.',
                )
            )
    if len(errors) > header_errors:
        return None  # without a sound header no row can be checked

    raw: list[RawRow] = []
    for number, record in enumerate(records[1:], start=2):
        if is_blank(record):
            continue
        fields = {
            name: record[index] if index < len(record) else "" for name, index in found.items()
        }
        raw.append(RawRow(number, fields))
    return raw


def normalise_key(heading: str) -> str:
    # "Zona Waktu", " KODE " and "zona-waktu" all mean the same column.
    return re.sub(r"[\s\-]+", "_", heading.strip().lower())


def is_blank(record: Iterable[str]) -> bool:
    return all(not cell.strip() for cell in record)


# --- shared messages ----------------------------------------------------------------


def too_big() -> RowError:
    limit_mb = MAX_FILE_BYTES // (1024 * 1024)
    return RowError(
        0, f"File lebih besar dari {limit_mb} MB. Hapus kolom atau lembar yang tidak perlu."
    )


def too_many_rows(columns: Columns) -> RowError:
    limit = f"{MAX_ROWS:,}".replace(",", ".")  # Indonesian thousands separator
    return RowError(
        0,
        f"File berisi lebih dari {limit} baris. Periksa apakah lembar pertama "
        f"benar-benar {columns.noun}.",
    )


def empty(columns: Columns) -> RowError:
    return RowError(0, f"File kosong. Kirim {columns.noun} dalam format {columns.formats}.")
