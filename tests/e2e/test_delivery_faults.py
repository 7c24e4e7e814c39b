"""Uncertain sends: a request that may have reached Telegram is never sent again; one that
cannot have reached it is retried. Checked member by member through the sandbox."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select
from telegram.error import NetworkError, TimedOut

from bot.delivery.sender import _never_arrived
from db.models import Delivery, Role
from sandbox.simulation import expect
from tests.e2e.test_broadcast import compose, enrol, opds, settle, texts

__all__ = ["opds"]  # the fixture, shared with the broadcast tests


async def test_a_reply_lost_after_delivery_is_never_sent_twice(bot, sandbox, kediri, opds) -> None:  # type: ignore[no-untyped-def]
    uji, dinkes = opds
    admin = await enrol(sandbox, kediri, "Admin Dua", dinkes, Role.ADMIN)
    members = [await enrol(sandbox, kediri, f"Anggota Putus {i}", uji) for i in range(5)]
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, "👥 Semua anggota (6)")
    await compose(admin, "Sambungan putus")
    confirm = await expect(admin, "Kirim ke 6 penerima?")
    # Telegram takes the message to the first two members, then the connection resets
    # before its answer: the sender cannot know they have it.
    for member in members[:2]:
        sandbox.inject("sendMessage", chat_id=member.chat_id, lose_reply=True)
    await admin.press(confirm, "✅ Kirim sekarang ke 6")
    await settle(bot, kediri)
    for member in members:
        assert texts(member).count("Sambungan putus") == 1, member.name
    rows = kediri.run_sync(lambda session: list(session.exec(select(Delivery)).all()))
    lost = {m.chat_id for m in members[:2]}
    assert {r.chat_id for r in rows if r.unconfirmed} == lost
    assert all(r.state == "sent" for r in rows)


@pytest.mark.parametrize(
    ("error", "safe"),
    [
        (NetworkError("httpx.ConnectError: refused"), True),  # nothing was written
        (TimedOut("Pool timeout: all connections busy"), True),
        (NetworkError("Bad Gateway (502)"), True),  # Telegram answered: it did not take it
        (NetworkError("httpx.RemoteProtocolError: disconnected"), False),
        (NetworkError("httpx.ReadError: reset"), False),
        (NetworkError("httpx.WriteError: broken pipe"), False),
        (TimedOut("Timed out"), False),  # a read time-out
    ],
)
def test_only_errors_before_the_request_left_are_safe_to_retry(
    error: NetworkError, safe: bool
) -> None:
    causes = {
        "ConnectError": httpx.ConnectError("refused"),
        "Pool timeout": httpx.PoolTimeout("busy"),
        "RemoteProtocolError": httpx.RemoteProtocolError("disconnected"),
        "ReadError": httpx.ReadError("reset"),
        "WriteError": httpx.WriteError("broken pipe"),
        "Timed out": httpx.ReadTimeout("slow"),
    }
    for marker, cause in causes.items():
        if marker in error.message:
            error.__cause__ = cause
    assert _never_arrived(error) is safe
