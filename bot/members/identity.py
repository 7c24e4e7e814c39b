"""Verified identity: when HR has loaded the employee list, a registration must match it.

The typed NIP must be in the list, the typed name must be the list's name (titles, case
and spacing aside, `names.same_person`), and no other account may hold the NIP; the unit
then comes from the list. Anything else can still go ahead, as a request HR approves
(`Refusal`). Without the list nothing here applies, except that one NIP opens one
account (checked in code, and by the database's unique index).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.members.names import same_person
from db.engine import Database
from db.models import Registration
from db.queries import employees as queries
from db.queries import members
from db.queries.members import Approved as Approved
from db.queries.members import NipTaken as NipTaken


class Refusal(StrEnum):
    """Why the list does not confirm someone (kept in `registration.verify`)."""

    UNKNOWN = "unknown"  # the NIP is not in the list
    NAME = "name"  # the NIP is, under another name
    TAKEN = "taken"  # another account registered the NIP
    NO_NIP = "none"  # the person has no NIP (or will not say it)
    NO_UNIT = "nounit"  # the list's unit code left the roster
    UNIT = "unit"  # a member asks to move to a unit other than their listed one


# Without the list's unit the person chooses one, as in a registration without the list.
NEEDS_UNIT = (Refusal.UNKNOWN, Refusal.NO_NIP, Refusal.NO_UNIT)


@dataclass(frozen=True)
class Verdict:
    refusal: Refusal | None  # None: the list confirms the person
    unit_id: int | None  # the listed unit, when it is in the roster
    opd_id: int | None


async def list_loaded(db: Database) -> bool:
    return await db.run(queries.list_loaded)


async def verify(db: Database, *, nip: str, name: str, telegram_user_id: int) -> Verdict:
    """The employee list's word on a typed NIP and name (call only with the list loaded)."""
    listed = await db.run(queries.find, nip=nip)
    if listed is None:
        return Verdict(Refusal.UNKNOWN, None, None)
    holder = await db.run(queries.holder, nip=nip)
    if holder is not None and holder != telegram_user_id:
        return Verdict(Refusal.TAKEN, listed.unit_id, listed.opd_id)
    if not same_person(name, listed.full_name):
        return Verdict(Refusal.NAME, listed.unit_id, listed.opd_id)
    if listed.unit_id is None:
        return Verdict(Refusal.NO_UNIT, None, None)
    return Verdict(None, listed.unit_id, listed.opd_id)


async def listed_unit(db: Database, *, nip: str | None) -> int | None:
    """The unit the list gives this NIP (None without a NIP, or not in the list)."""
    if not nip:
        return None
    listed = await db.run(queries.find, nip=nip)
    return listed.unit_id if listed else None


@dataclass(frozen=True)
class RequestFacts:
    """What HR sees beside a request: the list's name for the NIP, who holds the NIP now,
    and (for a member's move) the unit the list gives them."""

    listed_name: str | None
    holder_name: str | None
    member_name: str | None
    listed_unit_id: int | None


async def request_facts(db: Database, *, draft: Registration) -> RequestFacts:
    listed_name = holder_name = None
    if draft.nip:
        listed = await db.run(queries.find, nip=draft.nip)
        listed_name = listed.full_name if listed else None
        holder = await db.run(queries.holder, nip=draft.nip)
        if holder is not None and holder != draft.telegram_user_id:
            other = await db.run(members.get_member, telegram_user_id=holder)
            holder_name = other.full_name if other else None
    member = await db.run(members.get_member, telegram_user_id=draft.telegram_user_id)
    listed_unit_id = await listed_unit(db, nip=member.nip) if member else None
    return RequestFacts(
        listed_name, holder_name, member.full_name if member else None, listed_unit_id
    )


async def approve(
    db: Database, *, telegram_user_id: int, requested_at: datetime, role: str
) -> Approved | None:
    """HR approves a pending request: the member is created or moved (None if it is gone)."""
    return await db.run(
        members.approve_request,
        telegram_user_id=telegram_user_id,
        requested_at=requested_at,
        role=role,
    )


async def decline(db: Database, *, telegram_user_id: int, requested_at: datetime) -> bool:
    """HR declines a pending request; False when it was already answered or withdrawn."""
    draft = await db.run(
        members.decline_request, telegram_user_id=telegram_user_id, requested_at=requested_at
    )
    return draft is not None
