"""The registry of instansi served besides the default one (kept in the default's database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from db.models import Instansi


@dataclass(frozen=True)
class InstansiRow:
    code: str
    name: str
    data_controller: str
    bot_id: int
    token_cipher: str
    superadmin_ids: tuple[int, ...]
    settings: dict[str, Any]
    disabled: bool


class AlreadyRegistered(Exception):
    """The code, or the bot, already belongs to a registered instansi (named in the message)."""


def _row(item: Instansi) -> InstansiRow:
    return InstansiRow(
        code=item.code,
        name=item.name,
        data_controller=item.data_controller,
        bot_id=item.bot_id,
        token_cipher=item.token_cipher,
        superadmin_ids=tuple(item.superadmin_ids),
        settings=dict(item.settings),
        disabled=item.disabled,
    )


def add_instansi(*, session: Session, row: InstansiRow, now: datetime) -> None:
    if session.get(Instansi, row.code) is not None:
        raise AlreadyRegistered(f"the code {row.code} is taken")
    same_bot = session.exec(select(Instansi).where(col(Instansi.bot_id) == row.bot_id)).first()
    if same_bot is not None:
        raise AlreadyRegistered(f"this bot already serves {same_bot.code}")
    session.add(
        Instansi(
            code=row.code,
            name=row.name,
            data_controller=row.data_controller,
            bot_id=row.bot_id,
            token_cipher=row.token_cipher,
            superadmin_ids=list(row.superadmin_ids),
            settings=row.settings,
            disabled=row.disabled,
            created_at=now,
        )
    )


def list_instansi(*, session: Session) -> list[InstansiRow]:
    return [_row(i) for i in session.exec(select(Instansi).order_by(col(Instansi.code)))]


def set_disabled(*, session: Session, code: str, disabled: bool) -> bool:
    """False when no instansi has that code."""
    item = session.get(Instansi, code)
    if item is None:
        return False
    item.disabled = disabled
    session.add(item)
    return True
