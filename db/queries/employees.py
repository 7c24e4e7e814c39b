"""HR's employee list: import, look-up, and the units its codes name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import Session, col, select

from db.models import Employee, Member, Unit, utcnow


@dataclass(frozen=True)
class EmployeeEntry:
    nip: str
    full_name: str
    unit_code: str


@dataclass(frozen=True)
class UnitCode:
    active: bool
    has_children: bool


@dataclass(frozen=True)
class Listed:
    """An employee as the list has them, with their unit as the roster has it now."""

    nip: str
    full_name: str
    unit_id: int | None  # None when the code left the roster since the import
    opd_id: int | None


@dataclass(frozen=True)
class EmployeeImport:
    created: int
    updated: int
    unchanged: int
    removed: int


def unit_codes(*, session: Session) -> dict[str, UnitCode]:
    """Every roster code, whether it is active and whether it has unit kerja below it."""
    units = session.exec(select(Unit)).all()
    parents = {u.parent_id for u in units if u.parent_id is not None and u.active}
    return {u.code: UnitCode(u.active, u.id in parents) for u in units}


def import_employees(*, session: Session, rows: Sequence[EmployeeEntry]) -> EmployeeImport:
    """Make the list exactly the file: new NIPs added, changed ones updated, the rest
    (people who left) removed. Members already registered are not touched."""
    existing = {e.nip: e for e in session.exec(select(Employee)).all()}
    created = updated = unchanged = 0
    now = utcnow()
    for row in rows:
        employee = existing.pop(row.nip, None)
        if employee is None:
            session.add(
                Employee(
                    nip=row.nip, full_name=row.full_name, unit_code=row.unit_code, updated_at=now
                )
            )
            created += 1
        elif (employee.full_name, employee.unit_code) != (row.full_name, row.unit_code):
            employee.full_name, employee.unit_code, employee.updated_at = (
                row.full_name,
                row.unit_code,
                now,
            )
            session.add(employee)
            updated += 1
        else:
            unchanged += 1
    if existing:
        session.execute(delete(Employee).where(col(Employee.nip).in_(list(existing))))
    return EmployeeImport(created, updated, unchanged, len(existing))


def list_loaded(*, session: Session) -> bool:
    """Whether HR has loaded an employee list: registration is verified against it."""
    return session.exec(select(Employee.id).limit(1)).first() is not None


def find(*, session: Session, nip: str) -> Listed | None:
    employee = session.exec(select(Employee).where(Employee.nip == nip)).first()
    if employee is None:
        return None
    unit = session.exec(
        select(Unit).where(Unit.code == employee.unit_code, col(Unit.active).is_(True))
    ).first()
    return Listed(
        nip=employee.nip,
        full_name=employee.full_name,
        unit_id=unit.id if unit else None,
        opd_id=(unit.parent_id or unit.id) if unit else None,
    )


def holder(*, session: Session, nip: str) -> int | None:
    """The Telegram id of the current member with this NIP, or None."""
    return session.exec(
        select(Member.telegram_user_id).where(Member.nip == nip, col(Member.deleted_at).is_(None))
    ).first()
