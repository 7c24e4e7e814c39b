"""Leases among worker processes on one PostgreSQL: a bot has one holder at a time, a
dead worker's bots are free once their lease expires, and the share follows the live
workers. (SQLite runs one process, guarded by the vote journal's lock: no leases.)"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlmodel import select

from db.engine import Database
from db.queries import leases

BOTS = ["a", "b", "c"]


@pytest.fixture
def pg(db: Database) -> Database:
    if db.url.startswith("sqlite"):
        pytest.skip("leases are PostgreSQL's: SQLite serves one process (TEST_DATABASE_URL)")
    return db


def test_a_bot_has_one_holder_and_is_freed_when_its_worker_stops_renewing(pg: Database) -> None:
    assert pg.run_sync(leases.beat, worker="w1", ttl=1.0) == 1
    assert pg.run_sync(leases.beat, worker="w2", ttl=30.0) == 2
    assert sorted(pg.run_sync(leases.take, worker="w1", codes=BOTS, most=3, ttl=1.0)) == BOTS
    # Held: the other worker gets none of them, however many it asks for.
    assert pg.run_sync(leases.take, worker="w2", codes=BOTS, most=3, ttl=30.0) == []
    assert pg.run_sync(leases.renew, worker="w1", ttl=1.0) == set(BOTS)
    pg.run_sync(leases.release, worker="w1", codes=["c"])
    assert pg.run_sync(leases.take, worker="w2", codes=BOTS, most=3, ttl=30.0) == ["c"]
    # w1 dies: no renewal. Once its leases expire (the database's clock), w2 takes them,
    # and w1, were it only paused, finds on its next renewal that it holds nothing.
    time.sleep(1.2)
    assert pg.run_sync(leases.beat, worker="w2", ttl=30.0) == 1
    assert sorted(pg.run_sync(leases.take, worker="w2", codes=BOTS, most=3, ttl=30.0)) == [
        "a",
        "b",
    ]
    assert pg.run_sync(leases.renew, worker="w1", ttl=1.0) == set()
    assert pg.run_sync(leases.holders) == {"a": "w2", "b": "w2", "c": "w2"}
    # A clean stop hands everything back at once, its own lease included.
    pg.run_sync(leases.release, worker="w2")
    assert pg.run_sync(leases.holders) == {"a": None, "b": None, "c": None}
    assert pg.run_sync(leases.beat, worker="w3", ttl=30.0) == 1


async def test_two_workers_taking_at_once_never_take_the_same_bot(pg: Database) -> None:
    workers = [f"w{i}" for i in range(6)]
    taken = await asyncio.gather(
        *(pg.run(leases.take, worker=w, codes=BOTS, most=3, ttl=30.0) for w in workers)
    )
    every = [code for codes in taken for code in codes]
    assert sorted(every) == BOTS  # each bot once, whoever won it


async def test_in_webhook_mode_a_second_worker_stands_by_until_the_first_lets_go(
    pg: Database, settings
) -> None:  # type: ignore[no-untyped-def]
    from bot.app.workers import WebhookLease

    first, second = WebhookLease(settings), WebhookLease(settings)
    await asyncio.to_thread(first.acquire)
    waiting = asyncio.create_task(asyncio.to_thread(second.acquire))
    await asyncio.sleep(4)
    assert not waiting.done()  # a standby: it neither listens nor sends
    assert pg.run_sync(leases.holders) == {"utama": first.name}

    class App:
        stopped = False

        def stop_running(self) -> None:
            self.stopped = True

    app = App()
    await first.renew(app)  # type: ignore[arg-type]
    assert not app.stopped
    first.release()  # a clean stop; a killed worker's lease expires instead
    async with asyncio.timeout(10):
        await waiting
    assert pg.run_sync(leases.holders) == {"utama": second.name}
    # Were the first only paused, its next renewal finds the lease gone, and it stops.
    paused = WebhookLease(settings)
    paused.name = first.name
    await paused.renew(app)  # type: ignore[arg-type]
    assert app.stopped
    paused.release()
    second.release()


async def test_workers_starting_together_prepare_a_database_once(pg: Database, settings) -> None:  # type: ignore[no-untyped-def]
    """Two workers start at the same moment on an instansi nobody has prepared: one
    migrates and loads the bank while the other waits, instead of both inserting it."""
    from bot.app.startup import prepare
    from db.models import QuestionRow
    from db.tenancy import tenant_url

    fresh = settings.model_copy(update={"database_url": tenant_url(pg.url, "kab_serentak")})
    first, second = await asyncio.gather(
        asyncio.to_thread(prepare, fresh), asyncio.to_thread(prepare, fresh)
    )
    assert {first.bank.added, second.bank.added} == {0, len(first.content.questions)}
    tenant = Database(fresh.database_url, workers=1)
    try:
        rows = tenant.run_sync(lambda session: len(session.exec(select(QuestionRow)).all()))
    finally:
        tenant.close()
    assert rows == len(first.content.questions)
