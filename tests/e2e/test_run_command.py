"""The real console script `berakhlak run`, as a deployment starts it: a subprocess with the
environment of `.env.example`, a fresh database (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), the sandbox as Telegram. It must serve a quiz on a database it
has never seen, and stop on SIGTERM within 10 s with nothing lost."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from db.engine import Database
from db.models import AuditLog, Member, QuizAnswer, QuizPoll
from sandbox.simulation import Registrant, expect, register
from sandbox.state import BotMessage
from sandbox.users import SimUser
from tests.utils import eventually

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "berakhlak"
RINA = Registrant("Rina Kusumawati", "sukorame", "Puskesmas Sukorame", nip="198703152012032004")
BUDI = Registrant("Budi Santoso", "sukorame", "Puskesmas Sukorame", nip="199001012015031001")


def _fresh_postgres(name: str) -> Iterator[str]:
    base = os.environ["TEST_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    server, _, _ = base.rpartition("/")
    admin = Database(f"{server}/postgres".replace("postgresql://", "postgresql+psycopg://"))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'berakhlak.sqlite3'}"
        return
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL run needs TEST_DATABASE_URL (CI sets it)")
    yield from _fresh_postgres("berakhlak_run_e2e")


def write_env(folder: Path, **values: str) -> None:
    """`.env.example` as an HR person fills it in: the same keys, their own values."""
    lines = []
    for line in (ROOT / ".env.example").read_text("utf-8").splitlines():
        key, sep, _ = line.partition("=")
        if sep and not line.startswith("#") and key in values:
            line = f"{key}={values.pop(key)}"
        lines.append(line)
    assert not values, f"not in .env.example: {sorted(values)}"
    (folder / ".env").write_text("\n".join(lines) + "\n", "utf-8")


async def import_roster(folder: Path) -> None:
    """`berakhlak units import` of the shipped Kota Kediri roster, as HR runs it first."""
    (folder / "data").mkdir(exist_ok=True)
    roster = await berakhlak(
        folder, "units", "import", str(ROOT / "content/units/kota_kediri.yaml")
    )
    out, _ = await roster.communicate()
    assert roster.returncode == 0, out.decode()


async def berakhlak(folder: Path, *args: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    return await asyncio.create_subprocess_exec(
        str(SCRIPT),
        *args,
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


@pytest.fixture
async def running(
    sandbox, bot_token: str, fresh_url: str, tmp_path: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, SimUser, Database]]:  # type: ignore[no-untyped-def]
    rina = sandbox.user("Rina Kusumawati", username="rina_hr")
    write_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=bot_token,
        BOT_API_BASE_URL=sandbox.api_base_url,
        BOT_API_FILE_URL=sandbox.file_base_url,
        DATABASE_URL=fresh_url,
        SUPERADMIN_IDS=str(rina.id),
        LOG_LEVEL="DEBUG",
    )
    await import_roster(tmp_path)
    # Telegram unreachable for the first two tries: the bot waits instead of dying.
    sandbox.inject("getMe", drop=True, times=2)
    process = await berakhlak(tmp_path, "run")
    db = Database(fresh_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        yield process, rina, db
    finally:
        if process.returncode is None:
            process.kill()
            output, _ = await process.communicate()
            print(output.decode()[-5000:])  # shown when the test failed
        db.close()


async def poll_after(user: SimUser, fragment: str) -> BotMessage:
    await expect(user, fragment, within=20)
    while True:
        message = await user.next_message(timeout=10)
        if message.poll is not None:
            return message


async def test_run_serves_a_quiz_on_a_fresh_database_and_stops_on_sigterm(
    running, sandbox, bot_token: str
) -> None:
    process, rina, db = running
    # Starting (imports, migrations, the content check, two failed tries) takes seconds,
    # more on a busy machine: wait until it polls, as a person would wait for an answer.
    await eventually(
        lambda: any(c.method.lower() == "getupdates" for c in sandbox.calls), within=90
    )
    await register(rina, RINA)
    [admin] = db.run_sync(lambda session: list(session.exec(select(Member)).all()))
    assert admin.role == "superadmin"  # from SUPERADMIN_IDS, set by the start-up path
    budi = sandbox.user("Budi Santoso", username="budi_kediri")
    await register(budi, BUDI)

    await budi.send("/kuis")  # the bank was loaded by `run` itself
    practice = await budi.next_message(timeout=20)
    while practice.poll is None:
        practice = await budi.next_message(timeout=10)
    assert practice.poll["type"] == "quiz"

    await rina.send("/kirim_kuis_sekarang")
    confirm = await expect(rina, "Kirim satu ronde kuis sekarang?")
    await rina.press(confirm, "✅ Kirim ke 2 orang")
    first = await poll_after(budi, "Kuis BerAKHLAK")
    await budi.answer_poll(first, [0])
    await budi.answer_poll(practice, [1])

    def answers() -> int:
        return len(db.run_sync(lambda session: list(session.exec(select(QuizAnswer)).all())))

    try:
        await eventually(lambda: answers() == 2, within=20)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        raise AssertionError(f"{answers()} answers; bot said:\n{output.decode()[-3000:]}") from None
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(10):
        output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()[-2000:]
    # Nothing lost: both answers, every poll of the round recorded with its member.
    assert answers() == 2
    polls = db.run_sync(lambda session: list(session.exec(select(QuizPoll)).all()))
    assert len([p for p in polls if p.round_id is not None]) == 6  # 3 questions x 2 members
    log = output.decode()
    assert "content synced" in log
    assert log.count("Telegram not reachable") == 2
    assert "DEBUG bot.app.updates: update" in log  # LOG_LEVEL=DEBUG was applied
    # At DEBUG, still no token and no personal data (names, usernames, NIP), library dumps
    # included.
    for secret in (
        bot_token,
        bot_token.split(":")[1],
        "Rina",
        "Kusumawati",
        "Budi",
        "rina_hr",
        "budi_kediri",
        RINA.nip,
        BUDI.nip,
    ):
        assert secret not in log, f"{secret!r} in the log"


async def test_a_vote_confirmed_to_telegram_survives_a_sigkill_before_its_commit(
    running, sandbox, fresh_url: str, tmp_path: Path
) -> None:
    """The database is locked (a backup, a stuck process) when a vote comes; Telegram is
    told it was handled (the vote is in the journal), then the process is killed. The
    next `berakhlak run` records it, once."""
    if not fresh_url.startswith("sqlite"):
        pytest.skip("a lock that outlasts the process needs SQLite")
    process, rina, db = running
    await eventually(
        lambda: any(c.method.lower() == "getupdates" for c in sandbox.calls), within=90
    )
    await register(rina, RINA)
    budi = sandbox.user("Budi Santoso", username="budi_kediri")
    await register(budi, BUDI)
    await rina.send("/kirim_kuis_sekarang")
    confirm = await expect(rina, "Kirim satu ronde kuis sekarang?")
    await rina.press(confirm, "✅ Kirim ke 2 orang")
    first = await poll_after(budi, "Kuis BerAKHLAK")
    await eventually(
        lambda: len(db.run_sync(lambda session: list(session.exec(select(QuizPoll)).all()))) == 6,
        within=20,
    )

    def answers() -> list[QuizAnswer]:
        return db.run_sync(lambda session: list(session.exec(select(QuizAnswer)).all()))

    lock = sqlite3.connect(fresh_url.removeprefix("sqlite:///"), isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        await budi.answer_poll(first, [0])
        # Confirmed: Telegram would not send it again.
        await eventually(lambda: all(not b.updates for b in sandbox.world.bots.values()), within=20)
        process.kill()
        await process.communicate()
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert answers() == []
    again = await berakhlak(tmp_path, "run")
    try:
        await eventually(lambda: len(answers()) == 1, within=90)
        await asyncio.sleep(1.0)  # a second copy would come now
        [answer] = answers()
        assert answer.poll_id == first.poll["id"]
    finally:
        again.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            output, _ = await again.communicate()
    assert "recorded again" in output.decode()
    assert len(answers()) == 1


async def test_a_second_bot_on_the_same_vote_journal_refuses_to_start(
    running, sandbox, fresh_url: str, tmp_path: Path
) -> None:
    """Two processes would each record the other's votes from one journal (and, polling
    one token, take each other's updates): on SQLite the second one stops and says why."""
    if not fresh_url.startswith("sqlite"):
        pytest.skip("on PostgreSQL a second process is a standby worker (test_workers.py)")
    process, _, _ = running
    await eventually(
        lambda: any(c.method.lower() == "getupdates" for c in sandbox.calls), within=90
    )
    second = await berakhlak(tmp_path, "run")
    async with asyncio.timeout(60):
        output, _ = await second.communicate()
    assert second.returncode == 1
    assert "refusing to start" in output.decode() and "VOTE_JOURNAL" in output.decode()
    assert process.returncode is None  # the first one goes on


