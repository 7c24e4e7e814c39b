"""Members and their registration drafts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import AuditLog, Member, Registration, Role, Unit, utcnow


class NipTaken(Exception):
    """Another account holds this NIP: the unique index said so (two presses at once)."""


@dataclass(frozen=True)
class MemberInfo:
    id: int
    telegram_user_id: int
    chat_id: int
    full_name: str
    unit_id: int | None
    unit_name: str | None
    opd_name: str | None
    nip: str | None
    role: str
    language: str
    consent_at: datetime | None
    created_at: datetime
    reachable: bool


def _info(session: Session, member: Member) -> MemberInfo:
    assert member.id is not None
    unit = session.get(Unit, member.unit_id) if member.unit_id else None
    opd = session.get(Unit, unit.parent_id) if unit and unit.parent_id else None
    return MemberInfo(
        id=member.id,
        telegram_user_id=member.telegram_user_id,
        chat_id=member.chat_id,
        full_name=member.full_name or "",
        unit_id=member.unit_id,
        unit_name=unit.name if unit else None,
        opd_name=opd.name if opd else (unit.name if unit else None),
        nip=member.nip,
        role=member.role,
        language=member.language,
        consent_at=member.consent_at,
        created_at=member.created_at,
        reachable=member.reachable,
    )


def _active(session: Session, telegram_user_id: int) -> Member | None:
    return session.exec(
        select(Member).where(
            Member.telegram_user_id == telegram_user_id, col(Member.deleted_at).is_(None)
        )
    ).first()


def get_member(*, session: Session, telegram_user_id: int) -> MemberInfo | None:
    member = _active(session, telegram_user_id)
    return _info(session, member) if member else None


def create_member(
    *,
    session: Session,
    telegram_user_id: int,
    chat_id: int,
    full_name: str,
    unit_id: int,
    nip: str | None,
    language: str,
    consent_at: datetime,
    role: str = Role.MEMBER,
) -> MemberInfo:
    member = Member(
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        full_name=full_name,
        unit_id=unit_id,
        nip=nip,
        language=language,
        consent_at=consent_at,
        role=role,
    )
    session.add(member)
    try:
        session.flush()
    except IntegrityError as exc:
        if "nip" in str(exc.orig).lower():
            raise NipTaken from None  # the caller's transaction is rolled back whole
        raise
    return _info(session, member)


def update_member(
    *,
    session: Session,
    telegram_user_id: int,
    unit_id: int | None = None,
    language: str | None = None,
    reachable: bool | None = None,
) -> MemberInfo | None:
    member = _active(session, telegram_user_id)
    if member is None:
        return None
    if unit_id is not None:
        member.unit_id = unit_id
    if language is not None:
        member.language = language
    if reachable is not None:
        member.reachable = reachable
    member.updated_at = utcnow()
    session.flush()
    return _info(session, member)


def nip_taken(*, session: Session, nip: str, telegram_user_id: int) -> bool:
    """Whether another current member registered this NIP."""
    return (
        session.exec(
            select(Member.id).where(
                Member.nip == nip,
                Member.telegram_user_id != telegram_user_id,
                col(Member.deleted_at).is_(None),
            )
        ).first()
        is not None
    )


def count_members(*, session: Session) -> int:
    return session.exec(
        select(func.count(col(Member.id))).where(col(Member.deleted_at).is_(None))
    ).one()


def get_draft(*, session: Session, telegram_user_id: int) -> Registration | None:
    return session.get(Registration, telegram_user_id)


def save_draft(*, session: Session, draft: Registration) -> Registration:
    draft.updated_at = utcnow()
    merged = session.merge(draft)
    session.flush()
    return merged


def delete_draft(*, session: Session, telegram_user_id: int) -> None:
    draft = session.get(Registration, telegram_user_id)
    if draft is not None:
        session.delete(draft)


def complete_registration(
    *, session: Session, telegram_user_id: int, role: str
) -> MemberInfo | None:
    """Turn a confirmed draft into a member in one transaction; None if the draft is gone."""
    draft = session.get(Registration, telegram_user_id)
    if draft is None or draft.unit_id is None or not draft.full_name or not draft.consent_at:
        return None
    unit = session.get(Unit, draft.unit_id)
    if unit is None or not unit.active:
        return None
    info = create_member(
        session=session,
        telegram_user_id=telegram_user_id,
        chat_id=draft.chat_id,
        full_name=draft.full_name,
        unit_id=draft.unit_id,
        nip=draft.nip,
        language=draft.language,
        consent_at=draft.consent_at,
        role=role,
    )
    session.delete(draft)
    return info


@dataclass(frozen=True)
class Approved:
    member: MemberInfo
    moved_unit: bool  # a member's move to another unit, not a new member
    nip_from: int | None  # the member id that held the NIP before (it now has none)


def _pending(
    session: Session, telegram_user_id: int, requested_at: datetime
) -> Registration | None:
    """The draft waiting for HR, if it is still the request the button was made for (its
    time, to the second: a button from an earlier request decides nothing)."""
    draft = session.get(Registration, telegram_user_id)
    if (
        draft is None
        or draft.step != "pending"
        or draft.requested_at is None
        or abs((draft.requested_at - requested_at).total_seconds()) >= 1
    ):
        return None
    return draft


def approve_request(
    *, session: Session, telegram_user_id: int, requested_at: datetime, role: str
) -> Approved | None:
    """HR approves a pending request in one transaction: the member is created (or moved to
    the unit asked for). A NIP another account holds moves to this one: HR has checked who
    it belongs to. None when the request is gone, answered, or not this one."""
    draft = _pending(session, telegram_user_id, requested_at)
    if draft is None:
        return None
    if draft.purpose == "change_unit":
        unit = session.get(Unit, draft.unit_id) if draft.unit_id else None
        member = _active(session, telegram_user_id)
        if member is None or unit is None or not unit.active:
            return None
        member.unit_id = unit.id
        member.updated_at = utcnow()
        session.delete(draft)
        session.flush()
        return Approved(_info(session, member), moved_unit=True, nip_from=None)
    nip_from: int | None = None
    if draft.nip:
        holder = session.exec(
            select(Member).where(
                Member.nip == draft.nip, Member.telegram_user_id != telegram_user_id
            )
        ).first()
        if holder is not None:
            holder.nip = None
            holder.updated_at = utcnow()
            nip_from = holder.id
            session.flush()
    info = complete_registration(session=session, telegram_user_id=telegram_user_id, role=role)
    if info is None:
        return None
    return Approved(info, moved_unit=False, nip_from=nip_from)


def decline_request(
    *, session: Session, telegram_user_id: int, requested_at: datetime
) -> Registration | None:
    """Forget a pending request HR declined; the draft as it was, or None if it is gone."""
    draft = _pending(session, telegram_user_id, requested_at)
    if draft is None:
        return None
    session.delete(draft)
    return draft


def list_admins(*, session: Session) -> list[MemberInfo]:
    rows = session.exec(
        select(Member).where(
            col(Member.role).in_([Role.ADMIN, Role.SUPERADMIN]), col(Member.deleted_at).is_(None)
        )
    ).all()
    return [_info(session, m) for m in rows]


def search_members(*, session: Session, text: str, limit: int = 8) -> list[MemberInfo]:
    """Members whose name contains every word, or whose Telegram id is the text."""
    query = select(Member).where(col(Member.deleted_at).is_(None))
    if text.strip().isdigit():
        query = query.where(Member.telegram_user_id == int(text.strip()))
    else:
        words = [w for w in text.lower().split() if w][:5]
        if not words:
            return []
        for word in words:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(func.lower(Member.full_name).like(f"%{escaped}%", escape="\\"))
    rows = session.exec(query.order_by(Member.full_name).limit(limit)).all()
    return [_info(session, m) for m in rows]


def get_member_by_id(*, session: Session, member_id: int) -> MemberInfo | None:
    member = session.get(Member, member_id)
    if member is None or member.deleted_at is not None:
        return None
    return _info(session, member)


def set_role(*, session: Session, member_id: int, role: str) -> MemberInfo | None:
    member = session.get(Member, member_id)
    if member is None or member.deleted_at is not None:
        return None
    member.role = role
    member.updated_at = utcnow()
    session.flush()
    return _info(session, member)


def set_show_name(*, session: Session, member_id: int, on: bool | None, flip: bool) -> bool:
    """Whether boards show the member's name: set to `on`, or switched with `flip`."""
    row = session.get(Member, member_id)
    assert row is not None
    if on is not None:
        row.show_name = on
    elif flip:
        row.show_name = not row.show_name
    session.add(row)
    return row.show_name


