"""Unit heads (kepala unit): who heads which unit, and what that lets them review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from db.models import Member, Unit, UnitHead


@dataclass(frozen=True)
class HeadInfo:
    unit_id: int
    unit_name: str
    member_id: int
    member_name: str


def set_head(*, session: Session, unit_id: int, member_id: int, now: datetime) -> int | None:
    """Name the member head of the unit; the member id of the head replaced, if any."""
    row = session.get(UnitHead, unit_id)
    if row is None:
        session.add(UnitHead(unit_id=unit_id, member_id=member_id, created_at=now))
        return None
    previous = row.member_id
    row.member_id = member_id
    row.created_at = now
    session.add(row)
    return previous if previous != member_id else None


def remove_head(*, session: Session, unit_id: int, member_id: int) -> bool:
    """Remove this member as the unit's head; False when they no longer are (someone
    removed or replaced them first)."""
    row = session.get(UnitHead, unit_id)
    if row is None or row.member_id != member_id:
        return False
    session.delete(row)
    return True


def remove_all_of(*, session: Session, member_id: int) -> None:
    """The member heads nothing any more (their data was erased)."""
    session.execute(delete(UnitHead).where(col(UnitHead.member_id) == member_id))


def head_of(*, session: Session, unit_id: int) -> int | None:
    row = session.get(UnitHead, unit_id)
    return row.member_id if row is not None else None


def units_headed(*, session: Session, member_id: int) -> list[int]:
    """The units this member heads, and the unit kerja of any OPD among them."""
    headed = list(
        session.exec(select(UnitHead.unit_id).where(col(UnitHead.member_id) == member_id)).all()
    )
    if not headed:
        return []
    children = session.exec(select(Unit.id).where(col(Unit.parent_id).in_(headed))).all()
    return sorted({*headed, *(c for c in children if c is not None)})


def list_heads(*, session: Session) -> list[HeadInfo]:
    """Every unit with a head, by unit name."""
    rows = session.exec(
        select(UnitHead.unit_id, Unit.name, UnitHead.member_id, Member.full_name)
        .join(Unit, col(Unit.id) == col(UnitHead.unit_id))
        .join(Member, col(Member.id) == col(UnitHead.member_id))
        .where(col(Member.deleted_at).is_(None))
        .order_by(col(Unit.name))
    ).all()
    return [HeadInfo(u, un, m, mn or "") for u, un, m, mn in rows]
