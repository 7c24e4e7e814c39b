"""`berakhlak instansi`: what HR's IT person types wrong gets one line saying what and how,
and nothing is stored; a token is stored encrypted and opened only with the same key."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app.cli import main
from bot.app.tenants import load_tenants, new_key
from bot.core.config import ConfigError, load_settings
from db.engine import Database
from db.queries.instansi import list_instansi
from db.tenancy import schema_of, tenant_url

DEFAULT_TOKEN = "7000000001:AAHsandbox-test-token_0123456789abc"
TOKEN = "7000000002:AAHsecond-bot-token_0123456789abcdef"


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    key = new_key()
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "DATABASE_URL": database_url,
        "VOTE_JOURNAL": str(tmp_path / "votes.jsonl"),
        "INSTANSI_KEY": key,
    }.items():
        monkeypatch.setenv(name, value)
    return key


def run(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = TOKEN + "\n") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["instansi", *args])


def stored(database_url: str) -> list[str]:
    db = Database(database_url, workers=1)
    try:
        return [row.code for row in db.run_sync(list_instansi)]
    finally:
        db.close()


ADD = ["add", "kab_blitar", "--name", "Pemerintah Kabupaten Blitar"]


@pytest.mark.parametrize(
    ("args", "stdin", "said"),
    [
        (["add", "Kab Blitar!", "--name", "X"], TOKEN, "2-30 of a-z, 0-9 and _"),
        (["add", "utama", "--name", "X"], TOKEN, "default instansi's"),
        (ADD, "not-a-token", "expected 123456789:ABC"),
        (ADD, "", "expected 123456789:ABC"),
        (ADD, DEFAULT_TOKEN, "already serves the default instansi"),
        ([*ADD, "--set", "DATABASE_URL=sqlite:///elsewhere"], TOKEN, "KEY one of"),
        ([*ADD, "--set", "DEFAULT_TIMEZONE=Mars/Olympus"], TOKEN, "unknown time zone"),
        (["add", "kab_blitar", "--name", "x" * 101], TOKEN, "INSTANSI_NAME"),
    ],
)
def test_a_wrong_add_says_what_and_stores_nothing(
    env: str, database_url: str, monkeypatch, capsys, args: list[str], stdin: str, said: str
) -> None:  # type: ignore[no-untyped-def]
    assert run(monkeypatch, *args, stdin=stdin + "\n") == 2
    error = capsys.readouterr().err
    assert said in error and TOKEN not in error
    assert stored(database_url) == []


def test_add_without_a_key_is_refused(env: str, database_url: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("INSTANSI_KEY")
    assert run(monkeypatch, *ADD) == 2
    assert "INSTANSI_KEY" in capsys.readouterr().err
    assert stored(database_url) == []


def test_add_list_disable_enable_and_the_key(
    env: str, database_url: str, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    assert run(monkeypatch, *ADD, "--superadmin", "42", "--set", "MIN_UNIT_SIZE=3") == 0
    out = capsys.readouterr().out
    assert "kab_blitar: added (bot 7000000002" in out and TOKEN not in out
    # The same code, or the same bot under another code: refused, the first one kept.
    assert run(monkeypatch, *ADD) == 1
    assert "the code kab_blitar is taken" in capsys.readouterr().err
    assert run(monkeypatch, "add", "kab_kediri", "--name", "Kabupaten Kediri") == 1
    assert "this bot already serves kab_blitar" in capsys.readouterr().err
    assert stored(database_url) == ["kab_blitar"]

    assert run(monkeypatch, "list") == 0
    listing = capsys.readouterr().out
    assert "utama" in listing and "kab_blitar" in listing and "enabled" in listing

    base = load_settings()
    registry = Database(database_url, workers=1)
    try:
        [default, blitar] = load_tenants(base, registry)
        assert (default.code, default.default) == ("utama", True)
        own = blitar.settings
        assert own.telegram_bot_token is not None
        assert own.telegram_bot_token.get_secret_value() == TOKEN
        assert (own.superadmin_ids, own.min_unit_size) == ([42], 3)
        assert own.instansi_name == "Pemerintah Kabupaten Blitar"
        assert own.database_url == tenant_url(database_url, "kab_blitar")
        assert own.vote_journal != base.vote_journal_path()
        if not database_url.startswith("sqlite"):
            assert schema_of(own.database_url) == "instansi_kab_blitar"

        assert run(monkeypatch, "disable", "kab_blitar") == 0
        assert [t.code for t in load_tenants(base, registry)] == ["utama"]
        assert run(monkeypatch, "enable", "kab_blitar") == 0
        assert [t.code for t in load_tenants(base, registry)] == ["utama", "kab_blitar"]
        assert run(monkeypatch, "disable", "kab_nowhere") == 1

        # Another key opens nothing, and says which instansi and why.
        other = base.model_copy(update={"instansi_key": SecretStr(new_key())})
        with pytest.raises(ConfigError, match="does not open the bot token of instansi kab_blitar"):
            load_tenants(other, registry)
    finally:
        registry.close()


def test_each_instansi_has_a_place_of_its_own() -> None:
    assert tenant_url("sqlite:///data/berakhlak.sqlite3", "kab_blitar") == (
        "sqlite:///data/berakhlak.kab_blitar.sqlite3"
    )
    pg = tenant_url("postgresql+psycopg://bot:p%40ss@db:5432/berakhlak?sslmode=require", "kota")
    assert schema_of(pg) == "instansi_kota"
    assert "p%40ss@db:5432/berakhlak" in pg and "sslmode=require" in pg
    assert schema_of("postgresql+psycopg://bot@db/berakhlak") is None
