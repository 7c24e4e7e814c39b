"""Tests for bot.members.roster: the shipped rosters and every validation rule."""

from __future__ import annotations

import pickle
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bot.members.roster import (
    MAX_FILE_BYTES,
    RosterError,
    RowError,
    UnitRow,
    parse_roster,
    parse_roster_bytes,
)

ROOT = Path(__file__).resolve().parent.parent
KEDIRI_YAML = ROOT / "content" / "units" / "kota_kediri.yaml"
KEDIRI_CSV = ROOT / "content" / "units" / "kota_kediri.csv"
MULTI_TZ_YAML = ROOT / "tests" / "data" / "units_multi_tz.yaml"

HEADER = "code,name,parent,timezone\n"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_xlsx(tmp_path: Path, rows: list[list[Any]], name: str = "units.xlsx") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row_number, values in enumerate(rows, start=1):
        for column_number, value in enumerate(values, start=1):
            if value is not None:
                sheet.cell(row=row_number, column=column_number, value=value)
    path = tmp_path / name
    workbook.save(path)
    return path


def errors_of(path: Path) -> list[RowError]:
    with pytest.raises(RosterError) as info:
        parse_roster(path)
    return info.value.errors


def only_error(path: Path) -> RowError:
    errors = errors_of(path)
    assert len(errors) == 1, errors
    return errors[0]


def content(units: list[UnitRow]) -> list[tuple[str, str, str | None, str]]:
    """What two formats of one roster must agree on (row numbers differ by format)."""
    return [(u.code, u.name, u.parent, u.timezone) for u in units]


# --- shipped rosters --------------------------------------------------------------


def test_kediri_yaml_and_csv_parse_and_agree() -> None:
    from_yaml = parse_roster(KEDIRI_YAML)
    from_csv = parse_roster(KEDIRI_CSV)
    assert content(from_yaml) == content(from_csv)
    # yaml rows count list items from 1; csv rows count the header as row 1.
    assert [u.row for u in from_yaml] == list(range(1, len(from_yaml) + 1))
    assert [u.row for u in from_csv] == list(range(2, len(from_csv) + 2))


def test_kediri_roster_counts_are_sane() -> None:
    units = parse_roster(KEDIRI_YAML)
    opds = {u.code: u for u in units if u.parent is None}
    children = Counter(u.parent for u in units if u.parent is not None)

    kecamatan = {code for code, u in opds.items() if u.name.startswith("Kecamatan ")}
    assert kecamatan == {"KEC-KOTA", "KEC-MOJOROTO", "KEC-PESANTREN"}

    kelurahan = [u for u in units if u.name.startswith("Kelurahan ")]
    assert len(kelurahan) == 46
    assert all(u.parent in kecamatan for u in kelurahan)
    per_kecamatan = Counter(u.parent for u in kelurahan)
    assert per_kecamatan == {"KEC-KOTA": 17, "KEC-MOJOROTO": 14, "KEC-PESANTREN": 15}
    for code in kecamatan:
        assert f"{code}-SEK" in {u.code for u in units if u.parent == code}

    puskesmas = [u for u in units if u.name.startswith("Puskesmas ")]
    assert len(puskesmas) == 9
    assert {u.parent for u in puskesmas} == {"DINKES"}

    assert 25 <= len(opds) <= 40
    assert all(children[code] >= 2 for code in opds), "every OPD has unit kerja"
    assert {u.timezone for u in units} == {"Asia/Jakarta"}
    assert len({u.name for u in units}) == len(units), "names are unique for the unit picker"


def test_multi_tz_roster() -> None:
    units = parse_roster(MULTI_TZ_YAML)
    assert sum(u.parent is None for u in units) == 2
    assert sum(u.parent is not None for u in units) == 5
    assert {u.timezone for u in units} == {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}


# --- accepted input ---------------------------------------------------------------


