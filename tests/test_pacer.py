"""The pacer on a virtual clock: the real asyncio code runs, but time only passes when every
task waits, so a two-minute broadcast with a network, stalls and fast typists replays in a
moment and the same way each time. Telegram is modelled by the sandbox's own strict rate
limiter, fed the moment each send *arrives*; no assertion depends on the wall clock."""

from __future__ import annotations

import asyncio
import itertools
import random
import selectors
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.delivery.pacer import Limits, Pacer, Ticket
from sandbox.errors import ApiError
from sandbox.ratelimit import STRICT, RateLimiter


class _Selector(selectors.SelectSelector):
    """Never waits: a wait for `timeout` moves the virtual clock on by that much."""

    def __init__(self, loop: VirtualLoop) -> None:
        super().__init__()
        self.loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is None:
            raise RuntimeError("every task waits for something that never comes")
        self.loop.clock += max(0.0, timeout)
        return []


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.clock = 1000.0
        super().__init__(selector=_Selector(self))

    def time(self) -> float:
        return self.clock

    def stall(self, seconds: float) -> None:
        """The event loop is blocked (a long callback): timers due meanwhile fire late."""
        self.clock += seconds


def run(main: Callable[[VirtualLoop], Awaitable[Any]]) -> Any:
    loop = VirtualLoop()
    try:
        return loop.run_until_complete(main(loop))
    finally:
        loop.close()


@dataclass
class Network:
    """Between the bot and Telegram: a forward delay with jitter and occasional spikes,
    Telegram's own stalls (what arrives during one is counted when it ends), and an answer
    that takes a little longer."""

    rng: random.Random
    jitter: float = 0.002
    spike_every: int = 50  # one send in this many is held up on the way
    spike: float = 0.15
    stall_every: float = 3.0  # Telegram stalls about this often (seconds)
    stall: float = 0.12
    departures: list[tuple[float, int]] = field(default_factory=list)
    arrivals: list[tuple[float, int]] = field(default_factory=list)

    async def send(self, loop: VirtualLoop, chat_id: int) -> None:
        left = loop.time()
        self.departures.append((left, chat_id))
        delay = 0.001 + self.rng.random() * self.jitter
        if self.spike_every and self.rng.randrange(self.spike_every) == 0:
            delay += self.rng.random() * self.spike
        arrives = left + delay
        if self.stall_every:
            # Telegram is stalled for `stall` seconds at the start of every period.
            period = int(arrives / self.stall_every)
            stalled_until = period * self.stall_every + self.stall
            arrives = max(arrives, stalled_until)
        await asyncio.sleep(arrives - left)
        self.arrivals.append((loop.time(), chat_id))
        await asyncio.sleep(0.0005 + self.rng.random() * 0.001)  # Telegram's work, the answer


def most_in_one_second(times: list[float]) -> int:
    """The most sends in any closed one-second window."""
    times = sorted(times)
    most, first = 0, 0
    for last, moment in enumerate(times):
        while times[first] < moment - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def refusals(sends: list[tuple[float, int]]) -> list[str]:
    """What a strict Telegram (30 in any second, a private chat 3 then 1/s) would refuse."""
    telegram = RateLimiter(STRICT)
    refused = []
    for moment, chat_id in sorted(sends):
        try:
            telegram.check_send(chat_id, "private", paid=False, now=moment)
        except ApiError as error:
            refused.append(f"{moment:.3f} chat {chat_id}: {error.description}")
            telegram._blocked_until.clear()  # count the next on its own merits
    return refused


async def broadcast(
    loop: VirtualLoop, pacer: Pacer, network: Network, chats: list[int], in_flight: int = 16
) -> None:
    """As the outbox sender does it: a row whose chat just had a message comes round again
    later; the others get their place in turn and go out in a task each."""
    slots = asyncio.Semaphore(in_flight)
    tasks = []
    due = deque(chats)

    async def deliver(ticket: Ticket | None, chat_id: int) -> None:
        if ticket is None:  # the chat's turn was taken meanwhile: wait for it here
            await pacer.chat_free(chat_id)
            ticket = await pacer.send_slot(chat_id)
        with ticket:
            await network.send(loop, chat_id)
        slots.release()

    skipped = 0
    while due:
        chat_id = due.popleft()
        if pacer.chat_wait(chat_id) > 0:
            due.append(chat_id)
            skipped += 1
            if skipped >= len(due):  # every row left waits for its chat
                await asyncio.sleep(0.05)
                skipped = 0
            continue
        skipped = 0
        await slots.acquire()
        ticket = await pacer.send_slot(chat_id) if pacer.chat_wait(chat_id) == 0 else None
        tasks.append(asyncio.create_task(deliver(ticket, chat_id)))
    await asyncio.gather(*tasks)


