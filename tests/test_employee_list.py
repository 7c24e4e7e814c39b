"""The employee list: name matching, `berakhlak pegawai import` with real files into a real
database (good, broken, and dangerous ones), and one NIP per account in the database."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.app.cli import main
from bot.members.names import name_key, same_person
from db.engine import Database
from db.migrate import alembic_config, upgrade
from db.models import Employee, Member
from db.queries.members import NipTaken, create_member

ROSTER = Path(__file__).resolve().parent.parent / "content" / "units" / "kota_kediri.csv"
BUDI = "198609262015051001"
SARI = "199001152015032002"


@pytest.mark.parametrize(
    ("typed", "listed"),
    [
        ("Budi Santoso", "Dr. Budi Santoso, S.Kom."),
        ("budi  SANTOSO", "BUDI SANTOSO"),
        ("Siti Nuraini", "Hj. Siti Nur'aini, S.E., M.M."),
        ("Siti Nur Aini S.Kom", "Siti Nuraini"),
        ("Drs. H. Ahmad Fauzi, M.Si.", "Ahmad Fauzi"),
        ("Ahmad Fauzi SE MM", "H. Ahmad Fauzi"),
        ("Dewi Lestari-Putri", "Dewi Lestari Putri, A.Md.Kep."),
        ("José Ramos", "Jose Ramos"),
    ],
)
def test_titles_case_and_spacing_do_not_matter(typed: str, listed: str) -> None:
    assert same_person(typed, listed)


@pytest.mark.parametrize(
    ("typed", "listed"),
    [
        ("Budi Santoso", "Budi Susanto"),
        ("Budi", "Budi Santoso"),
        ("Dr.", "Dr. Budi"),  # nothing but a title is nobody
        ("M. Rizki", "Rizki"),  # an abbreviated given name is a name, not a title
    ],
)
def test_other_names_do_not_match(typed: str, listed: str) -> None:
    assert not same_person(typed, listed)


def test_name_key_drops_only_titles() -> None:
    assert name_key("Prof. Dr. Ir. Joko Widodo, M.T., Ph.D.") == "jokowidodo"
    assert name_key("  ") == ""


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Database:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    db = Database(database_url)
    assert main(["units", "import", str(ROSTER)]) == 0
    return db


def employees(db: Database) -> dict[str, Employee]:
    return {e.nip: e for e in db.run_sync(lambda session: session.exec(select(Employee)).all())}


def xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_a_personnel_export_is_imported_then_replaced(
    env: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As Excel with Indonesian settings saves it: semicolons, spaced NIPs, other headings.
    first = tmp_path / "pegawai.csv"
    first.write_text(
        "No;NIP;Nama;Kode Unit;Jabatan\n"
        f"1;19860926 201505 1 001;Dr. Budi Santoso, S.Kom.;pkm-sukorame;Dokter\n"
        f"2;{SARI};Hj. Sari Wulandari, S.E.;KEL-BANDAR-LOR;Lurah\n",
        "utf-8-sig",
    )
    assert main(["pegawai", "import", str(first)]) == 0
    assert "2 added" in capsys.readouterr().out
    listed = employees(env)
    assert listed[BUDI].unit_code == "PKM-SUKORAME"
    assert listed[SARI].full_name == "Hj. Sari Wulandari, S.E."
    # The next export: Sari moved, Budi left; an .xlsx with the NIP as text.
    second = xlsx(
        tmp_path / "pegawai.xlsx",
        [["NIP Baru", "Nama Pegawai", "Kode Unit Kerja"], [SARI, "Sari Wulandari", "PKM-SUKORAME"]],
    )
    assert main(["pegawai", "import", str(second)]) == 0
    out = capsys.readouterr().out
    assert "0 added, 1 updated" in out and "1 removed" in out
    assert list(employees(env)) == [SARI]
    assert employees(env)[SARI].unit_code == "PKM-SUKORAME"


def test_a_broken_list_is_reported_row_by_row_and_nothing_is_imported(
    env: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = xlsx(
        tmp_path / "rusak.xlsx",
        [
            ["NIP", "Nama", "Kode Unit"],
            [BUDI, "Budi Santoso", "PKM-SUKORAME"],
            [1.98609262015051e17, "Excel Angka", "PKM-SUKORAME"],  # a NIP typed as a number
            [BUDI, "Budi Kembar", "PKM-SUKORAME"],
            ["12345", "NIP Pendek", "PKM-SUKORAME"],
            [SARI, "", "PKM-SUKORAME"],
            ["199505052020012003", "Rina", "kode salah!"],
            [],
            ["199505052020012004", "Dewi", ""],
        ],
    )
    assert main(["pegawai", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "Baris 3: NIP" in err and "tersimpan sebagai angka" in err
    assert "Baris 4: NIP yang sama sudah ada di baris 2" in err
    assert "Baris 5: NIP" in err and "harus 18 angka" in err
    assert 'Baris 6: Kolom "nama" kosong' in err
    assert "Baris 7: Kode unit" in err
    assert 'Baris 9: Kolom "kode unit" kosong' in err
    assert employees(env) == {}
    # Sound rows whose unit is not a unit kerja of the roster: refused too.
    units = tmp_path / "unit.csv"
    units.write_text(f"nip,nama,kode_unit\n{BUDI},Budi,TIDAK-ADA\n{SARI},Sari,DINKES\n", "utf-8")
    assert main(["pegawai", "import", str(units)]) == 1
    err = capsys.readouterr().err
    assert 'Baris 2: Kode unit "TIDAK-ADA" tidak ada di roster unit' in err
    assert 'Baris 3: Kode unit "DINKES" adalah OPD yang memiliki unit kerja' in err
    assert employees(env) == {}


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("a.xlsx", b"PK\x03\x04 not really a zip", "bukan .xlsx yang valid"),
        ("a.csv", b"\xff\xfe\x00N\x00I\x00P", "tidak berenkode UTF-8"),
        ("a.csv", b"Nama,Unit\nBudi,X\n", 'tidak memuat kolom "NIP"'),
        ("a.xls", b"whatever", "tidak didukung"),
        ("a.csv", b"", "File kosong"),
    ],
)
def test_unreadable_files_are_refused(
    env: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes,
    words: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["pegawai", "import", str(path)]) == 1
    assert words in capsys.readouterr().err
    assert employees(env) == {}


def _member(db: Database, user: int, nip: str | None) -> None:
    db.run_sync(
        create_member,
        telegram_user_id=user,
        chat_id=user,
        full_name="Budi",
        unit_id=None,
        nip=nip,
        language="id",
        consent_at=datetime.now(UTC),
    )


def test_the_database_itself_keeps_one_nip_per_account(db: Database) -> None:
    _member(db, 1, BUDI)
    with pytest.raises(NipTaken):
        _member(db, 2, BUDI)
    _member(db, 3, None)  # any number of members without a NIP
    _member(db, 4, None)
    nips = db.run_sync(lambda session: [m.nip for m in session.exec(select(Member)).all()])
    assert sorted(nips, key=str) == [BUDI, None, None]


def test_0014_keeps_the_first_of_duplicate_nips(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    command.upgrade(alembic_config(url), "0013")
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            for user, nip in ((1, BUDI), (2, BUDI), (3, SARI), (4, BUDI), (5, None)):
                conn.execute(
                    text(
                        "INSERT INTO member (telegram_user_id, chat_id, full_name, nip, role,"
                        " language, reachable, show_name, created_at, updated_at) VALUES"
                        " (:u, :u, 'X', :nip, 'member', 'id', true, false, CURRENT_TIMESTAMP,"
                        " CURRENT_TIMESTAMP)"
                    ),
                    {"u": user, "nip": nip},
                )
        with caplog.at_level(logging.WARNING):
            upgrade(url)
        assert "2 later account(s) shared a NIP" in caplog.text
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT telegram_user_id, nip FROM member ORDER BY 1")).all()
        assert [tuple(r) for r in rows] == [(1, BUDI), (2, None), (3, SARI), (4, None), (5, None)]
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(
                text("UPDATE member SET nip = :nip WHERE telegram_user_id = 2"), {"nip": BUDI}
            )
    finally:
        db.close()
