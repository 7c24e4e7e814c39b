"""The instansi a deployment serves: the default one its `.env` describes, and those added
with `berakhlak instansi add` (README "Many instansi"). Each gets settings of its own (its
bot, names, superadmins, database schema or file, vote journal), derived here from the
deployment's, so the same start-up path builds every bot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from bot.core.config import ConfigError, Settings, validate_settings
from db.engine import Database
from db.queries.instansi import InstansiRow, list_instansi
from db.tenancy import tenant_url

# What an instansi may set for itself (`instansi add --set KEY=VALUE`); the rest (the Bot
# API, the database server, Telegram's limits) is the deployment's.
OWN_SETTINGS = frozenset(
    {
        "default_timezone",
        "summary_chat_id",
        "public_channel_id",
        "programme_grace_minutes",
        "quiz_seed",
        "points_correct",
        "points_answered",
        "points_reflection",
        "points_streak_bonus",
        "streak_every",
        "shields_per_month",
        "min_unit_size",
        "ranking_prior",
        "ranking_cooldown",
        "retention_answers_days",
        "retention_audit_days",
        "retention_delivery_days",
        "draft_expiry_days",
    }
)
# Never passed on from the deployment's settings: they name the default instansi's chats.
NOT_INHERITED = {"summary_chat_id": None, "public_channel_id": None}


@dataclass(frozen=True)
class Tenant:
    code: str
    settings: Settings
    default: bool


def cipher(settings: Settings) -> Fernet:
    if settings.instansi_key is None:
        raise ConfigError(
            "Setting INSTANSI_KEY: required to keep the instansi's bot tokens (make one with "
            "`berakhlak instansi key`)"
        )
    try:
        return Fernet(settings.instansi_key.get_secret_value().encode())
    except ValueError:
        raise ConfigError(
            "Setting INSTANSI_KEY: expected a key from `berakhlak instansi key`"
        ) from None


def new_key() -> str:
    return Fernet.generate_key().decode()


def own_settings(base: Settings, pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs checked against OWN_SETTINGS and the settings' own rules."""
    chosen: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().lower()
        if not sep or key not in OWN_SETTINGS:
            allowed = ", ".join(sorted(k.upper() for k in OWN_SETTINGS))
            raise ConfigError(f"--set {pair}: expected KEY=VALUE with KEY one of {allowed}")
        chosen[key] = value.strip()
    checked = validate_settings({**_values(base), **chosen})
    return {key: getattr(checked, key) for key in chosen}


def tenant_settings(base: Settings, row: InstansiRow) -> Settings:
    try:
        token = cipher(base).decrypt(row.token_cipher.encode()).decode()
    except InvalidToken:
        raise ConfigError(
            f"Setting INSTANSI_KEY: it does not open the bot token of instansi {row.code} "
            "(was the key changed? add the instansi again with its token)"
        ) from None
    journal = base.vote_journal_path()
    values = {
        **_values(base),
        **NOT_INHERITED,
        **{k: v for k, v in row.settings.items() if k in OWN_SETTINGS},
        "telegram_bot_token": token,
        "instansi_code": row.code,
        "instansi_name": row.name,
        "data_controller": row.data_controller,
        "superadmin_ids": list(row.superadmin_ids),
        "database_url": tenant_url(base.database_url, row.code),
        "vote_journal": journal.with_name(f"{journal.stem}.{row.code}{journal.suffix}"),
    }
    return validate_settings(values)


def load_tenants(base: Settings, database: Database) -> list[Tenant]:
    """The default instansi (when `.env` has a token) and every enabled registered one."""
    tenants = []
    if base.telegram_bot_token is not None:
        tenants.append(Tenant(base.instansi_code, base, default=True))
    for row in database.run_sync(list_instansi):
        if not row.disabled:
            tenants.append(Tenant(row.code, tenant_settings(base, row), default=False))
    return tenants


def find(base: Settings, database: Database, code: str | None) -> Settings:
    """The settings of one instansi by its code (`--instansi`); the default's for None."""
    if code is None or code == base.instansi_code:
        return base
    for row in database.run_sync(list_instansi):
        if row.code == code:
            return tenant_settings(base, row)
    raise ConfigError(f"--instansi {code}: no such instansi (see `berakhlak instansi list`)")


def _values(settings: Settings) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        values[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
    return values
