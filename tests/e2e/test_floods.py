"""Fair under floods: one account sending hundreds of messages is cut short with one polite
notice and delays nobody else, and costly requests are limited per person, answered
politely, with nothing extra stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot.core.config import Settings
from db.engine import Database
from db.models import AuditLog, QuizPoll, Reflection
from db.queries.members import create_member
from db.queries.units import list_opd
from sandbox.simulation import expect
from sandbox.users import SimUser
from tests.utils import running_bot

FLOOD = 300
CAP = 10  # queued updates per person in these tests (20 by default): the same rule, quicker
NOTICE = "lebih cepat daripada yang bisa kami jawab"


async def enrol(sandbox: Any, db: Database, name: str) -> SimUser:
    user = sandbox.user(name)
    db.run_sync(
        create_member,
        telegram_user_id=user.id,
        chat_id=user.chat_id,
        full_name=name,
        unit_id=db.run_sync(list_opd)[0].id,
        nip=None,
        language="id",
        consent_at=datetime.now(UTC),
    )
    return user


def bot_texts(user: SimUser) -> list[str]:
    return [
        m.get("text") or m.get("caption") or ""
        for m in user.transcript
        if m["from"]["is_bot"] and ("text" in m or "caption" in m)
    ]


async def quiet(user: SimUser, seconds: float) -> None:
    """Until the bot has sent nothing more to this chat for `seconds`."""
    while True:
        before = len(user.transcript)
        await asyncio.sleep(seconds)
        if len(user.transcript) == before:
            return


def count(db: Database, model: Any) -> int:
    return db.run_sync(lambda session: len(session.exec(select(model)).all()))


async def test_a_flood_is_cut_with_one_notice_and_delays_nobody_else(
    sandbox, settings: Settings, kediri: Database
) -> None:
    flooder = await enrol(sandbox, kediri, "Banjir Pesan")
    other = await enrol(sandbox, kediri, "Rina Sabar")
    capped = settings.model_copy(update={"queued_updates_per_person": CAP})
    async with running_bot(capped, kediri) as app:
        for n in range(FLOOD):
            await flooder.send(f"Refleksi nomor {n}: melayani dengan sepenuh hati.")
        await other.send("/profil")
        await expect(other, "Profil Anda", within=30)
        # The other member's answer came while the flooder's accepted messages were still
        # being answered (one a second in a private chat): it did not queue behind them.
        answered_then = len([t for t in bot_texts(flooder) if NOTICE not in t])
        assert answered_then < CAP
        await quiet(flooder, 3.0)
        texts = bot_texts(flooder)
        replies = [t for t in texts if NOTICE not in t]
        dropped = app.update_processor.dropped  # type: ignore[attr-defined]
    assert answered_then < len(replies)
    # One notice for the whole burst; every message either answered or dropped, unread.
    assert len(texts) - len(replies) == 1
    assert len(replies) + dropped == FLOOD
    assert CAP <= len(replies) < FLOOD // 2
    # Only what was answered "tersimpan" is stored: the reflections' own per-person limit
    # answered the rest of the accepted ones with "coba lagi sebentar lagi".
    saved = sum("sudah tersimpan" in t for t in replies)
    later = sum("Coba lagi sebentar lagi" in t for t in replies)
    assert saved + later == len(replies) and later > 0
    assert count(kediri, Reflection) == saved <= settings.reflections_per_minute + 2
    assert sandbox.violations == []


async def test_costly_requests_are_limited_per_person_and_store_nothing_extra(
    sandbox, settings: Settings, kediri: Database
) -> None:
    """A limit of one or two a minute, so the test cannot outrun the allowance's refill."""
    member = await enrol(sandbox, kediri, "Sering Bertanya")
    neighbour = await enrol(sandbox, kediri, "Tetangga Meja")
    strict = settings.model_copy(
        update={
            "score_per_minute": 1,
            "practice_per_minute": 2,
            "reflections_per_minute": 2,
            "refused_per_minute": 2,
        }
    )
    async with running_bot(strict, kediri):
        await member.send("/skor")
        await expect(member, "Skor Anda", within=20)
        await member.send("/skor")
        await expect(member, "Kartu skor Anda baru saja dikirim. Coba lagi sebentar lagi")
        # Another person's allowance is their own.
        await neighbour.send("/skor")
        await expect(neighbour, "Skor Anda", within=20)

        for _ in range(2):
            await member.send("/kuis")
            while (await member.next_message(timeout=10)).poll is None:
                pass
        await member.send("/kuis")
        await expect(member, "Jawab dulu yang sudah ada, lalu coba lagi sebentar lagi")

        for n in range(3):
            await member.send(f"Hari ini saya belajar hal baru, ke-{n}.")
        await expect(member, "sudah tersimpan")
        await expect(member, "sudah tersimpan")
        await expect(member, "belum tersimpan sebagai refleksi")

        for _ in range(4):
            await member.send("/statistik")
        for _ in range(4):
            await expect(member, "hanya untuk admin program")
        await quiet(member, 1.0)
    assert count(kediri, Reflection) == 2
    assert count(kediri, QuizPoll) == 2
    # Refused attempts past the limit are answered the same but not written: one line,
    # counting the two within it.
    refused = kediri.run_sync(lambda session: list(session.exec(select(AuditLog)).all()))
    assert len(refused) == 1 and not refused[0].allowed
    assert refused[0].detail.get("count", 1) == 2
    assert sandbox.violations == []


async def test_a_flood_of_buttons_is_answered_and_cut_short(
    sandbox, settings: Settings, kediri: Database
) -> None:
    """Dropped presses are still answered (Telegram's spinner stops), the first with the
    notice; refusals past the per-person limit write nothing."""
    stranger = sandbox.user("Penekan Tombol")
    capped = settings.model_copy(update={"queued_updates_per_person": CAP, "refused_per_minute": 2})
    async with running_bot(capped, kediri) as app:
        queries = [await stranger.press_forged(1, f"adm:del:{n % 7 + 1}") for n in range(200)]
        answers = await asyncio.gather(
            *(sandbox.wait_callback_answer(q, timeout=60) for q in queries)
        )
        dropped = app.update_processor.dropped  # type: ignore[attr-defined]
    texts = [a.get("text") or "" for a in answers]
    assert sum("Terlalu banyak tombol" in t for t in texts) == 1
    refusals = sum("hanya untuk admin" in t for t in texts)
    assert refusals + dropped == 200 and refusals >= CAP
    silent = sum(not t for t in texts)
    assert silent == dropped - 1
    rows = kediri.run_sync(lambda session: list(session.exec(select(AuditLog)).all()))
    assert len(rows) == 1
    assert rows[0].detail.get("count", 1) == 2
