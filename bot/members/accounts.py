"""Members' accounts: who someone is, their registration draft, their role and settings.

Handlers reach the database only through functions like these (see README, Layout)."""

from __future__ import annotations

from bot.programme import activity
from db.engine import Database

# Handlers use these types from here, never from db.
from db.models import Registration as Registration
from db.models import Role as Role
from db.queries import members as queries
from db.queries.members import MemberInfo as MemberInfo

ADMIN_ROLES = (Role.ADMIN, Role.SUPERADMIN)


async def member(db: Database, *, telegram_user_id: int) -> MemberInfo | None:
    """The registered member with this Telegram account, or None."""
    return await db.run(queries.get_member, telegram_user_id=telegram_user_id)


async def member_by_id(db: Database, *, member_id: int) -> MemberInfo | None:
    """The member with this id, or None."""
    return await db.run(queries.get_member_by_id, member_id=member_id)


async def search(db: Database, *, text: str) -> list[MemberInfo]:
    """Members whose name contains every word typed, or whose Telegram id it is."""
    return await db.run(queries.search_members, text=text)


async def admins(db: Database) -> list[MemberInfo]:
    """Every admin and superadmin."""
    return await db.run(queries.list_admins)


async def set_role(db: Database, *, member_id: int, role: Role) -> MemberInfo | None:
    """Give a member a new role; the member as changed, or None if they are gone."""
    return await db.run(queries.set_role, member_id=member_id, role=role)


async def zone(db: Database, *, member_id: int) -> str:
    """The member's unit's time zone (Jakarta when unknown): their local day and hour."""
    return await db.run(activity.zone_of, member_id=member_id)


async def set_reachable(db: Database, *, telegram_user_id: int, reachable: bool) -> bool:
    """Remember whether the bot can write to this person; False when they are no member."""
    updated = await db.run(
        queries.update_member, telegram_user_id=telegram_user_id, reachable=reachable
    )
    return updated is not None


async def set_language(db: Database, *, telegram_user_id: int, language: str) -> None:
    """Store the member's language."""
    await db.run(queries.update_member, telegram_user_id=telegram_user_id, language=language)


async def move_to_unit(db: Database, *, telegram_user_id: int, unit_id: int) -> None:
    """A member's new unit (/ubah_unit); the draft that chose it is done with."""
    await db.run(queries.update_member, telegram_user_id=telegram_user_id, unit_id=unit_id)
    await db.run(queries.delete_draft, telegram_user_id=telegram_user_id)


async def show_name(db: Database, *, member_id: int, on: bool | None, flip: bool) -> bool:
    """Set (or with `flip`, switch) whether boards show the member's name; the setting now."""
    return await db.run(queries.set_show_name, member_id=member_id, on=on, flip=flip)


# --- registration drafts ---------------------------------------------------------------------


async def draft(db: Database, *, telegram_user_id: int) -> Registration | None:
    """The person's open registration draft, or None."""
    return await db.run(queries.get_draft, telegram_user_id=telegram_user_id)


async def save_draft(db: Database, *, draft: Registration) -> None:
    """Store the draft as it is now."""
    await db.run(queries.save_draft, draft=draft)


async def drop_draft(db: Database, *, telegram_user_id: int) -> None:
    """Forget the person's draft (consent declined, or the flow is done)."""
    await db.run(queries.delete_draft, telegram_user_id=telegram_user_id)


async def nip_taken(db: Database, *, nip: str, telegram_user_id: int) -> bool:
    """Whether another account registered this NIP already (one NIP, one account)."""
    return await db.run(queries.nip_taken, nip=nip, telegram_user_id=telegram_user_id)


async def complete_registration(
    db: Database, *, telegram_user_id: int, role: Role
) -> MemberInfo | None:
    """Turn the draft into a member; None when its unit disappeared meanwhile."""
    return await db.run(queries.complete_registration, telegram_user_id=telegram_user_id, role=role)
