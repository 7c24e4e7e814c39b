"""Parse a roster of OPD and unit kerja from a CSV, XLSX or YAML file.

Pure: no database and no Telegram. Every problem in a file is collected and
raised together as one ``RosterError``, so a caller imports all rows or none and
the admin can fix the whole file in one go. Messages are Indonesian because the
admin (BKPSDM) reads them.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from content import spreadsheet

MAX_FILE_BYTES = 5 * 1024 * 1024
# A zip-compressed .xlsx under 5 MB can still expand to millions of rows; stop
# reading well past any real roster (a ministry has a few thousand units).
MAX_ROWS = 50_000
MAX_NAME_CHARS = 100
CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,23}")

DEFAULT_TIMEZONE = "Asia/Jakarta"
TIMEZONES: tuple[str, ...] = ("Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura")
_TIMEZONE_LOOKUP: dict[str, str] = {tz.lower(): tz for tz in TIMEZONES} | {
    # Admins think in WIB/WITA/WIT; WIB maps to Jakarta (Pontianak is the same offset).
    "wib": "Asia/Jakarta",
    "wita": "Asia/Makassar",
    "wit": "Asia/Jayapura",
}

_REQUIRED_COLUMNS: tuple[str, ...] = ("code", "name", "timezone")
_COLUMN_ALIASES: dict[str, str] = {
    "code": "code",
    "kode": "code",
    "name": "name",
    "nama": "name",
    "parent": "parent",
    "induk": "parent",
    "timezone": "timezone",
    "zona_waktu": "timezone",
}
# Messages name columns the way the Indonesian template names them.
_LABELS: dict[str, str] = {
    "code": "kode",
    "name": "nama",
    "parent": "induk",
    "timezone": "zona_waktu",
}
_SUPPORTED = ".csv, .xlsx, atau .yaml"


@dataclass(frozen=True)
class UnitRow:
    """One valid unit; ``parent`` is None for an OPD."""

    row: int  # as the user sees it: header = row 1 for csv/xlsx; list index + 1 for yaml
    code: str
    name: str
    parent: str | None
    timezone: str


@dataclass(frozen=True)
class RowError:
    """One problem; row 0 means the file as a whole."""

    row: int
    message: str

    def __str__(self) -> str:
        return self.message if self.row == 0 else f"Baris {self.row}: {self.message}"


class RosterError(Exception):
    """Every problem found in a roster file, in row order."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors: list[RowError] = sorted(errors, key=lambda error: error.row)
        # args holds the errors (not the text) so the exception survives pickling.
        super().__init__(self.errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


@dataclass
class _RawRow:
    """A non-blank record before validation: canonical field -> text."""

    row: int
    fields: dict[str, str]
    # Fields whose problem is already reported, so validation does not repeat it.
    reported: set[str] = field(default_factory=set)


def parse_roster(path: Path) -> list[UnitRow]:
    """Read and validate a roster file; raise ``RosterError`` listing every problem."""
    path = Path(path)
    _format_of(path.name)  # reject an unsupported type before touching the disk
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise RosterError([_too_big()])
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise RosterError(
            [
                RowError(
                    0,
                    f'File "{path.name}" tidak dapat dibaca ({reason}). '
                    "Periksa lokasi file lalu coba lagi.",
                )
            ]
        ) from exc
    return parse_roster_bytes(data, path.name)


def parse_roster_bytes(data: bytes, filename: str) -> list[UnitRow]:
    """Validate roster content; ``filename`` only chooses the format by its suffix."""
    kind = _format_of(filename)
    if len(data) > MAX_FILE_BYTES:
        raise RosterError([_too_big()])
    if not data.strip():
        raise RosterError([_empty()])

    errors: list[RowError] = []
    if kind == "csv":
        raw = _rows_from_csv(data, errors)
    elif kind == "xlsx":
        raw = _rows_from_xlsx(data, errors)
    else:
        raw = _rows_from_yaml(data, errors)
    if raw is None:
        # The file could not be read as a table; row checks would only add noise.
        raise RosterError(errors)

    units = _validate(raw, errors)
    if errors:
        raise RosterError(errors)
    return units


# --- file formats ---------------------------------------------------------------


def _format_of(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".xlsx":
        return "xlsx"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    shown = f'"{suffix}"' if suffix else "tanpa akhiran"
    raise RosterError(
        [
            RowError(
                0,
                f"Jenis file {shown} tidak didukung. Kirim file {_SUPPORTED}. "
                "File .xls atau .ods: buka lalu simpan ulang sebagai .xlsx.",
            )
        ]
    )


def _rows_from_csv(data: bytes, errors: list[RowError]) -> list[_RawRow] | None:
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
        errors.append(_empty())
        return None

    first_line = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
    records: list[list[str]] = []
    try:
        for record in reader:
            if len(records) > MAX_ROWS:
                errors.append(_too_many_rows())
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
    return _rows_from_table(records, errors)


def _sniff_delimiter(header_line: str) -> str:
    # Excel with Indonesian regional settings saves "CSV" with semicolons.
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > 0 else ","


def _rows_from_xlsx(data: bytes, errors: list[RowError]) -> list[_RawRow] | None:
    try:
        # One row past the limit tells "too many"; no roster needs more than 40 columns.
        table = spreadsheet.read_rows(data, max_rows=MAX_ROWS + 1, max_cols=40)
    except spreadsheet.Refused as refused:
        if refused.reason == "too_many_rows":
            errors.append(_too_many_rows())
        elif refused.reason == "too_large":
            errors.append(
                RowError(
                    0,
                    "File .xlsx ini terlalu besar setelah dibuka (lebih dari "
                    f"{spreadsheet.MAX_UNCOMPRESSED // 1024 // 1024} MB). Kirim hanya lembar "
                    "daftar unit, tanpa gambar atau lembar lain.",
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
        errors.append(_empty())
        return None
    if len(table) > MAX_ROWS:
        errors.append(_too_many_rows())
        return None
    return _rows_from_table([[_cell_text(value) for value in row] for row in table], errors)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    # Spreadsheets store a typed 7 as 7.0; the admin meant "7".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows_from_table(records: list[list[str]], errors: list[RowError]) -> list[_RawRow] | None:
    """Turn csv/xlsx records (header first) into raw rows; row numbers are 1-based."""
    if all(_is_blank(record) for record in records):
        errors.append(_empty())
        return None

    header = records[0]
    header_errors = len(errors)
    columns: dict[str, int] = {}
    for index, heading in enumerate(header):
        canonical = _COLUMN_ALIASES.get(_normalise_key(heading))
        if canonical is None:
            continue  # extra columns (notes, numbering) are allowed and ignored
        if canonical in columns:
            errors.append(
                RowError(
                    1,
                    f'Kolom "{_LABELS[canonical]}" muncul lebih dari sekali di baris judul. '
                    "Hapus salah satunya.",
                )
            )
        else:
            columns[canonical] = index
    for column in _REQUIRED_COLUMNS:
        if column not in columns:
            errors.append(
                RowError(
                    1,
                    f'Baris judul tidak memuat kolom "{_LABELS[column]}". '
                    f'Tambahkan kolom "{_LABELS[column]}" (atau "{column}") di baris 1.',
                )
            )
    if len(errors) > header_errors:
        return None  # without a sound header no row can be checked

    raw: list[_RawRow] = []
    for number, record in enumerate(records[1:], start=2):
        if _is_blank(record):
            continue
        fields = {
            name: record[index] if index < len(record) else "" for name, index in columns.items()
        }
        raw.append(_RawRow(number, fields))
    return raw


def _rows_from_yaml(data: bytes, errors: list[RowError]) -> list[_RawRow] | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        errors.append(RowError(0, "File YAML tidak berenkode UTF-8. Simpan ulang sebagai UTF-8."))
        return None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" di baris teks {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "format tidak sah"
        errors.append(
            RowError(
                0,
                f"File YAML tidak dapat dibaca{where} ({problem}). "
                "Periksa indentasi, tanda titik dua, dan tanda kutip.",
            )
        )
        return None

    if document is None:
        errors.append(_empty())
        return None
    if isinstance(document, dict):
        items = document.get("units")
        if items is None:
            errors.append(
                RowError(
                    0,
                    'File YAML tidak memuat daftar "units:". Tulis unit di bawah kunci '
                    '"units:" atau sebagai daftar langsung.',
                )
            )
            return None
    else:
        items = document
    if not isinstance(items, list):
        errors.append(
            RowError(0, 'Isi "units" harus berupa daftar unit, setiap unit diawali tanda "- ".')
        )
        return None

    raw: list[_RawRow] = []
    for number, item in enumerate(items, start=1):
        if item is None:
            continue  # an empty "- " entry is the YAML form of a blank line
        if not isinstance(item, dict):
            errors.append(
                RowError(
                    number,
                    "Unit harus berupa pasangan kunci: nilai (code, name, parent, timezone).",
                )
            )
            continue
        row = _yaml_item(number, item, errors)
        if row is not None:
            raw.append(row)
    return raw


def _yaml_item(number: int, item: dict[Any, Any], errors: list[RowError]) -> _RawRow | None:
    row = _RawRow(number, {})
    for key, value in item.items():
        canonical = _COLUMN_ALIASES.get(_normalise_key(str(key)))
        if canonical is None:
            # Unlike a spreadsheet column, a stray YAML key is almost always a typo
            # (e.g. "timzone") that would silently drop the value.
            errors.append(
                RowError(
                    number,
                    f'Kunci "{key}" tidak dikenal. Gunakan code, name, parent, timezone '
                    "(atau kode, nama, induk, zona_waktu).",
                )
            )
            continue
        if canonical in row.fields:
            errors.append(
                RowError(
                    number,
                    f'Kolom "{_LABELS[canonical]}" ditulis lebih dari sekali. Hapus salah satunya.',
                )
            )
            continue
        if value is None:
            row.fields[canonical] = ""
        elif isinstance(value, str):
            row.fields[canonical] = value
        elif isinstance(value, int) and not isinstance(value, bool):
            row.fields[canonical] = str(value)
        else:
            # YAML turns unquoted ON/NO/yes into booleans and 2024-01-01 into dates;
            # the original text is lost, so ask for quotes instead of guessing.
            errors.append(
                RowError(
                    number,
                    f'Nilai kolom "{_LABELS[canonical]}" ({value!r}) tidak dibaca sebagai teks. '
                    'Beri tanda kutip, misalnya code: "ON".',
                )
            )
            row.fields[canonical] = ""
            row.reported.add(canonical)
    if not row.reported and not any(text.strip() for text in row.fields.values()):
        return None
    return row


def _normalise_key(heading: str) -> str:
    # "Zona Waktu", " KODE " and "zona-waktu" all mean the same column.
    return re.sub(r"[\s\-]+", "_", heading.strip().lower())


def _is_blank(record: Iterable[str]) -> bool:
    return all(not cell.strip() for cell in record)


# --- validation -----------------------------------------------------------------


def _validate(raw: list[_RawRow], errors: list[RowError]) -> list[UnitRow]:
    if not raw and not errors:  # with errors, the rows were there but unreadable
        errors.append(
            RowError(
                0,
                "File tidak berisi unit. Tambahkan minimal satu baris unit di bawah baris judul.",
            )
        )
        return []

    # Every non-empty code, valid or not, counts as defined: a row that names a
    # badly formatted parent gets one error (on the parent's row), not two.
    defined: dict[str, _RawRow] = {}
    units: list[UnitRow] = []
    for row in raw:
        code = row.fields.get("code", "").strip().upper()
        parent = row.fields.get("parent", "").strip().upper() or None
        if "code" in row.reported:
            pass
        elif not code:
            errors.append(
                RowError(
                    row.row,
                    'Kolom "kode" kosong. Isi kode unit (huruf besar, angka, tanda -).',
                )
            )
        else:
            if not CODE_RE.fullmatch(code):
                errors.append(
                    RowError(
                        row.row,
                        f'Kode "{code}" tidak sah. Gunakan 1-24 karakter: huruf A-Z, angka 0-9 '
                        "dan tanda -, diawali huruf atau angka, tanpa spasi.",
                    )
                )
            first = defined.get(code)
            if first is not None:
                errors.append(
                    RowError(
                        row.row,
                        f'Kode "{code}" sudah dipakai di baris {first.row} (kode ganda di baris '
                        f"{first.row} dan {row.row}). Beri setiap unit kode yang berbeda.",
                    )
                )
            else:
                defined[code] = row
        # Checked after the code so a row's messages follow the column order.
        name = _check_name(row, errors)
        timezone = _check_timezone(row, errors)
        if name is not None and timezone is not None and code:
            units.append(UnitRow(row.row, code, name, parent, timezone))

    for row in raw:
        _check_parent(row, defined, errors)
    return units


def _check_name(row: _RawRow, errors: list[RowError]) -> str | None:
    if "name" in row.reported:
        return None
    name = row.fields.get("name", "").strip()
    if not name:
        errors.append(RowError(row.row, 'Kolom "nama" kosong. Isi nama unit.'))
        return None
    if len(name) > MAX_NAME_CHARS:
        errors.append(
            RowError(
                row.row,
                f"Nama terlalu panjang ({len(name)} karakter). Singkat menjadi paling banyak "
                f"{MAX_NAME_CHARS} karakter.",
            )
        )
        return None
    # Names appear in Telegram messages and buttons: a tab or line break breaks the layout.
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in name):
        errors.append(
            RowError(
                row.row,
                "Nama mengandung karakter kontrol (misalnya tab atau ganti baris). "
                "Tulis nama dalam satu baris tanpa tab.",
            )
        )
        return None
    return name


def _check_timezone(row: _RawRow, errors: list[RowError]) -> str | None:
    if "timezone" in row.reported:
        return None
    given = row.fields.get("timezone", "").strip()
    if not given:
        return DEFAULT_TIMEZONE
    timezone = _TIMEZONE_LOOKUP.get(given.lower())
    if timezone is None:
        errors.append(
            RowError(
                row.row,
                f'Zona waktu "{given}" tidak dikenal. Isi WIB, WITA, WIT, atau salah satu dari: '
                f"{', '.join(TIMEZONES)}. Kosongkan untuk {DEFAULT_TIMEZONE}.",
            )
        )
    return timezone


def _check_parent(row: _RawRow, defined: dict[str, _RawRow], errors: list[RowError]) -> None:
    if "parent" in row.reported:
        return
    parent = row.fields.get("parent", "").strip().upper()
    if not parent:
        return
    code = row.fields.get("code", "").strip().upper()
    if parent == code:
        errors.append(
            RowError(
                row.row,
                'Unit tidak boleh menjadi induknya sendiri. Kosongkan kolom "induk" '
                "jika unit ini sebuah OPD.",
            )
        )
        return
    parent_row = defined.get(parent)
    if parent_row is None:
        errors.append(
            RowError(
                row.row,
                f'Induk "{parent}" tidak ditemukan di file ini. Tambahkan OPD dengan kode '
                f'"{parent}" atau perbaiki kode induknya.',
            )
        )
        return
    grandparent = parent_row.fields.get("parent", "").strip().upper()
    if grandparent:
        errors.append(
            RowError(
                row.row,
                f'Induk "{parent}" (baris {parent_row.row}) adalah unit kerja di bawah '
                f'"{grandparent}", bukan OPD. Roster hanya dua tingkat (OPD -> unit kerja): '
                "isi induk dengan kode OPD.",
            )
        )


# --- shared messages ----------------------------------------------------------------


def _too_big() -> RowError:
    limit_mb = MAX_FILE_BYTES // (1024 * 1024)
    return RowError(
        0, f"File lebih besar dari {limit_mb} MB. Hapus kolom atau lembar yang tidak perlu."
    )


def _too_many_rows() -> RowError:
    limit = f"{MAX_ROWS:,}".replace(",", ".")  # Indonesian thousands separator
    return RowError(
        0,
        f"File berisi lebih dari {limit} baris. Periksa apakah lembar pertama "
        "benar-benar daftar unit.",
    )


def _empty() -> RowError:
    return RowError(0, f"File kosong. Kirim daftar unit dalam format {_SUPPORTED}.")