async def typist(
    loop: VirtualLoop,
    pacer: Pacer,
    network: Network,
    chat_id: int,
    rng: random.Random,
    until: float,
    answered: list[int],
) -> int:
    """A member typing fast: bursts of up to five messages, each answered by one reply."""
    typed = 0
    replies = []

    async def reply() -> None:
        with await pacer.send_slot(chat_id):
            await network.send(loop, chat_id)
        answered.append(chat_id)

    while loop.time() < until:
        for _ in range(rng.randint(1, 5)):
            typed += 1
            replies.append(asyncio.create_task(reply()))
            await asyncio.sleep(0.1 + rng.random() * 0.3)
        await asyncio.sleep(2 + rng.random() * 6)
    await asyncio.gather(*replies)
    return typed


async def stalls(loop: VirtualLoop, rng: random.Random, until: float) -> None:
    """The bot's own event loop blocks now and then (a garbage collection, a slow callback)."""
    while loop.time() < until:
        await asyncio.sleep(rng.random() * 2)
        loop.stall(rng.random() * 0.15)


def test_a_broadcast_and_fast_typists_stay_inside_every_second_as_telegram_counts() -> None:
    rng = random.Random(7)
    network = Network(rng)
    answered: list[int] = []

    async def main(loop: VirtualLoop) -> tuple[float, int]:
        pacer = Pacer(Limits(), clock=loop.time)
        started = loop.time()
        until = started + 40
        typists = [
            asyncio.create_task(typist(loop, pacer, network, chat, rng, until, answered))
            for chat in range(1, 21)  # they are recipients of the broadcast too
        ]
        stall_task = asyncio.create_task(stalls(loop, rng, until))
        await broadcast(loop, pacer, network, list(range(1, 1001)))
        typed = sum(await asyncio.gather(*typists))
        await stall_task
        return loop.time() - started, typed

    elapsed, typed = run(main)
    departures = [t for t, _ in network.departures]
    arrivals = [t for t, _ in network.arrivals]
    assert len(departures) == 1000 + typed
    assert len(answered) == typed  # every message typed got its reply
    assert most_in_one_second(departures) < 30
    assert most_in_one_second(arrivals) < 30
    assert refusals(network.departures) == []
    assert refusals(network.arrivals) == []
    # Replies and the broadcast share the budget, and together they use it.
    assert len(departures) / elapsed > 0.9 * 30


def test_a_broadcast_alone_reaches_095_of_the_limit() -> None:
    """Virtual time: the figure the pacer allows, without the rest of the bot around it."""
    rng = random.Random(11)
    network = Network(rng, spike_every=0, stall_every=0)

    async def main(loop: VirtualLoop) -> float:
        pacer = Pacer(Limits(), clock=loop.time)
        started = loop.time()
        await broadcast(loop, pacer, network, list(range(1, 3001)))
        return loop.time() - started

    elapsed = run(main)
    assert 3000 / elapsed >= 0.95 * 30
    arrivals = [t for t, _ in network.arrivals]
    assert most_in_one_second(arrivals) == 29
    assert refusals(network.arrivals) == []


def test_a_chat_gets_three_at_once_then_one_a_second_and_a_margin() -> None:
    network = Network(random.Random(3), jitter=0, spike_every=0, stall_every=0)

    async def main(loop: VirtualLoop) -> list[float]:
        pacer = Pacer(Limits(), clock=loop.time)
        started = loop.time()

        async def reply() -> None:
            with await pacer.send_slot(42):
                await network.send(loop, 42)

        await asyncio.gather(*(reply() for _ in range(8)))
        return [t - started for t, _ in network.departures]

    left = run(main)
    assert left[2] < 0.1  # the burst (spaced only as the overall grid spaces any sends)
    gaps = [b - a for a, b in itertools.pairwise(left[2:])]
    assert all(1.0 < gap < 1.2 for gap in gaps), gaps


def test_replies_held_up_on_the_way_are_never_refused() -> None:
    """Some replies take seconds to arrive (a network hiccup), others are quick: however they
    bunch up on arrival, a strict Telegram refuses none."""
    rng = random.Random(5)
    network = Network(rng, jitter=0.01, spike_every=4, spike=2.5, stall_every=0)

    async def main(loop: VirtualLoop) -> int:
        pacer = Pacer(Limits(), clock=loop.time)
        answered: list[int] = []
        typed = await typist(loop, pacer, network, 9, rng, loop.time() + 60, answered)
        assert len(answered) == typed
        return typed

    typed = run(main)
    assert typed >= 20
    assert refusals(network.arrivals) == []
    assert refusals(network.departures) == []


