"""A member typing as fast as a client can send, against a Telegram as strict as the
strictest emulator we know (a private chat: 3 at once, then one a second): every message
gets its reply, in order, and Telegram never has to say 429."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from db.engine import Database
from db.queries.members import create_member
from db.queries.units import list_opd
from sandbox.ratelimit import STRICT

MESSAGES = ["/profil", "/bantuan", "Melayani dengan senyum hari ini"] * 5


@pytest.mark.sandbox(rate_limits=STRICT)
async def test_fifteen_messages_at_once_get_fifteen_replies_and_no_429(
    bot, sandbox, kediri: Database
) -> None:
    unit = kediri.run_sync(list_opd)[0]
    user = sandbox.user("Rina Cepat")
    kediri.run_sync(
        create_member,
        telegram_user_id=user.id,
        chat_id=user.chat_id,
        full_name="Rina Cepat",
        unit_id=unit.id,
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
    )
    for text in MESSAGES:
        await user.send(text)  # no waiting for the bot in between
    # Three at once, then one every 1.1 s: about 14 s for the fifteenth.
    replies = [await user.next_message(timeout=30) for _ in MESSAGES]
    assert all(r.kind == "new" for r in replies)
    kinds = [
        "profil"
        if "Profil Anda" in (r.text or "")
        else "refleksi"
        if "efleksi" in (r.text or "")
        else "bantuan"
        for r in replies
    ]
    assert kinds == ["profil", "bantuan", "refleksi"] * 5, [r.text for r in replies]
    await user.expect_silence(within=0.5)
    assert sandbox.violations == []
    sends = [c for c in sandbox.calls if c.method == "sendMessage"]
    assert len(sends) == 15 and all(c.ok for c in sends)