def test_csv_minimal_valid(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.csv",
        HEADER + "SETDA,Sekretariat Daerah,,Asia/Jakarta\nSETDA-ORG,Bagian Organisasi,SETDA,\n",
    )
    assert parse_roster(path) == [
        UnitRow(2, "SETDA", "Sekretariat Daerah", None, "Asia/Jakarta"),
        UnitRow(3, "SETDA-ORG", "Bagian Organisasi", "SETDA", "Asia/Jakarta"),
    ]


def test_indonesian_headers_case_and_whitespace_insensitive(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.csv",
        " Kode ,NAMA, Induk ,Zona Waktu\nopd,Dinas Contoh,,wita\nopd-a,Bidang A,opd,WIT\n",
    )
    assert parse_roster(path) == [
        UnitRow(2, "OPD", "Dinas Contoh", None, "Asia/Makassar"),
        UnitRow(3, "OPD-A", "Bidang A", "OPD", "Asia/Jayapura"),
    ]


def test_parent_column_is_optional_and_extra_columns_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "units.csv", "no,kode,nama,zona_waktu,keterangan\n1,A,Unit A,WIB,x\n")
    assert parse_roster(path) == [UnitRow(2, "A", "Unit A", None, "Asia/Jakarta")]


def test_code_and_name_are_normalised(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.csv",
        HEADER + "  setda  ,  Sekretariat Daerah  ,,\n setda-org ,Bagian Organisasi, Setda ,\n",
    )
    units = parse_roster(path)
    assert [(u.code, u.name, u.parent) for u in units] == [
        ("SETDA", "Sekretariat Daerah", None),
        ("SETDA-ORG", "Bagian Organisasi", "SETDA"),
    ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", "Asia/Jakarta"),
        ("Asia/Jakarta", "Asia/Jakarta"),
        ("Asia/Pontianak", "Asia/Pontianak"),
        ("asia/makassar", "Asia/Makassar"),
        ("Asia/Jayapura", "Asia/Jayapura"),
        ("WIB", "Asia/Jakarta"),
        ("wita", "Asia/Makassar"),
        (" WIT ", "Asia/Jayapura"),
    ],
)
def test_timezones_accepted(tmp_path: Path, given: str, expected: str) -> None:
    path = write(tmp_path, "units.csv", HEADER + f"A,Unit A,,{given}\n")
    assert parse_roster(path)[0].timezone == expected


def test_parent_may_be_defined_later_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "units.csv", HEADER + "A-1,Bidang,A,\nA,Dinas,,\n")
    assert [u.code for u in parse_roster(path)] == ["A-1", "A"]


def test_name_of_exactly_100_chars_and_24_char_code(tmp_path: Path) -> None:
    code, name = "A" * 24, "N" * 100
    path = write(tmp_path, "units.csv", HEADER + f"{code},{name},,\n")
    assert parse_roster(path)[0] == UnitRow(2, code, name, None, "Asia/Jakarta")