def test_a_burst_held_up_on_the_way_delays_the_next_reply() -> None:
    """Three replies leave at once and Telegram, stalled, counts them 1.5 s later: the fourth,
    due 1.1 s after the burst, would arrive right behind them into an empty bucket. It
    waits until the bucket as Telegram sees it has refilled."""
    sends: list[tuple[float, int]] = []

    async def main(loop: VirtualLoop) -> None:
        pacer = Pacer(Limits(), clock=loop.time)

        async def reply(delay: float) -> None:
            with await pacer.send_slot(5):
                await asyncio.sleep(delay)
                sends.append((loop.time(), 5))

        for _ in range(5):  # the usual round trip, to another chat
            with await pacer.send_slot(6):
                await asyncio.sleep(0.001)
        await asyncio.gather(*(reply(1.5) for _ in range(3)), reply(0.001), reply(0.001))

    run(main)
    assert refusals(sends) == []


def test_nothing_leaves_during_a_retry_after_and_the_rate_drops_after_it() -> None:
    async def spread(loop: VirtualLoop, pacer: Pacer) -> float:
        first = loop.time()
        for _ in range(100):
            with await pacer.slot():
                pass
        return loop.time() - first

    async def main(loop: VirtualLoop) -> tuple[float, float, float, float]:
        pacer = Pacer(Limits(), clock=loop.time)
        before = await spread(loop, pacer)
        paused_at = loop.time()
        pacer.pause(3.0)
        with await pacer.slot():
            resumed = loop.time()
        return paused_at, resumed, before, await spread(loop, pacer)

    paused_at, resumed, before, after = run(main)
    assert resumed >= paused_at + 3.0
    assert after > before * 1.05  # slower for a while after a 429


def test_after_a_429_each_send_waits_for_the_answer_before_it_for_ten_seconds() -> None:
    """A send already on its way when Telegram says 429 arrives inside that retry_after."""

    async def overlap(loop: VirtualLoop, pacer: Pacer) -> int:
        """Ten senders, each answered 0.2 s after it leaves: the most on the wire at once."""
        on_wire, most = 0, 0

        async def send() -> None:
            nonlocal on_wire, most
            with await pacer.slot():
                on_wire += 1
                most = max(most, on_wire)
                await asyncio.sleep(0.2)
                on_wire -= 1

        await asyncio.gather(*(send() for _ in range(10)))
        return most

    async def main(loop: VirtualLoop) -> tuple[int, int, int]:
        pacer = Pacer(Limits(), clock=loop.time)
        before = await overlap(loop, pacer)
        pacer.pause(1.0)
        after = await overlap(loop, pacer)
        await asyncio.sleep(10.0)
        return before, after, await overlap(loop, pacer)

    before, after, later = run(main)
    assert before > 1 and later > 1  # normally requests overlap on the wire
    assert after == 1


def test_a_group_gets_20_a_minute() -> None:
    async def main(loop: VirtualLoop) -> list[float]:
        pacer = Pacer(Limits(), clock=loop.time)
        left = []
        for _ in range(21):
            with await pacer.send_slot(-100123):
                left.append(loop.time())
        return left

    left = run(main)
    assert left[20] - left[0] > 60.0
    assert left[19] - left[0] < 2.0


def test_a_429_holds_one_busy_chat_alone_and_anything_else_pauses_everything() -> None:
    async def main(loop: VirtualLoop) -> list[tuple[bool, float, float]]:
        pacer = Pacer(Limits(), clock=loop.time)
        busy, quiet, other = 101, 102, 103
        for _ in range(3):  # the busy chat's whole burst, within its span
            with await pacer.send_slot(busy):
                pass
        with await pacer.send_slot(quiet):
            pass
        seen = []
        # A busy chat's own flood control: only it waits.
        overall = pacer.flooded(busy, 5.0)
        seen.append((overall, pacer.paused_for(), pacer.chat_wait(busy)))
        await asyncio.sleep(2.0)
        # A chat we had left alone cannot be flooded on its own: the bot's limit.
        overall = pacer.flooded(quiet, 1.0)
        seen.append((overall, pacer.paused_for(), pacer.chat_wait(quiet)))
        await asyncio.sleep(1.5)
        for _ in range(3):
            with await pacer.send_slot(other):
                pass
        pacer.flooded(busy, 1.0)
        # A second chat within the same second, however busy: the bot's limit.
        overall = pacer.flooded(other, 1.0)
        seen.append((overall, pacer.paused_for(), pacer.chat_wait(other)))
        return seen

    held, alone, twice = run(main)
    assert held[0] is False and held[1] == 0 and held[2] >= 5.0
    assert alone[0] is True and alone[1] >= 1.0
    assert twice[0] is True and twice[1] >= 1.0