async def test_superadmin_ids_are_applied_both_ways_on_every_start(
    sandbox, bot_token: str, tmp_path: Path, settings, kediri: Database
) -> None:  # type: ignore[no-untyped-def]
    """A member listed after registering becomes superadmin at the next start; one removed
    from the list goes back to member; each change is audited."""
    from bot.app.startup import prepare
    from tests.utils import running_bot

    budi, siti = sandbox.user("Budi Santoso"), sandbox.user("Siti Aminah")
    async with running_bot(settings.model_copy(update={"superadmin_ids": [siti.id]}), kediri):
        await register(budi, BUDI)
        await register(siti, Registrant("Siti Aminah", "sukorame", "Puskesmas Sukorame"))

    def roles() -> dict[int, str]:
        rows = kediri.run_sync(lambda session: list(session.exec(select(Member)).all()))
        return {m.telegram_user_id: m.role for m in rows}

    assert roles() == {budi.id: "member", siti.id: "superadmin"}
    await asyncio.to_thread(prepare, settings.model_copy(update={"superadmin_ids": [budi.id]}))
    assert roles() == {budi.id: "superadmin", siti.id: "member"}
    audit = kediri.run_sync(
        lambda session: list(
            session.exec(select(AuditLog).where(AuditLog.action == "role_from_config")).all()
        )
    )
    assert sorted((a.detail["from"], a.detail["to"]) for a in audit) == [
        ("member", "superadmin"),
        ("superadmin", "member"),
    ]
    # Unchanged configuration, unchanged roles, no new audit rows.
    await asyncio.to_thread(prepare, settings.model_copy(update={"superadmin_ids": [budi.id]}))
    assert roles() == {budi.id: "superadmin", siti.id: "member"}
    assert (
        len(
            kediri.run_sync(
                lambda session: list(
                    session.exec(
                        select(AuditLog).where(AuditLog.action == "role_from_config")
                    ).all()
                )
            )
        )
        == 2
    )