def test_csv_with_bom_and_semicolons_and_crlf(tmp_path: Path) -> None:
    # What Excel with Indonesian regional settings writes.
    text = "kode;nama;induk;zona_waktu\r\nA;Dinas A, Bagian Umum;;WIB\r\n"
    path = write(tmp_path, "units.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert parse_roster(path) == [UnitRow(2, "A", "Dinas A, Bagian Umum", None, "Asia/Jakarta")]


def test_suffix_is_case_insensitive() -> None:
    data = (HEADER + "A,Unit A,,\n").encode()
    assert parse_roster_bytes(data, "ROSTER.CSV")[0].code == "A"


def test_yaml_bare_list_and_mapping(tmp_path: Path) -> None:
    bare = write(
        tmp_path,
        "bare.yml",
        "- code: A\n  name: Dinas A\n- kode: A-1\n  nama: Bidang\n  induk: A\n  zona_waktu: WITA\n",
    )
    mapping = write(
        tmp_path,
        "mapping.yaml",
        "instansi: Contoh\nunits:\n  - code: A\n    name: Dinas A\n    timezone: Asia/Jakarta\n",
    )
    assert parse_roster(bare) == [
        UnitRow(1, "A", "Dinas A", None, "Asia/Jakarta"),
        UnitRow(2, "A-1", "Bidang", "A", "Asia/Makassar"),
    ]
    assert parse_roster(mapping) == [UnitRow(1, "A", "Dinas A", None, "Asia/Jakarta")]


def test_yaml_integer_code_is_text(tmp_path: Path) -> None:
    path = write(tmp_path, "units.yaml", "- code: 101\n  name: Unit 101\n")
    assert parse_roster(path)[0].code == "101"


def test_xlsx_valid_with_numbers_and_blank_row(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [
            ["Kode", "Nama", "Induk", "Zona Waktu"],
            ["A", "Dinas A", None, "WIB"],
            [None, None, None, None],
            [7, "Unit Tujuh", "a", None],
        ],
    )
    assert parse_roster(path) == [
        UnitRow(2, "A", "Dinas A", None, "Asia/Jakarta"),
        UnitRow(4, "7", "Unit Tujuh", "A", "Asia/Jakarta"),
    ]


def test_xlsx_reads_only_the_first_sheet(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.append(["code", "name", "timezone"])
    first.append(["A", "Unit A", "WIB"])
    other = workbook.create_sheet("Catatan")
    other.append(["bukan", "daftar", "unit"])
    path = tmp_path / "units.xlsx"
    workbook.save(path)
    assert [u.code for u in parse_roster(path)] == ["A"]


# --- rejected input: file level ---------------------------------------------------


@pytest.mark.parametrize("name", ["units.txt", "units.xls", "units.ods", "units"])
def test_unsupported_file_type(tmp_path: Path, name: str) -> None:
    error = only_error(write(tmp_path, name, HEADER + "A,Unit A,,\n"))
    assert error.row == 0
    assert ".csv" in error.message and ".xlsx" in error.message


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("units.csv", b""),
        ("units.csv", b"\xef\xbb\xbf"),
        ("units.csv", b"\n\n  \n"),
        ("units.yaml", b""),
        ("units.yaml", b"# hanya komentar\n"),
        ("units.xlsx", b""),
    ],
)
def test_empty_file(tmp_path: Path, name: str, data: bytes) -> None:
    error = only_error(write(tmp_path, name, data))
    assert error.row == 0
    assert "kosong" in error.message


def test_empty_xlsx_sheet(tmp_path: Path) -> None:
    error = only_error(write_xlsx(tmp_path, []))
    assert error.row == 0
    assert "kosong" in error.message


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("units.csv", HEADER.encode()),
        ("units.csv", (HEADER + ",,,\n\n").encode()),
        ("units.yaml", b"units: []\n"),
    ],
)
def test_header_only_has_no_units(tmp_path: Path, name: str, data: bytes) -> None:
    error = only_error(write(tmp_path, name, data))
    assert error.row == 0
    assert "tidak berisi unit" in error.message


def test_file_over_5_mb(tmp_path: Path) -> None:
    line = "A,Unit A,,\n"
    data = (HEADER + line * (MAX_FILE_BYTES // len(line) + 1)).encode()
    assert len(data) > MAX_FILE_BYTES
    error = only_error(write(tmp_path, "big.csv", data))
    assert error.row == 0
    assert "5 MB" in error.message
    with pytest.raises(RosterError, match="5 MB"):
        parse_roster_bytes(data, "big.csv")


def test_unreadable_paths(tmp_path: Path) -> None:
    missing = only_error(tmp_path / "tidak-ada.csv")
    assert missing.row == 0
    assert "tidak dapat dibaca" in missing.message
    directory = tmp_path / "folder.csv"
    directory.mkdir()
    assert "tidak dapat dibaca" in only_error(directory).message


def test_csv_not_utf8(tmp_path: Path) -> None:
    data = (HEADER + "A,Kantor Café,,\n").encode("cp1252")
    error = only_error(write(tmp_path, "units.csv", data))
    assert error.row == 0
    assert "UTF-8" in error.message


def test_csv_with_nul_byte_in_a_name(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "units.csv", (HEADER + "A,Un\x00it,,\n").encode()))
    assert error.row == 2
    assert "karakter kontrol" in error.message


def test_csv_the_csv_module_cannot_read(tmp_path: Path) -> None:
    # A cell past the csv module's field size limit (128 KiB) is a broken export.
    data = (HEADER + "A," + "x" * 200_000 + ",,\n").encode()
    error = only_error(write(tmp_path, "units.csv", data))
    assert error.row == 0
    assert "rusak" in error.message


def test_xlsx_that_is_a_renamed_text_file(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "units.xlsx", HEADER + "A,Unit A,,\n"))
    assert error.row == 0
    assert "lembar kerja" in error.message


