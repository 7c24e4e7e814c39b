"""A unit's group cannot be taken: a member who links their own group to a unit that has
one only asks; the old group's administrators decide, or a programme admin moves it; the
old group and the admins are told, and every link and unlink is audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from db.engine import Database
from db.models import AuditLog, Role, Unit
from db.queries.members import create_member
from sandbox.simulation import Registrant, expect, register

BUDI = Registrant("Budi Santoso", "sukorame", "Puskesmas Sukorame")
EVE = Registrant("Eva Pencuri", "sukorame", "Puskesmas Sukorame")


def sukorame_group(db: Database) -> int | None:
    return db.run_sync(
        lambda session: session.exec(
            select(Unit.group_chat_id).where(Unit.code == "PKM-SUKORAME")
        ).one()
    )


def audit(db: Database) -> list[tuple[str, bool, dict]]:  # type: ignore[type-arg]
    return db.run_sync(
        lambda session: [
            (a.action, a.allowed, a.detail)
            for a in session.exec(select(AuditLog).order_by(AuditLog.id))
            if a.action.startswith("group_")
        ]
    )


async def linked_real_group(bot, sandbox):  # type: ignore[no-untyped-def]
    budi, eve = sandbox.user("Budi Santoso"), sandbox.user("Eva Pencuri")
    await register(budi, BUDI)
    await register(eve, EVE)
    real = sandbox.group("Tim Puskesmas Sukorame")
    await real.add(budi, admin=True)
    await real.add(eve)
    await real.add_bot()
    await budi.send_in(real, f"/daftarkan_grup@{bot.bot.username}")
    linked = await expect(real, "Puskesmas Sukorame")
    # When the board comes, as /jadwal has it, and the command that works in this group.
    assert "setiap Jumat pukul 15.00 waktu setempat" in linked.text
    assert f"/peringkat@{bot.bot.username} di grup ini" in linked.text
    own = sandbox.group("Grup Eva")
    await own.add(eve, admin=True)
    await own.add_bot()
    return budi, eve, real, own


async def test_a_member_cannot_take_the_units_group(bot, sandbox, kediri: Database) -> None:
    budi, eve, real, own = await linked_real_group(bot, sandbox)
    await eve.send_in(own, f"/daftarkan_grup@{bot.bot.username}")
    pending = await expect(own, "sudah punya grup lain")
    assert "admin program" in pending.text
    request = await expect(real, "Permintaan pemindahan papan")
    assert sukorame_group(kediri) == real.chat_id
    # Asking again does not ask the old group again: one request, however many commands.
    for _ in range(3):
        await eve.send_in(own, f"/daftarkan_grup@{bot.bot.username}")
        await expect(own, "sudah punya grup lain")
    with pytest.raises(AssertionError):  # nothing more in the real group
        await real.next_message(timeout=0.5)
    # Eve, a plain member of the real group, cannot approve; nor can a forged press.
    query = await eve.press(request, "✅ Setujui pemindahan")
    notice = await sandbox.wait_callback_answer(query)
    assert "Hanya admin grup ini" in notice["text"]
    forged = await eve.press_forged(
        request.message_id, f"grp:ok:{_unit_id(kediri)}:{own.chat_id}", chat=real
    )
    await sandbox.wait_callback_answer(forged)
    assert sukorame_group(kediri) == real.chat_id
    # Budi, who administers the real group, declines: both groups hear of it.
    await budi.press(request, "✖️ Tolak")
    await expect(real, "ditolak oleh admin grup lama")
    await expect(own, "ditolak oleh admin grup lama")
    assert sukorame_group(kediri) == real.chat_id
    actions = audit(kediri)
    # Eve's three refused attempts (the request, her press, the forged one) share a line.
    assert [(a, ok) for a, ok, _ in actions] == [
        ("group_link", True),
        ("group_link", False),
        ("group_link_declined", True),
    ]
    assert actions[1][2]["count"] == 3
    # The declined request is gone: its button is stale now.
    stale = await eve.press_forged(
        request.message_id, f"grp:ok:{_unit_id(kediri)}:{own.chat_id}", chat=real
    )
    answered = await sandbox.wait_callback_answer(stale)
    assert "Hanya admin" not in (answered.get("text") or "")
    assert sukorame_group(kediri) == real.chat_id


def _unit_id(db: Database) -> int:
    return db.run_sync(
        lambda session: session.exec(select(Unit.id).where(Unit.code == "PKM-SUKORAME")).one()
    )


async def test_the_old_groups_admin_can_agree(bot, sandbox, kediri: Database) -> None:
    hr = sandbox.user("Admin BKPSDM")
    kediri.run_sync(
        create_member,
        telegram_user_id=hr.id,
        chat_id=hr.chat_id,
        full_name="Admin BKPSDM",
        unit_id=_unit_id(kediri),
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
        role=Role.ADMIN,
    )
    await hr.send("/bantuan")  # a private chat with the bot, as every admin has
    await expect(hr, "Bantuan")
    budi, eve, real, own = await linked_real_group(bot, sandbox)
    await eve.send_in(own, f"/daftarkan_grup@{bot.bot.username}")
    request = await expect(real, "Permintaan pemindahan papan")
    await budi.press(request, "✅ Setujui pemindahan")
    await expect(real, "tidak lagi dikirim ke grup ini")
    await expect(own, "sekarang menampilkan papan")
    told = await expect(hr, "dipindahkan ke grup")
    assert "Grup Eva" in told.text
    assert sukorame_group(kediri) == own.chat_id
    actions = audit(kediri)
    link, unlink = actions[-2:]
    assert link[0] == "group_link" and link[2]["via"] == "old_group_admin"
    assert unlink[0] == "group_unlink" and unlink[2]["chat_id"] == real.chat_id


async def test_a_programme_admin_moves_it_and_the_old_group_is_told(
    bot, sandbox, kediri: Database
) -> None:
    _budi, _eve, real, _own = await linked_real_group(bot, sandbox)
    hr = sandbox.user("Admin BKPSDM")
    kediri.run_sync(
        create_member,
        telegram_user_id=hr.id,
        chat_id=hr.chat_id,
        full_name="Admin BKPSDM",
        unit_id=_unit_id(kediri),
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
        role=Role.ADMIN,
    )
    await hr.send("/bantuan")  # a private chat with the bot, as every admin has
    await expect(hr, "Bantuan")
    new = sandbox.group("Grup Baru Puskesmas")
    await new.add(hr, admin=True)
    await new.add_bot()
    await hr.send_in(new, f"/daftarkan_grup@{bot.bot.username} PKM")
    which = await expect(new, "cocok dengan")  # many units: nothing linked, an example
    assert f"/daftarkan_grup@{bot.bot.username} DISKOMINFO" in which.text
    assert sukorame_group(kediri) == real.chat_id
    await hr.send_in(new, f"/daftarkan_grup@{bot.bot.username} PKM-SUKORAME")
    await expect(new, "sekarang menampilkan papan")
    moved = await expect(real, "tidak lagi dikirim ke grup ini")
    assert "admin program" in moved.text
    await expect(hr, "dipindahkan ke grup")
    assert sukorame_group(kediri) == new.chat_id
    link, unlink = audit(kediri)[-2:]
    assert link[2]["via"] == "admin" and unlink[0] == "group_unlink"
