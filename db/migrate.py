"""Alembic, configured in code so that the installed package migrates without an alembic.ini."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

from db.tenancy import ensure_schema

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic keeps the running migration in module globals (`alembic.context`, `alembic.op`):
# two threads migrating two instansi at once would mix them up.
_ONE_AT_A_TIME = threading.Lock()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    ensure_schema(url)  # another instansi's, on PostgreSQL (db/tenancy.py)
    with _ONE_AT_A_TIME:
        command.upgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    """Developer helper: autogenerate a migration from the models (`berakhlak db revision`)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
