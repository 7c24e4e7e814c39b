"""Leases among worker processes on one PostgreSQL: a bot has one holder at a time, a
dead worker's bots are free once their lease expires, and the share follows the live
workers. (SQLite runs one process, guarded by the vote journal's lock: no leases.)"""

from __future__ import annotations

import asyncio
import time

import pytest

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
