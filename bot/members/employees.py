"""Parse HR's employee list (NIP, name, unit code) from a .csv or .xlsx, as the personnel
system (SIMPEG, SIASN) exports it.

Pure: no database and no Telegram. Read like the unit roster (`bot/members/tables.py`):
every problem of the file at once, by row, so HR imports all rows or none. That each
unit code is in the roster is checked against the database by `check_units`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.members import tables
from bot.members.names import check_name
from bot.members.nip import NipProblem, check_nip
from bot.members.roster import CODE_RE
from bot.members.tables import RowError

_SUPPORTED = ".csv atau .xlsx"
_E_NOTATION = re.compile(r"[\d.,]+[eE][+-]?\d+")
# What exports call the columns: "NIP", "NIP Baru", "Nama", "Nama Pegawai", "Kode Unit"...
_ALIASES: dict[str, str] = {
    "nip": "nip",
    "nip_baru": "nip",
    "nip_pegawai": "nip",
    "name": "name",
    "nama": "name",
    "nama_pegawai": "name",
    "nama_lengkap": "name",
    "nama_asn": "name",
    "unit_code": "unit",
    "kode_unit": "unit",
    "kode_unit_kerja": "unit",
    "kode_unor": "unit",
    "unit": "unit",
}
_LABELS = {"nip": "NIP", "name": "nama", "unit": "kode unit"}
COLUMNS = tables.Columns(
    aliases=_ALIASES,
    labels=_LABELS,
    required=("nip", "name", "unit"),
    noun="daftar pegawai",
    formats=_SUPPORTED,
)

_NIP_PROBLEMS = {
    NipProblem.NOT_DIGITS: "hanya boleh berisi angka",
    NipProblem.LENGTH: "harus 18 angka",
    NipProblem.BIRTH_DATE: "8 angka pertamanya bukan tanggal lahir yang mungkin",
    NipProblem.SEX_DIGIT: "angka ke-15 harus 1 atau 2",
    NipProblem.APPOINTMENT: "tahun pengangkatannya (angka 9-12) tidak mungkin",
}


class EmployeeListError(tables.RowErrors):
    """Every problem found in an employee list, in row order."""


@dataclass(frozen=True)
class EmployeeRow:
    row: int
    nip: str
    name: str
    unit_code: str


@dataclass(frozen=True)
class UnitState:
    """What the roster says about a unit code the list names."""

    active: bool
    has_children: bool


def parse_employees(path: Path, *, today: date) -> list[EmployeeRow]:
    """Read and validate an employee list; raise ``EmployeeListError`` listing every problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        shown = f'"{suffix}"' if suffix else "tanpa akhiran"
        raise EmployeeListError(
            [
                RowError(
                    0,
                    f"Jenis file {shown} tidak didukung. Kirim file {_SUPPORTED}. "
                    "File .xls atau .ods: buka lalu simpan ulang sebagai .xlsx.",
                )
            ]
        )
    try:
        if path.stat().st_size > tables.MAX_FILE_BYTES:
            raise EmployeeListError([tables.too_big()])
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise EmployeeListError(
            [RowError(0, f'File "{path.name}" tidak dapat dibaca ({reason}).')]
        ) from exc
    return parse_employees_bytes(data, suffix, today=today)


def parse_employees_bytes(data: bytes, suffix: str, *, today: date) -> list[EmployeeRow]:
    if not data.strip():
        raise EmployeeListError([tables.empty(COLUMNS)])
    errors: list[RowError] = []
    if suffix == ".csv":
        raw = tables.rows_from_csv(data, errors, COLUMNS)
    else:
        raw = tables.rows_from_xlsx(data, errors, COLUMNS)
    if raw is None:
        raise EmployeeListError(errors)
    if not raw:
        raise EmployeeListError(
            [RowError(0, "File tidak berisi pegawai. Tambahkan baris di bawah baris judul.")]
        )
    rows: list[EmployeeRow] = []
    first_row: dict[str, int] = {}
    for row in raw:
        nip = _check_nip(row, errors, today)
        if nip is not None:
            if nip in first_row:
                errors.append(
                    RowError(
                        row.row,
                        f"NIP yang sama sudah ada di baris {first_row[nip]}. "
                        "Satu NIP hanya boleh satu baris.",
                    )
                )
                nip = None
            else:
                first_row[nip] = row.row
        name = _check_name(row, errors)
        unit = row.fields.get("unit", "").strip().upper()
        if not unit:
            errors.append(RowError(row.row, 'Kolom "kode unit" kosong. Isi kode unit kerja.'))
        elif not CODE_RE.fullmatch(unit):
            errors.append(
                RowError(
                    row.row,
                    f'Kode unit "{unit}" tidak sah: pakai kode dari roster unit '
                    "(huruf A-Z, angka 0-9 dan tanda -, tanpa spasi).",
                )
            )
            unit = ""
        if nip is not None and name is not None and unit:
            rows.append(EmployeeRow(row.row, nip, name, unit))
    if errors:
        raise EmployeeListError(errors)
    return rows


def _check_nip(row: tables.RawRow, errors: list[RowError], today: date) -> str | None:
    text = row.fields.get("nip", "").strip().lstrip("'")
    if not text:
        errors.append(RowError(row.row, 'Kolom "NIP" kosong. Isi NIP 18 angka.'))
        return None
    if _E_NOTATION.fullmatch(text):
        # 1.98609262015051E+17: Excel kept the NIP as a number and rounded its last digits.
        errors.append(
            RowError(
                row.row,
                f'NIP "{text}" tersimpan sebagai angka sehingga angka terakhirnya hilang. '
                "Format kolom NIP sebagai Teks di Excel, isi ulang NIP-nya, lalu impor lagi.",
            )
        )
        return None
    check = check_nip(text, today=today)
    if check.nip is None:
        assert check.problem is not None
        errors.append(RowError(row.row, f'NIP "{text}" tidak sah: {_NIP_PROBLEMS[check.problem]}.'))
    return check.nip


def _check_name(row: tables.RawRow, errors: list[RowError]) -> str | None:
    text = row.fields.get("name", "")
    if not text.strip():
        errors.append(RowError(row.row, 'Kolom "nama" kosong. Isi nama pegawai.'))
        return None
    result = check_name(text)
    if result.name is None:
        errors.append(
            RowError(
                row.row,
                "Nama tidak dapat dipakai (paling banyak 100 karakter, tanpa angka atau "
                "simbol selain titik, koma, tanda petik dan tanda hubung).",
            )
        )
    return result.name


def check_units(rows: list[EmployeeRow], units: Mapping[str, UnitState]) -> list[RowError]:
    """Each row's unit code must be a unit members can belong to: in the roster, active,
    and a unit kerja (or an OPD without any), as registration asks for."""
    errors: list[RowError] = []
    for row in rows:
        state = units.get(row.unit_code)
        if state is None or not state.active:
            errors.append(
                RowError(
                    row.row,
                    f'Kode unit "{row.unit_code}" tidak ada di roster unit. Perbaiki kodenya, '
                    "atau impor roster unit dulu (berakhlak units import).",
                )
            )
        elif state.has_children:
            errors.append(
                RowError(
                    row.row,
                    f'Kode unit "{row.unit_code}" adalah OPD yang memiliki unit kerja. '
                    "Isi kode unit kerja tempat pegawai ini bekerja.",
                )
            )
    return errors