@dataclass(frozen=True)
class RoleChange:
    telegram_user_id: int
    old: str
    new: str


def sync_superadmins(*, session: Session, superadmin_ids: Sequence[int]) -> list[RoleChange]:
    """Make the superadmins exactly the registered members listed in SUPERADMIN_IDS: listed
    members are promoted, superadmins no longer listed become plain members (the list is the
    only source of the role, so keeping them admin would grant what nobody granted).

    Each change is audited, with no actor: the configuration made it."""
    listed = set(superadmin_ids)
    changes: list[RoleChange] = []
    live = select(Member).where(col(Member.deleted_at).is_(None))
    rows = session.exec(
        live.where((col(Member.role) == Role.SUPERADMIN) | col(Member.telegram_user_id).in_(listed))
    ).all()
    for member in rows:
        new = Role.SUPERADMIN if member.telegram_user_id in listed else Role.MEMBER
        if member.role == new:
            continue
        changes.append(RoleChange(member.telegram_user_id, member.role, new))
        member.role = new
        member.updated_at = utcnow()
        session.add(
            AuditLog(
                actor_user_id=None,
                action="role_from_config",
                detail={"member_id": member.id, "from": changes[-1].old, "to": new.value},
            )
        )
    return changes


def names_of(*, session: Session, telegram_user_ids: Sequence[int]) -> dict[int, str]:
    """Current members' names by Telegram id; ids of no current member are left out."""
    names: dict[int, str] = {}
    ids = list(set(telegram_user_ids))
    # In slices: SQLite takes at most 32,766 bound parameters in one statement.
    for start in range(0, len(ids), 1000):
        rows = session.exec(
            select(Member.telegram_user_id, Member.full_name).where(
                col(Member.telegram_user_id).in_(ids[start : start + 1000]),
                col(Member.deleted_at).is_(None),
            )
        ).all()
        names.update({user_id: name or "" for user_id, name in rows})
    return names
