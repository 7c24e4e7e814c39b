"""The update processor and the per-person limiter, driven directly: the order in which
handlers start and finish, not how long they take."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import CallbackQuery, Chat, Message, PollAnswer, Update, User

from bot.app.updates import PerUserUpdateProcessor
from bot.core.limits import Limiter, Rate

NOW = datetime(2026, 12, 9, 6, 0, tzinfo=UTC)


def message(update_id: int, user_id: int, text: str = "halo") -> Update:
    user = User(user_id, "Anggota", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, NOW, chat, from_user=user, text=text))


def press(update_id: int, user_id: int) -> Update:
    user = User(user_id, "Anggota", is_bot=False)
    return Update(update_id, callback_query=CallbackQuery(str(update_id), user, "inst", data="x"))


def vote(update_id: int, user_id: int) -> Update:
    user = User(user_id, "Anggota", is_bot=False)
    return Update(
        update_id,
        poll_answer=PollAnswer(str(update_id), [0], user=user, option_persistent_ids=["0"]),
    )


class Handlers:
    """Stands in for the application: records what started and finished, and holds the
    flooder's handlers until the test lets them go."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.finished: list[int] = []
        self.release = asyncio.Event()
        self.slow: set[int] = set()

    async def handle(self, update: Update) -> None:
        self.started.append(update.update_id)
        user = update.effective_user
        if user is not None and user.id in self.slow and update.poll_answer is None:
            await self.release.wait()
        self.finished.append(update.update_id)


async def feed(
    processor: PerUserUpdateProcessor, handlers: Handlers, updates: list[Update]
) -> list[asyncio.Task[None]]:
    """As PTB's update fetcher does: one task per update, created in arrival order."""
    tasks = [asyncio.create_task(processor.process_update(u, handlers.handle(u))) for u in updates]
    await asyncio.sleep(0)
    return tasks


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_flooder_waiting_for_their_turn_holds_no_shared_place() -> None:
    # Two shared places: before, the flooder's second update took the other one while it
    # waited for the first, and nobody else got in until the flood had drained.
    processor = PerUserUpdateProcessor(max_concurrent_updates=2, per_person=50)
    handlers = Handlers()
    handlers.slow = {1}
    flood = await feed(processor, handlers, [message(n, 1) for n in range(1, 31)])
    others = await feed(processor, handlers, [message(100 + n, 2 + n) for n in range(5)])
    await asyncio.wait_for(asyncio.gather(*others), timeout=5)
    assert handlers.finished == [100, 101, 102, 103, 104]
    assert handlers.started[0] == 1 and len([s for s in handlers.started if s < 100]) == 1
    handlers.release.set()
    await asyncio.wait_for(asyncio.gather(*flood), timeout=5)
    # The person's own updates still ran one at a time, in the order they came.
    assert [f for f in handlers.finished if f < 100] == list(range(1, 31))
    assert processor._lanes == {}


async def test_past_the_cap_updates_are_dropped_with_one_notice_per_burst() -> None:
    processor = PerUserUpdateProcessor(max_concurrent_updates=8, per_person=5)
    notices: list[tuple[int, bool]] = []

    async def on_dropped(update: object, first: bool) -> None:
        assert isinstance(update, Update)
        notices.append((update.update_id, first))

    processor.on_dropped = on_dropped
    handlers = Handlers()
    handlers.slow = {1}
    updates = [message(n, 1) for n in range(1, 13)] + [press(n, 1) for n in range(13, 16)]
    tasks = await feed(processor, handlers, updates)
    # Quiz votes are never capped: each names its own poll and waits for nobody.
    votes = await feed(processor, handlers, [vote(200 + n, 1) for n in range(30)])
    await asyncio.wait_for(asyncio.gather(*votes), timeout=5)
    await settle()
    assert processor.dropped == 10
    # One notice for the burst (the first message dropped); the dropped buttons are still
    # answered, silently, so no spinner is left turning.
    assert notices == [(6, True), (13, False), (14, False), (15, False)]
    handlers.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert [f for f in handlers.finished if f < 200] == [1, 2, 3, 4, 5]
    assert sorted(f for f in handlers.finished if f >= 200) == list(range(200, 230))
    # Later, within the same burst: room again, and no second notice.
    handlers.slow = set()
    more = await feed(processor, handlers, [message(n, 1) for n in range(300, 310)])
    await asyncio.wait_for(asyncio.gather(*more), timeout=5)
    await settle()
    assert [n for n in notices if n[1]] == [(6, True)]
    await processor.shutdown()


async def test_a_limiter_allows_a_burst_then_one_per_interval() -> None:
    now = [0.0]
    limiter = Limiter(Rate(3, 10.0), now=lambda: now[0])
    assert [limiter.take(7) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take(7) == 10.0
    assert limiter.take(8) == 0.0  # another person has their own allowance
    now[0] = 10.0
    assert limiter.take(7) == 0.0 and limiter.take(7) == 10.0
    now[0] = 1000.0
    assert [limiter.take(7) for _ in range(4)] == [0.0, 0.0, 0.0, 10.0]
    assert Rate.per_minute(6) == Rate(6, 10.0)


async def test_a_limiter_forgets_people_whose_allowance_is_full() -> None:
    now = [0.0]
    limiter = Limiter(Rate(2, 1.0), now=lambda: now[0])
    for person in range(5000):
        now[0] += 0.01
        assert limiter.take(person) == 0.0
    # Only those seen in the last second or so are still remembered, however many came.
    assert len(limiter) < 2048
