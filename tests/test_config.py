import pytest

from bot.app.cli import main
from bot.core.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in ("TELEGRAM_BOT_TOKEN", "DATABASE_URL", "SUPERADMIN_IDS", "UPDATE_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the developer's work tree


def test_defaults_need_no_token() -> None:
    settings = load_settings()
    assert settings.telegram_bot_token is None
    assert settings.database_url.startswith("sqlite:///data/")
    assert settings.default_timezone == "Asia/Jakarta"


def test_superadmins_from_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERADMIN_IDS", "5000000001, 7000000002")
    assert load_settings().superadmin_ids == [5000000001, 7000000002]


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "TELEGRAM_BOT_TOKEN"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "DEFAULT_TIMEZONE"),
        ("SUPERADMIN_IDS", "abc", "SUPERADMIN_IDS"),
        ("WEBHOOK_PORT", "99999", "WEBHOOK_PORT"),
    ],
)
def test_malformed_setting_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_webhook_mode_needs_https_url_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDATE_MODE", "webhook")
    monkeypatch.setenv("WEBHOOK_URL", "http://example.org/hook")
    with pytest.raises(ConfigError, match="WEBHOOK_URL"):
        load_settings()


def test_run_without_token_stops_with_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "TELEGRAM_BOT_TOKEN" in err


def test_token_never_appears_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:short")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "123:short" not in str(caught.value)
