"""The outbox under faults, checked member by member through the sandbox's record of what
each chat received: a reply lost after delivery, Telegram unreachable for a while or for
too long, Telegram taking a request and never answering, a 429 for one chat only, and a
SIGKILL of the real `berakhlak run` in the middle of a broadcast."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select
from telegram.error import NetworkError, TimedOut

from bot.core.config import Settings
from bot.delivery.sender import never_arrived
from db.engine import Database
from db.models import Delivery, DeliveryState, Member, Role, Unit
from db.queries.outbox import OPEN, create_broadcast
from sandbox.simulation import expect
from sandbox.users import SimUser
from tests.e2e.test_broadcast import audit_rows, compose, enrol, opds, settle, texts
from tests.e2e.test_run_command import berakhlak, write_env
from tests.utils import eventually

__all__ = ["opds"]  # the fixture, shared with the broadcast tests


@pytest.fixture
def sender_settings() -> dict[str, Any]:
    """Settings a test changes for its sender (parametrize it); none by default."""
    return {}


@pytest.fixture
def settings(settings: Settings, sender_settings: dict[str, Any]) -> Settings:
    return settings.model_copy(update=sender_settings)


def copies(user: SimUser, text: str) -> int:
    return texts(user).count(text)


def rows(db: Database) -> list[Delivery]:
    return db.run_sync(lambda session: list(session.exec(select(Delivery)).all()))


async def broadcast(admin: SimUser, text: str, count: int) -> None:
    """Compose and confirm a broadcast to every member (the admin included)."""
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, f"👥 Semua anggota ({count})")
    await compose(admin, text)
    confirm = await expect(admin, f"Kirim ke {count} penerima?")
    await admin.press(confirm, f"✅ Kirim sekarang ke {count}")


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
        assert texts(member).count("Sambungan putus") == 1, member.person.full_name
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
    assert never_arrived(error) is safe


SLOW = {"send_per_second": 5}  # slow enough that the outage lands mid-broadcast


@pytest.mark.parametrize("sender_settings", [SLOW])
async def test_while_telegram_is_unreachable_the_rows_wait_and_each_arrives_once(  # type: ignore[no-untyped-def]
    bot, sandbox, kediri, opds, caplog
) -> None:
    uji, dinkes = opds
    caplog.set_level(logging.INFO, logger="bot.delivery.sender")
    admin = await enrol(sandbox, kediri, "Admin Padam", dinkes, Role.ADMIN)
    members = [await enrol(sandbox, kediri, f"Anggota Padam {i}", uji) for i in range(19)]
    await broadcast(admin, "Listrik padam", 20)
    await eventually(lambda: sum(copies(m, "Listrik padam") for m in members) >= 3, within=20)
    await sandbox.refuse_connections()

    def probes() -> list[str]:
        logged = [r.getMessage() for r in caplog.records if r.name == "bot.delivery.sender"]
        return [line for line in logged if "still unreachable" in line]

    # Two probes have failed: the outage has lasted a while, and the rows are waiting.
    await eventually(lambda: len(probes()) >= 2, within=20)
    assert any(r.state == DeliveryState.PENDING for r in rows(kediri))
    assert not any(r.state == DeliveryState.FAILED for r in rows(kediri))
    await sandbox.accept_connections()
    await settle(bot, kediri)
    for member in members:
        assert copies(member, "Listrik padam") == 1, member.person.full_name
    assert copies(admin, "Listrik padam") == 2  # the preview, then the broadcast
    assert all(r.state == DeliveryState.SENT and not r.unconfirmed for r in rows(kediri))
    report = await expect(admin, "Siaran #1 selesai", within=30)
    assert "Terkirim: 20" in report.text and "Gagal: 0" in report.text
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.delivery.sender"]
    assert any("Telegram unreachable" in line and "ConnectError" in line for line in logged)
    # One line per probe with its cause, not one per row or per attempt.
    assert len(probes()) <= 4 and all("ConnectError" in line for line in probes())
    assert any("reachable again" in line for line in logged)


@pytest.mark.parametrize("sender_settings", [{**SLOW, "send_outage_limit": 2}])
async def test_an_outage_longer_than_its_limit_fails_the_rows_and_ends_in_a_report(  # type: ignore[no-untyped-def]
    bot, sandbox, kediri, opds
) -> None:
    uji, dinkes = opds
    admin = await enrol(sandbox, kediri, "Admin Gelap", dinkes, Role.ADMIN)
    members = [await enrol(sandbox, kediri, f"Anggota Gelap {i}", uji) for i in range(19)]
    await broadcast(admin, "Gelap gulita", 20)
    await eventually(lambda: sum(copies(m, "Gelap gulita") for m in members) >= 3, within=20)
    await sandbox.refuse_connections()
    # The rows wait out the limit (2 s here), then fail; the broadcast is over.
    await eventually(lambda: all(r.state != DeliveryState.PENDING for r in rows(kediri)), within=20)
    failed = [r for r in rows(kediri) if r.state == DeliveryState.FAILED]
    assert failed and all("unreachable" in (r.error or "") for r in failed)
    await sandbox.accept_connections()
    # The report could not be shown during the outage: it is shown once Telegram is back.
    report = await expect(admin, "Siaran #1 selesai", within=30)
    assert f"Gagal: {len(failed)}" in report.text
    assert f"Terkirim: {20 - len(failed)}" in report.text
    await admin.press(report, f"🔁 Kirim ulang yang gagal ({len(failed)})")
    await expect(admin, "Siaran #1 sedang dikirim", within=20)
    await settle(bot, kediri)
    for member in members:
        assert copies(member, "Gelap gulita") == 1, member.person.full_name


@pytest.mark.parametrize("sender_settings", [{"send_read_timeout": 1}])
async def test_a_send_telegram_never_answers_is_reported_unconfirmed_and_resent_on_request(  # type: ignore[no-untyped-def]
    bot, sandbox, kediri, opds
) -> None:
    uji, dinkes = opds
    admin = await enrol(sandbox, kediri, "Admin Diam", dinkes, Role.ADMIN)
    members = [await enrol(sandbox, kediri, f"Anggota Diam {i}", uji) for i in range(5)]
    silent = members[:2]
    # Telegram takes these two requests and never answers (the connection is dropped long
    # after the bot stopped waiting): the messages did not arrive, but the bot cannot know.
    for member in silent:
        sandbox.inject("sendMessage", chat_id=member.chat_id, hang=3, deliver=False)
    await broadcast(admin, "Tanpa jawaban", 6)
    await settle(bot, kediri)
    unconfirmed = {r.chat_id for r in rows(kediri) if r.unconfirmed}
    assert unconfirmed == {m.chat_id for m in silent}
    report = await expect(admin, "Belum pasti terkirim: 2", within=20)
    assert "Terkirim: 4" in report.text
    assert "tidak datang" in report.text and "berhenti" not in report.text
    document = None
    while document is None:
        message = await admin.next_message(timeout=20)
        document = message.message.get("document")
    data = sandbox.world.files[document["file_id"]].data.decode("utf-8-sig")
    listed = list(csv.reader(io.StringIO(data)))
    assert listed[0] == ["Nama", "Unit kerja"]
    assert sorted(row[0] for row in listed[1:]) == sorted(m.person.full_name for m in silent)
    assert all(str(m.id) not in data for m in [*members, admin])  # no Telegram ids
    await admin.press(report, "🔁 Kirim ulang ke yang belum pasti (2)")
    confirm = await expect(admin, "dua kali")
    await admin.press(confirm, "⚠️ Ya, kirim ulang ke 2")
    await expect(admin, "sedang dikirim ulang ke 2 penerima")
    await settle(bot, kediri)
    for member in members:
        assert copies(member, "Tanpa jawaban") == 1, member.person.full_name
    [audited] = [a for a in audit_rows(kediri) if a.action == "broadcast_resend_unconfirmed"]
    assert audited.actor_user_id == admin.id and audited.audience_size == 2
    assert await expect(admin, "Terkirim: 6", within=20)


@pytest.mark.parametrize("sender_settings", [SLOW])  # other copies are still due at the 429
async def test_a_429_for_one_chat_holds_that_chat_and_no_other(bot, sandbox, kediri, opds) -> None:  # type: ignore[no-untyped-def]
    uji, dinkes = opds
    busy = await enrol(sandbox, kediri, "Anggota Ramai", uji)  # the first row
    admin = await enrol(sandbox, kediri, "Admin Banjir", dinkes, Role.ADMIN)
    members = [await enrol(sandbox, kediri, f"Anggota Banjir {i}", uji) for i in range(12)]
    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, "👥 Semua anggota (14)")
    await compose(admin, "Satu obrolan")
    confirm = await expect(admin, "Kirim ke 14 penerima?")
    # This member is chatting with the bot right now, so the broadcast's copy spends the
    # last of the chat's burst; Telegram's flood control for this chat answers it with a
    # 429. Sending to it again within retry_after would be a violation; to others is fine.
    for _ in range(2):
        await busy.send("/profil")
        await expect(busy, "Profil Anda")
    sandbox.inject("sendMessage", chat_id=busy.chat_id, error_code=429, retry_after=5, flood="chat")
    await admin.press(confirm, "✅ Kirim sekarang ke 14")
    await settle(bot, kediri)
    for member in [*members, busy]:
        assert copies(member, "Satu obrolan") == 1, member.person.full_name
    calls = [c for c in sandbox.calls if c.method == "sendMessage"]
    [flood] = [c for c in calls if c.status == 429]
    others = [
        c
        for c in calls
        if c.ok and c.params.get("text") == "Satu obrolan" and int(c.params["chat_id"]) != busy.id
    ]
    assert len(others) == 14  # the admin's preview, then 13 copies
    # Copies were still to go when the 429 came; they went out while the busy chat was
    # held, not after it.
    assert any(c.time > flood.time for c in others)
    assert all(c.time < flood.time + 5 for c in others)


KILLED_AUDIENCE = 600
KILLS = 3


async def test_a_sigkill_mid_broadcast_never_sends_twice_and_loses_only_what_was_in_flight(  # type: ignore[no-untyped-def]
    sandbox, bot_token: str, kediri: Database, database_url: str, tmp_path: Path
) -> None:
    """The real `berakhlak run`, killed three times in the middle of a paid broadcast (the
    fastest, where most requests are in flight at once), restarted each time: nobody gets
    the message twice, and each kill loses at most the rows it left in flight, never more
    than MAX_IN_FLIGHT (16)."""
    unit = kediri.run_sync(lambda session: session.exec(select(Unit.id)).first())
    people = [sandbox.user(f"Anggota Mati {i}") for i in range(KILLED_AUDIENCE)]
    now = datetime.now(UTC)
    for person in people:
        person.start_quietly()

    def fill(session: Any) -> None:
        for person in people:
            session.add(
                Member(
                    telegram_user_id=person.id,
                    chat_id=person.chat_id,
                    full_name=person.person.full_name,
                    unit_id=unit,
                    language="id",
                    consent_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
        # Due already: `run` sends it as it starts.
        create_broadcast(
            session=session,
            kind="broadcast",
            created_by=None,
            audience={"type": "all"},
            content={"html": "Tahan banting"},
            paid=True,
            scheduled_at=now,
        )

    kediri.run_sync(fill)
    write_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=bot_token,
        BOT_API_BASE_URL=sandbox.api_base_url,
        BOT_API_FILE_URL=sandbox.file_base_url,
        DATABASE_URL=database_url,
        PAID_BROADCAST="true",
        LOG_LEVEL="WARNING",
    )
    by_chat = {p.chat_id: p for p in people}

    def received(chat_id: int) -> int:
        return texts(by_chat[chat_id]).count("Tahan banting")

    def in_flight() -> set[int]:
        return {r.chat_id for r in rows(kediri) if r.state == DeliveryState.SENDING}

    left: list[set[int]] = []
    for kill in range(KILLS):
        process = await berakhlak(tmp_path, "run")
        try:
            target = (kill + 1) * KILLED_AUDIENCE // (2 * KILLS)
            await eventually(lambda t=target: sum(map(received, by_chat)) >= t, within=120)  # type: ignore[misc]
            # Not just as a message arrived: a little later, differently each time.
            await asyncio.sleep(0.003 * kill)
        finally:
            process.send_signal(signal.SIGKILL)
            await process.communicate()
        left.append(in_flight())
    process = await berakhlak(tmp_path, "run")
    try:
        await eventually(lambda: all(r.state not in OPEN for r in rows(kediri)), within=120)
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await process.communicate()
    assert all(received(chat) <= 1 for chat in by_chat)  # never twice
    unconfirmed = {r.chat_id for r in rows(kediri) if r.unconfirmed}
    assert unconfirmed == set().union(*left)
    lost = {chat for chat in by_chat if received(chat) == 0}
    assert lost <= unconfirmed  # only rows a kill left in flight
    assert all(len(lost & chats) <= 16 for chats in left)
