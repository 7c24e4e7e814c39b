"""Parse a roster of OPD and unit kerja from a CSV, XLSX or YAML file.

Pure: no database and no Telegram. Every problem in a file is collected and
raised together as one ``RosterError``, so a caller imports all rows or none and
the admin can fix the whole file in one go. Messages are Indonesian because the
admin (BKPSDM) reads them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.members import tables
from bot.members.tables import MAX_FILE_BYTES as MAX_FILE_BYTES
from bot.members.tables import MAX_ROWS as MAX_ROWS
from bot.members.tables import RawRow as _RawRow
from bot.members.tables import RowError as RowError
from bot.members.tables import normalise_key as _normalise_key

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
COLUMNS = tables.Columns(
    aliases=_COLUMN_ALIASES,
    labels=_LABELS,
    required=_REQUIRED_COLUMNS,
    noun="daftar unit",
    formats=_SUPPORTED,
)


@dataclass(frozen=True)
class UnitRow:
    """One valid unit; ``parent`` is None for an OPD."""

    row: int  # as the user sees it: header = row 1 for csv/xlsx; list index + 1 for yaml
    code: str
    name: str
    parent: str | None
    timezone: str


class RosterError(tables.RowErrors):
    """Every problem found in a roster file, in row order."""


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
        raw = tables.rows_from_csv(data, errors, COLUMNS)
    elif kind == "xlsx":
        raw = tables.rows_from_xlsx(data, errors, COLUMNS)
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
    return tables.too_big()


def _empty() -> RowError:
    return tables.empty(COLUMNS)
