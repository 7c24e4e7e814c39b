"""Settings from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
INDONESIAN_ZONES = ("Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura")
DEFAULT_DATABASE_URL = "sqlite:///data/berakhlak.sqlite3"
# An instansi's code names its PostgreSQL schema or SQLite file: short, lower case, no dots.
INSTANSI_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,29}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # `.env.example` copied as it is leaves WEBHOOK_URL= and the like empty: unset.
        env_ignore_empty=True,
    )

    telegram_bot_token: SecretStr | None = None
    bot_api_base_url: str = "https://api.telegram.org/bot"
    bot_api_file_url: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    default_timezone: str = "Asia/Jakarta"
    superadmin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    update_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    # Largest webhook request body read; Telegram's updates are a few kB, and an
    # unauthenticated sender must not make the bot read megabytes before the 403.
    webhook_max_body: int = Field(default=1024 * 1024, ge=64 * 1024, le=50 * 1024 * 1024)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Where quiz votes wait on local disk between Telegram and their commit (README
    # "Votes"): by default beside a SQLite database, else data/votes.jsonl.
    vote_journal: Path | None = None
    # Delivery engine: Telegram's limits, and how many requests may be in flight.
    send_per_second: float = Field(default=30.0, gt=0, le=30)
    paid_broadcast: bool = False
    paid_per_second: float = Field(default=1000.0, gt=0, le=1000)
    private_interval: float = Field(default=1.0, ge=1.0)
    group_per_minute: int = Field(default=20, ge=1, le=20)
    max_in_flight: int = Field(default=16, ge=1, le=100)
    # How long rows wait while Telegram is unreachable before they fail (the report then
    # says so); and how long a send's answer may take before it counts as "may have arrived".
    send_outage_limit: float = Field(default=1800.0, ge=1, le=7 * 24 * 3600)
    send_read_timeout: float = Field(default=30.0, gt=0, le=300)
    # Programme: how late a send missed while the bot was down may still go out.
    programme_grace_minutes: int = Field(default=120, ge=0, le=24 * 60)
    # Seeds question choice, so a round can be reproduced.
    quiz_seed: str = "berakhlak"
    # Points (see README "Scoring").
    points_correct: int = Field(default=10, ge=0, le=1000)
    points_answered: int = Field(default=2, ge=0, le=1000)
    points_reflection: int = Field(default=5, ge=0, le=1000)
    points_streak_bonus: int = Field(default=5, ge=0, le=1000)
    streak_every: int = Field(default=5, ge=1, le=100)
    shields_per_month: int = Field(default=3, ge=0, le=31)
    # Leaderboards: units smaller than this are never ranked alone; the prior is how many
    # average members every team is imagined to have (the shrinkage toward the mean).
    min_unit_size: int = Field(default=5, ge=1, le=1000)
    ranking_prior: int = Field(default=10, ge=0, le=10_000)
    # Where the weekly all-instansi summary goes (a group or channel id); none if unset.
    summary_chat_id: int | None = None
    # The instansi's public channel for approved service stories (/cerita); none if unset.
    public_channel_id: int | None = None
    # Seconds between two /peringkat answers in one chat.
    ranking_cooldown: int = Field(default=60, ge=0, le=3600)
    # Floods: how many of one person's updates may wait their turn (the rest are dropped with
    # one notice), and how often one person may ask for something costly (README "Floods").
    queued_updates_per_person: int = Field(default=20, ge=1, le=1000)
    score_per_minute: int = Field(default=3, ge=1, le=600)
    practice_per_minute: int = Field(default=6, ge=1, le=600)
    reflections_per_minute: int = Field(default=6, ge=1, le=600)
    refused_per_minute: int = Field(default=10, ge=1, le=600)
    # Seconds an update (a vote, a message, a button) waits for an unavailable database
    # before it is given up: the person then gets the usual error.
    db_outage_wait: int = Field(default=1800, ge=1, le=24 * 3600)

    # Privacy (UU 27/2022): who controls the data, named in the consent text, and how long
    # each kind is kept before the daily retention job removes it.
    instansi_name: str = Field(default="Pemerintah Kota Kediri", min_length=1, max_length=100)
    # Many instansi (README "Many instansi"): the code of the one this .env describes, and
    # the key that encrypts the other instansi's bot tokens in the database.
    instansi_code: str = Field(default="utama", pattern=INSTANSI_CODE_RE.pattern)
    instansi_key: SecretStr | None = None
    data_controller: str = Field(default="BKPSDM Kota Kediri", min_length=1, max_length=100)
    retention_answers_days: int = Field(default=730, ge=30, le=36500)
    retention_audit_days: int = Field(default=1825, ge=30, le=36500)
    retention_delivery_days: int = Field(default=90, ge=1, le=36500)
    draft_expiry_days: int = Field(default=7, ge=1, le=365)

    @field_validator("superadmin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in re.split(r"[,\s]+", value.strip()) if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _token_shape(cls, value: object) -> object:
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not TOKEN_RE.match(value.strip()):
            raise ValueError("expected the form 123456789:ABC... from @BotFather")
        return value.strip()

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("expected sqlite:///path or postgresql://user@host/db")
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("bot_api_base_url", "webhook_url", "bot_api_file_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s):// URL")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> Settings:
        if self.update_mode == "webhook":
            if not self.webhook_url or not self.webhook_url.startswith("https://"):
                raise ValueError("WEBHOOK_URL must be an https:// URL in webhook mode")
            if self.webhook_secret is None:
                raise ValueError("WEBHOOK_SECRET is required in webhook mode")
            # Telegram allows 1-256; a short secret can be guessed by anyone who finds the URL.
            if not re.fullmatch(r"[A-Za-z0-9_-]{32,256}", self.webhook_secret.get_secret_value()):
                raise ValueError(
                    "WEBHOOK_SECRET: 32-256 characters of A-Z, a-z, 0-9, _ and - "
                    "(e.g. the output of `openssl rand -hex 32`)"
                )
        return self

    @property
    def file_url(self) -> str:
        if self.bot_api_file_url:
            return self.bot_api_file_url
        return self.bot_api_base_url.replace("/bot", "/file/bot", 1)

    def vote_journal_path(self) -> Path:
        if self.vote_journal is not None:
            return self.vote_journal
        database = self.sqlite_path()
        if database is not None:
            return database.with_name(database.name + ".votes")
        return Path("data/votes.jsonl")

    def sqlite_path(self) -> Path | None:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return None


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning pydantic's report into one line that names the setting."""
    try:
        # Any value: pydantic checks each one, and its report is what this turns into a line.
        return Settings(**overrides)
    except ValidationError as exc:
        raise config_error(exc) from None


def validate_settings(values: dict[str, Any]) -> Settings:
    """Settings from complete values (another instansi's), not from the environment again."""
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise config_error(exc) from None


def config_error(exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    name = ".".join(str(part) for part in first["loc"]) or "configuration"
    message = first["msg"].removeprefix("Value error, ")
    if first["loc"]:
        return ConfigError(f"Setting {name.upper()}: {message}")
    return ConfigError(f"Configuration: {message}")
