"""Units: the OPD / unit kerja roster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from db.models import Member, Unit, table_of, utcnow


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    parent_id: int | None
    parent_name: str | None
    timezone: str
    group_chat_id: int | None


@dataclass(frozen=True)
class RosterRow:
    code: str
    name: str
    parent: str | None
    timezone: str


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    not_in_file: list[str]


def _info(unit: Unit, parent: Unit | None) -> UnitInfo:
    assert unit.id is not None
    return UnitInfo(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        parent_id=unit.parent_id,
        parent_name=parent.name if parent else None,
        timezone=unit.timezone,
        group_chat_id=unit.group_chat_id,
    )


def get_unit(*, session: Session, unit_id: int) -> UnitInfo | None:
    unit = session.get(Unit, unit_id)
    if unit is None or not unit.active:
        return None
    parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
    return _info(unit, parent)


def list_opd(*, session: Session) -> list[UnitInfo]:
    rows = session.exec(
        select(Unit).where(col(Unit.parent_id).is_(None), Unit.active).order_by(Unit.name)
    ).all()
    return [_info(u, None) for u in rows]


def list_children(*, session: Session, opd_id: int) -> list[UnitInfo]:
    parent = session.get(Unit, opd_id)
    rows = session.exec(
        select(Unit).where(Unit.parent_id == opd_id, Unit.active).order_by(Unit.name)
    ).all()
    return [_info(u, parent) for u in rows]


def search_units(
    *, session: Session, words: list[str], limit: int = 8, leaves_only: bool = True
) -> list[UnitInfo]:
    """Units whose name or code contains every word, unit kerja before OPD.

    Members belong to leaves (a unit kerja, or an OPD without any); a broadcast may also
    target a whole OPD.
    """
    if not words:
        return []
    query = select(Unit).where(Unit.active)
    for word in words:
        # Lowered like the columns: PostgreSQL's LIKE, unlike SQLite's, heeds case.
        escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                func.lower(Unit.name).like(pattern, escape="\\"),
                func.lower(Unit.code).like(pattern, escape="\\"),
            )
        )
    rows = session.exec(query.order_by(col(Unit.parent_id).is_(None), Unit.name)).all()
    parents = {u.id: u for u in session.exec(select(Unit).where(col(Unit.parent_id).is_(None)))}
    with_children = set(
        session.exec(select(Unit.parent_id).where(col(Unit.parent_id).is_not(None))).all()
    )
    leaves = [
        u for u in rows if not leaves_only or u.parent_id is not None or u.id not in with_children
    ]
    return [_info(u, parents.get(u.parent_id)) for u in leaves[:limit]]


def count_by_opd(*, session: Session) -> list[tuple[str, int]]:
    """Active members per OPD (members of a unit kerja count for its OPD)."""
    opd = table_of(Unit).alias("opd")
    leaf = table_of(Unit).alias("leaf")
    top = func.coalesce(leaf.c.parent_id, leaf.c.id)
    members = func.count(col(Member.id))
    rows = session.exec(
        select(opd.c.name, members)
        .select_from(Member)
        .join(leaf, leaf.c.id == Member.unit_id)
        .join(opd, opd.c.id == top)
        .where(col(Member.deleted_at).is_(None))
        .group_by(opd.c.name)
        .order_by(members.desc(), opd.c.name)
    ).all()
    return [(name, count) for name, count in rows]


def import_roster(*, session: Session, rows: Sequence[RosterRow]) -> ImportResult:
    """Create or update units by code in one transaction.

    Units missing from the file are left as they are (and reported), so a partial
    file never strands members. The caller has already validated the rows.
    """
    existing = {u.code: u for u in session.exec(select(Unit)).all()}
    created = updated = unchanged = 0
    now = utcnow()
    # Parents first so that children can point at their ids.
    ordered = sorted(rows, key=lambda r: r.parent is not None)
    for row in ordered:
        parent_id = existing[row.parent].id if row.parent else None
        unit = existing.get(row.code)
        if unit is None:
            unit = Unit(code=row.code, name=row.name, parent_id=parent_id, timezone=row.timezone)
            session.add(unit)
            session.flush()
            existing[row.code] = unit
            created += 1
            continue
        changed = (unit.name, unit.parent_id, unit.timezone, unit.active) != (
            row.name,
            parent_id,
            row.timezone,
            True,
        )
        if changed:
            unit.name, unit.parent_id, unit.timezone, unit.active = (
                row.name,
                parent_id,
                row.timezone,
                True,
            )
            unit.updated_at = now
            updated += 1
        else:
            unchanged += 1
    listed = {r.code for r in rows}
    session.flush()
    return ImportResult(created, updated, unchanged, sorted(set(existing) - listed))


def unit_group(*, session: Session, unit_id: int) -> int | None:
    """The group that shows this unit's board, or None."""
    unit = session.get(Unit, unit_id)
    return unit.group_chat_id if unit is not None else None


@dataclass(frozen=True)
class Relinked:
    unit_name: str
    previous_chat_id: int | None  # the unit's group before, when it was another one
    displaced_unit_ids: list[int]  # units this chat showed before (now without a group)


def relink_group(*, session: Session, unit_id: int, chat_id: int) -> Relinked:
    """Make `chat_id` show this unit's board, and only this unit's; say what it replaced."""
    displaced: list[int] = []
    for other in session.exec(select(Unit).where(Unit.group_chat_id == chat_id)).all():
        if other.id != unit_id:
            assert other.id is not None
            other.group_chat_id = None  # one group shows one unit's board
            displaced.append(other.id)
            session.add(other)
    unit = session.get(Unit, unit_id)
    assert unit is not None
    previous = unit.group_chat_id if unit.group_chat_id != chat_id else None
    unit.group_chat_id = chat_id
    session.add(unit)
    return Relinked(unit.name, previous, displaced)
