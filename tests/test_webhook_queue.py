"""The webhook's update queue: Telegram's 200 (the return of `put`) never comes before the
update is safe, even for a copy Telegram sends again while the first is still held."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Update

from bot.app.votes import CommitFirstQueue


def vote(update_id: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "poll_answer": {
                "poll_id": "p1",
                "user": {"id": 5_000_000_001, "is_bot": False, "first_name": "Budi"},
                "option_ids": [1],
                "option_persistent_ids": ["b"],
            },
        },
        None,
    )


async def test_a_copy_sent_again_waits_for_the_first_and_is_not_kept_twice() -> None:
    queue = CommitFirstQueue()
    kept: list[list[dict[str, object]]] = []
    disk = asyncio.Event()

    async def sink(votes: list[dict[str, object]]) -> None:
        await disk.wait()  # the journal's flush, slow (or waiting for room)
        kept.append(votes)

    queue.sink = sink
    first = asyncio.create_task(queue.put(vote(7)))
    await asyncio.sleep(0.01)
    again = asyncio.create_task(queue.put(vote(7)))  # Telegram gave up waiting and retries
    await asyncio.sleep(0.05)
    assert not again.done()  # no 200 for an update not yet on disk
    disk.set()
    await asyncio.wait_for(asyncio.gather(first, again), timeout=5)
    assert len(kept) == 1
    await queue.put(vote(7))  # a later copy: dropped at once
    assert len(kept) == 1


async def test_a_copy_sent_again_after_the_first_failed_is_handled() -> None:
    queue = CommitFirstQueue()
    tries = 0

    async def sink(votes: list[dict[str, object]]) -> None:
        nonlocal tries
        tries += 1
        if tries == 1:
            raise OSError("disk full")

    queue.sink = sink
    with pytest.raises(OSError):
        await queue.put(vote(8))  # Telegram gets an error and sends it again
    await queue.put(vote(8))
    assert tries == 2
