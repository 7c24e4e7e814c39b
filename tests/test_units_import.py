"""`berakhlak units import`: a real file into a real database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app.cli import main
from db.engine import Database
from db.models import Member, Unit
from db.queries.members import create_member

ROSTER = Path(__file__).resolve().parent.parent / "content" / "units" / "kota_kediri.csv"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Database:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    return Database(database_url)


def units(db: Database) -> dict[str, Unit]:
    return {u.code: u for u in db.run_sync(lambda session: session.exec(select(Unit)).all())}


def test_import_then_reimport_updates_by_code_and_keeps_members(
    env: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["units", "import", str(ROSTER)]) == 0
    assert "209 created" in capsys.readouterr().out
    before = units(env)
    sukorame = before["PKM-SUKORAME"]
    env.run_sync(
        create_member,
        telegram_user_id=5_000_000_001,
        chat_id=5_000_000_001,
        full_name="Budi",
        unit_id=sukorame.id,
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
    )
    # A new file: one unit renamed, and the member's unit left out altogether.
    lines = ROSTER.read_text("utf-8").splitlines()
    edited = [
        line.replace("Kelurahan Bandar Lor", "Kelurahan Bandar Lor (baru)")
        for line in lines
        if not line.startswith("PKM-SUKORAME,")
    ]
    second = tmp_path / "roster2.csv"
    second.write_text("\n".join(edited) + "\n", "utf-8")
    assert main(["units", "import", str(second)]) == 0
    out = capsys.readouterr().out
    assert "1 updated" in out and "PKM-SUKORAME" in out
    after = units(env)
    assert after["PKM-SUKORAME"].id == sukorame.id and after["PKM-SUKORAME"].active
    assert any(u.name == "Kelurahan Bandar Lor (baru)" for u in after.values())
    member = env.run_sync(lambda session: session.exec(select(Member)).one())
    assert member.unit_id == sukorame.id


def test_a_bad_row_imports_nothing(
    env: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,parent,timezone\nOPD1,Dinas Satu,,Asia/Jakarta\nU 1,Unit,OPD1,Mars/Base\n",
        "utf-8",
    )
    assert main(["units", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nothing imported" in err and "Baris 3" in err
    assert units(env) == {}
