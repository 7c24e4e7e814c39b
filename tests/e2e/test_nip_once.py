"""One NIP, one account: a second account typing a registered NIP is told to ask HR and
may go on without it; nothing of the first account changes."""

from __future__ import annotations

from sqlmodel import select

from db.engine import Database
from db.models import Member, Registration
from sandbox.simulation import Registrant, begin, expect, register
from tests.e2e.test_registration import BUDI

NIP = "".join(c for c in BUDI.nip or "" if c.isdigit())


def members(db: Database) -> list[Member]:
    return db.run_sync(lambda session: list(session.exec(select(Member)).all()))


async def reach_nip(user) -> None:  # type: ignore[no-untyped-def]
    await begin(user)
    await user.send("Budi Palsu")
    await expect(user, "Unit kerja")
    await user.send("sukorame")
    results = await expect(user, "Hasil pencarian")
    await user.press(results, "Puskesmas Sukorame")
    await expect(user, "NIP")


async def test_a_nip_registers_one_account(bot, sandbox, kediri: Database) -> None:
    await register(sandbox.user("Budi Santoso"), BUDI)
    other = sandbox.user("Budi Palsu")
    await reach_nip(other)
    await other.send(BUDI.nip or "")
    refused = await expect(other, "sudah terdaftar untuk akun Telegram lain")
    assert "BKPSDM" in refused.text and "Lewati" in refused.text
    draft = kediri.run_sync(lambda session: session.get(Registration, other.id))
    assert draft is not None and draft.nip is None and draft.step == "nip"
    # They go on without it: registered, no NIP; the first account keeps its own.
    await register_rest_without_nip(other)
    by_nip = [m for m in members(kediri) if m.nip == NIP]
    assert len(by_nip) == 1 and by_nip[0].full_name == "Budi Santoso"
    assert len(members(kediri)) == 2


async def register_rest_without_nip(user) -> None:  # type: ignore[no-untyped-def]
    await user.send("/start")  # shows the NIP question again, with its button
    prompt = await expect(user, "NIP")
    await user.press(prompt, "Lewati")
    summary = await expect(user, "Periksa data Anda")
    await user.press(summary, "✅ Simpan")
    await expect(user, "Selamat bergabung")


async def test_an_erased_nip_is_free_again(bot, sandbox, kediri: Database) -> None:
    first = sandbox.user("Budi Santoso")
    await register(first, BUDI)
    await first.send("/hapus_data")
    confirm = await expect(first, "Hapus data pribadi?")
    await first.press(confirm, "🗑 Ya, hapus data saya")
    await expect(first, "sudah dihapus")
    second = sandbox.user("Budi Baru")
    await register(second, Registrant("Budi Santoso", "sukorame", "Puskesmas Sukorame", BUDI.nip))
    assert [m.nip for m in members(kediri) if m.deleted_at is None] == [NIP]