def test_xlsx_that_is_a_zip_but_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "units.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "bukan excel")
    error = only_error(path)
    assert error.row == 0
    assert "lembar kerja" in error.message


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("name,parent,timezone", "kode"),
        ("kode,induk,zona_waktu", "nama"),
        ("code,name,parent", "zona_waktu"),
    ],
)
def test_missing_column_is_named(tmp_path: Path, header: str, missing: str) -> None:
    error = only_error(write(tmp_path, "units.csv", header + "\nA,B,C\n"))
    assert error.row == 1
    assert f'"{missing}"' in error.message


def test_all_missing_columns_reported_for_xlsx(tmp_path: Path) -> None:
    errors = errors_of(write_xlsx(tmp_path, [["unit", "keterangan"], ["A", "x"]]))
    assert [e.row for e in errors] == [1, 1, 1]
    assert all(any(f'"{c}"' in e.message for e in errors) for c in ("kode", "nama", "zona_waktu"))


def test_duplicate_column(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "units.csv", "code,kode,name,timezone\nA,A,Unit,\n"))
    assert error.row == 1
    assert "lebih dari sekali" in error.message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "units.yaml", "units:\n  - code: A\n   name: [x\n"))
    assert error.row == 0
    assert "YAML" in error.message


@pytest.mark.parametrize(
    "text",
    ["instansi: Contoh\n", "units: A\n", "just a string\n"],
)
def test_yaml_wrong_shape(tmp_path: Path, text: str) -> None:
    error = only_error(write(tmp_path, "units.yaml", text))
    assert error.row == 0
    assert "units" in error.message


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = write(tmp_path, "units.yaml", "- !!python/object/apply:os.system ['true']\n")
    assert errors_of(path)[0].row == 0


# --- rejected input: row level ----------------------------------------------------


def test_empty_code(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "units.csv", HEADER + "A,Unit A,,\n  ,Unit B,,\n"))
    assert error == RowError(3, 'Kolom "kode" kosong. Isi kode unit (huruf besar, angka, tanda -).')


@pytest.mark.parametrize("code", ["SETDA ORG", "-SETDA", "A" * 25, "DINAS_A", "ÄBC", "A.B"])
def test_invalid_code(tmp_path: Path, code: str) -> None:
    error = only_error(write(tmp_path, "units.csv", HEADER + f"{code},Unit,,\n"))
    assert error.row == 2
    assert "tidak sah" in error.message


def test_duplicate_code_names_both_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "units.csv", HEADER + "A,Unit A,,\nB,Unit B,,\na,Unit A lagi,,\n")
    error = only_error(path)
    assert error.row == 4
    assert "baris 2" in error.message and "4" in error.message


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("   ", '"nama" kosong'),
        ("N" * 101, "terlalu panjang (101 karakter)"),
        ('"Bagian\nUmum"', "karakter kontrol"),
        ('"Bagian\tUmum"', "karakter kontrol"),
        ("Bagian\x07Umum", "karakter kontrol"),
    ],
)
def test_invalid_name(tmp_path: Path, name: str, fragment: str) -> None:
    error = only_error(write(tmp_path, "units.csv", HEADER + f"A,{name},,\n"))
    assert error.row == 2
    assert fragment in error.message