def test_invalid_content_stops_the_start_with_file_item_and_rule(
    monkeypatch: pytest.MonkeyPatch, settings, database_url: str
) -> None:  # type: ignore[no-untyped-def]
    from bot.app import startup
    from content.loader import Problem

    problem = Problem(
        "content/questions/berorientasi_pelayanan.yaml", "BP-001", "correct out of range"
    )
    monkeypatch.setattr(startup, "check_all", lambda: (None, [problem]))
    startup.checked_content.cache_clear()
    try:
        with pytest.raises(startup.InvalidContent) as refused:
            startup.prepare(settings)
    finally:
        startup.checked_content.cache_clear()
    assert "1 problem(s)" in str(refused.value)
    assert "berorientasi_pelayanan.yaml" in str(refused.value) and "BP-001" in str(refused.value)


async def test_run_refuses_a_token_telegram_rejects(
    sandbox, bot_token: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    write_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=bot_token,
        BOT_API_BASE_URL=sandbox.api_base_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
    )
    sandbox.inject("getMe", error_code=401, description="Unauthorized")
    process = await berakhlak(tmp_path, "run")
    async with asyncio.timeout(30):
        output, _ = await process.communicate()
    assert process.returncode == 1
    assert "rejected the token (401): check TELEGRAM_BOT_TOKEN" in output.decode()
    assert bot_token not in output.decode()
