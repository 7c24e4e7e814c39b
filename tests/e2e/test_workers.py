"""Two `berakhlak run` workers on one PostgreSQL, as compose runs them: the bot is run by
one of them at a time; SIGKILL that one in the middle of a broadcast and the other takes
the bot over within 30 s, finishes the broadcast, and nobody gets it twice. Who may have
got it from the dead worker is reported unconfirmed, as after any kill."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from db.engine import Database
from db.models import Broadcast, Delivery, Role
from db.queries import leases
from db.queries.members import create_member
from db.queries.units import list_children, list_opd
from sandbox.simulation import expect
from tests.e2e.test_run_command import _fresh_postgres, berakhlak, import_roster, write_env
from tests.utils import eventually

AUDIENCE = 300
TEXT = "Apel pagi dipindah ke halaman balai kota"


def holder_pid(db: Database) -> int | None:
    """The process holding the bot's lease (a worker's name ends in its pid and a suffix)."""
    holder = db.run_sync(leases.holders).get("utama")
    return int(holder.split("-")[-2]) if holder else None


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("several workers need PostgreSQL: TEST_DATABASE_URL (CI sets it)")
    yield from _fresh_postgres("berakhlak_workers_e2e")


@pytest.fixture
async def workers(
    sandbox, bot_token: str, pg_url: str, tmp_path: Path
) -> AsyncIterator[list[asyncio.subprocess.Process]]:  # type: ignore[no-untyped-def]
    write_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=bot_token,
        BOT_API_BASE_URL=sandbox.api_base_url,
        BOT_API_FILE_URL=sandbox.file_base_url,
        DATABASE_URL=pg_url,
        LOG_LEVEL="INFO",
    )
    # Both workers share data/ (the vote journal), as compose's workers share a volume.
    await import_roster(tmp_path)
    started: list[asyncio.subprocess.Process] = []
    try:
        yield started
    finally:
        for process in started:
            if process.returncode is None:
                process.kill()
            output, _ = await process.communicate()
            print(output.decode()[-4000:])  # shown when the test failed


async def test_a_killed_workers_bot_is_taken_over_and_nothing_is_sent_twice(
    sandbox, workers: list[asyncio.subprocess.Process], pg_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    db = Database(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        opd = next(u for u in db.run_sync(list_opd) if u.code == "DINKES")
        unit = db.run_sync(list_children, opd_id=opd.id)[0].id
        people = []
        for number in range(AUDIENCE):
            user = sandbox.user(f"Pegawai {number}")
            user.start_quietly()
            people.append(user)
        admin = sandbox.user("Hadi Admin")
        admin.start_quietly()
        for user, role in [(admin, Role.ADMIN), *((p, Role.MEMBER) for p in people)]:
            db.run_sync(
                create_member,
                telegram_user_id=user.id,
                chat_id=user.chat_id,
                full_name=user.first_name,
                unit_id=unit,
                nip=None,
                language="id",
                consent_at=datetime(2026, 12, 1, tzinfo=UTC),
                role=role,
            )
        first = await berakhlak(tmp_path, "run")
        workers.append(first)
        await eventually(lambda: bool(db.run_sync(leases.holders).get("utama")), within=90)
        second = await berakhlak(tmp_path, "run")
        workers.append(second)
        # The second is a standby: one bot, already held.
        await asyncio.sleep(8)
        assert holder_pid(db) == first.pid

        await admin.send("/broadcast")
        menu = await expect(admin, "Pilih penerima", within=20)
        everyone = f"👥 Semua anggota ({AUDIENCE + 1})"
        await admin.press(menu, everyone)
        await expect(admin, f"Penerima: {AUDIENCE + 1} orang")
        await admin.send(TEXT)
        await expect(admin, "Pratinjau")
        confirm = await expect(admin, f"Kirim ke {AUDIENCE + 1} penerima?")
        await admin.press(confirm, f"✅ Kirim sekarang ke {AUDIENCE + 1}")

        def received() -> list[int]:
            return [
                sum(1 for m in p.transcript if m["from"]["is_bot"] and m.get("text") == TEXT)
                for p in people
            ]

        await eventually(lambda: sum(received()) >= AUDIENCE // 4, within=60)
        first.kill()
        await first.communicate()
        killed_at = asyncio.get_running_loop().time()
        await eventually(lambda: holder_pid(db) == second.pid, within=30)
        taken_over = asyncio.get_running_loop().time() - killed_at
        assert taken_over <= 30

        def finished() -> bool:
            [row] = db.run_sync(lambda session: list(session.exec(select(Broadcast)).all()))
            return row.finished_at is not None

        await eventually(finished, within=90)
        counts = received()
        assert max(counts) == 1, "someone got the broadcast twice"
        rows = db.run_sync(
            lambda session: [(d.state, d.unconfirmed) for d in session.exec(select(Delivery))]
        )
        states = [state for state, _ in rows]
        missing = counts.count(0)
        unconfirmed = sum(1 for _, u in rows if u)
        # Only a request on the wire when the worker died may be unconfirmed, and only an
        # unconfirmed one may have been lost; every other member got it exactly once.
        assert missing <= unconfirmed <= 16
        assert states.count("sent") == AUDIENCE + 1
        report = await expect(admin, "Siaran #1 selesai", within=30)
        assert f"Terkirim: {AUDIENCE + 1 - unconfirmed}" in (report.text or "")
        if unconfirmed:
            assert f"Belum pasti terkirim: {unconfirmed}" in (report.text or "")
    finally:
        db.close()