@pytest.mark.parametrize("timezone", ["Asia/Tokyo", "UTC+7", "Jakarta", "GMT"])
def test_invalid_timezone(tmp_path: Path, timezone: str) -> None:
    error = only_error(write(tmp_path, "units.csv", HEADER + f"A,Unit A,,{timezone}\n"))
    assert error.row == 2
    assert f'"{timezone}" tidak dikenal' in error.message


def test_parent_not_in_file(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "units.csv", HEADER + "A,Dinas A,,\nA-1,Bidang,X,\n"))
    assert error.row == 3
    assert 'Induk "X" tidak ditemukan' in error.message


def test_parent_must_be_top_level(tmp_path: Path) -> None:
    path = write(tmp_path, "units.csv", HEADER + "A,Dinas,,\nA-1,Bidang,A,\nA-1-X,Seksi,A-1,\n")
    error = only_error(path)
    assert error.row == 4
    assert "baris 3" in error.message and "dua tingkat" in error.message


def test_unit_cannot_be_its_own_parent(tmp_path: Path) -> None:
    error = only_error(write(tmp_path, "units.csv", HEADER + "A,Dinas,a,\n"))
    assert error.row == 2
    assert "induknya sendiri" in error.message


def test_yaml_item_problems(tmp_path: Path) -> None:
    text = (
        "units:\n"
        "  - code: A\n    name: Dinas A\n"  # 1: fine
        "  -\n"  # 2: empty entry, skipped
        "  - just text\n"  # 3: not a mapping
        "  - code: ON\n    name: Unit On\n"  # 4: YAML reads ON as a boolean
        "  - code: B\n    name: Unit B\n    timzone: WITA\n"  # 5: typo in a key
        "  - code: C\n    name: Unit C\n    parent: Z\n"  # 6: unknown parent
    )
    errors = errors_of(write(tmp_path, "units.yaml", text))
    assert [e.row for e in errors] == [3, 4, 5, 6]
    assert "pasangan kunci" in errors[0].message
    assert "tanda kutip" in errors[1].message
    assert '"timzone" tidak dikenal' in errors[2].message
    assert 'Induk "Z"' in errors[3].message


def test_every_error_is_collected_with_the_right_row(tmp_path: Path) -> None:
    text = (
        HEADER
        + "A,Dinas A,,\n"  # row 2
        + "\n"  # row 3: blank, skipped but still counted
        + ",,,\n"  # row 4: blank cells, skipped
        + "bad code,Unit,,\n"  # row 5
        + "A,Dinas A lagi,,WITA\n"  # row 6
        + "B,,,Asia/Tokyo\n"  # row 7: two problems
        + "C,Unit C,Q,\n"  # row 8
    )
    with pytest.raises(RosterError) as info:
        parse_roster(write(tmp_path, "units.csv", text))
    errors = info.value.errors
    assert [e.row for e in errors] == [5, 6, 7, 7, 8]
    lines = str(info.value).splitlines()
    assert len(lines) == 5
    assert lines[0].startswith("Baris 5: ")
    assert lines[2].startswith('Baris 7: Kolom "nama" kosong')
    assert lines[3].startswith("Baris 7: Zona waktu")


def test_row_numbers_in_xlsx_count_blank_rows(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [
            ["code", "name", "parent", "timezone"],
            ["A", "Dinas A", None, None],
            [],
            [None, "  ", None, None],
            ["A-1", "Bidang", "NOPE", None],
        ],
    )
    error = only_error(path)
    assert error.row == 5


def test_multiline_csv_cell_keeps_record_numbering(tmp_path: Path) -> None:
    # A quoted cell spanning two text lines is still one spreadsheet row.
    text = HEADER + '"A","Dinas\nA",,\nB,Unit B,,Mars\n'
    errors = errors_of(write(tmp_path, "units.csv", text))
    assert [e.row for e in errors] == [2, 3]


def test_roster_error_str_and_pickle() -> None:
    error = RosterError([RowError(7, "b"), RowError(0, "a")])
    assert str(error) == "a\nBaris 7: b"
    clone = pickle.loads(pickle.dumps(error))
    assert clone.errors == error.errors
