"""Bench 5a: a 3,000-recipient broadcast through the whole bot, against the sandbox in its
own process with rate limits as strict as the strictest Telegram emulator we know (30 sends
in any sliding second counted on arrival; a private chat 3 at once, then one a second).

Two broadcasts go out from the running application (handlers, pacer and outbox sender
together, as `berakhlak run` has them):

1. alone: the rate it reaches, against the configured 30/s (target: at least 0.95);
2. while 100 of its recipients keep typing (/profil, /bantuan or a reflection, in bursts
   of up to four messages a fraction of a second apart, then a pause): the replies and
   the outbox share the one budget, so the figure is every send in that time; and how
   many replies the typists got, how fast.

Both: no 429 (the sandbox's violations), none lost, no duplicate.

    python -m bench.broadcast_rate [RECIPIENTS] [--typing N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import tempfile
import urllib.parse
import urllib.request
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import (
    add_members,
    emit,
    fresh_database,
    now,
    sandbox_process,
    settings_for,
)

# Wednesday 9 December 2026, 13:00 WIB: a working-day afternoon outside every programme
# slot, so the bot sends nothing but what the bench asks for.
PINNED = datetime(2026, 12, 9, 6, 0, tzinfo=UTC)
TYPED = ("/profil", "/bantuan", "Hari ini saya melayani warga dengan ramah.")
TYPISTS = 100


MARK = "Kabar BerAKHLAK #"  # in every broadcast's text, never in a reply


def marker(phase: int) -> str:
    return f"{MARK}{phase}"


# --- the sandbox's side (its own process) ------------------------------------------------------


async def serve(port: int, users: int, limits: bool) -> None:
    from aiohttp import web

    from bench.sandbox_proc import TOKEN
    from sandbox import Sandbox
    from sandbox.ratelimit import STRICT

    sandbox = Sandbox(token=TOKEN, port=port, rate_limits=STRICT if limits else False)
    sandbox.max_calls = 1000  # keep memory flat over tens of thousands of sends
    await sandbox.start()
    simulated = []
    for i in range(users):
        user = sandbox.user(f"Anggota {i}")
        await user.send("/start")
        simulated.append(user)
    world = sandbox.world
    bot = world.bot(TOKEN)
    # They started the bot long ago: the bot under test need not answer 3,000 /start.
    bot.updates.clear()
    typing: list[Typist] = []
    stop = asyncio.Event()
    typers: list[asyncio.Task[None]] = []
    readers: list[asyncio.Task[None]] = []

    async def stats(request: web.Request) -> web.Response:
        mark = request.query.get("marker", "")
        counts = []
        for user in simulated:
            chat = world.primary.private_chats.get(user.id)
            messages = chat.messages.values() if chat is not None else []
            counts.append(
                sum(
                    1
                    for m in messages
                    if m.get("from", {}).get("is_bot") and mark in (m.get("text") or "")
                )
            )
        violations = [str(v) for v in sandbox.violations]
        return web.json_response(
            {
                "exactly_one": sum(c == 1 for c in counts),
                "lost": sum(c == 0 for c in counts),
                "duplicates": sum(c > 1 for c in counts),
                "violations": len(violations),
                "too_many": sum("429" in v for v in violations),
                "sample": violations[:5],
                "peak_per_second": bot.limiter.peak_per_second,
            }
        )

    async def start_typing(request: web.Request) -> web.Response:
        body = await request.json()
        rng = random.Random(body.get("seed", 1))
        stop.clear()
        for user in simulated[: int(body["members"])]:
            typist = Typist(user, rng, body["marker"])
            typing.append(typist)
            readers.append(asyncio.create_task(typist.read()))
            typers.append(asyncio.create_task(typist.type(stop)))
        return web.json_response({"typing": len(typing)})

    async def stop_typing(request: web.Request) -> web.Response:
        body = await request.json()
        stop.set()
        await asyncio.gather(*typers)  # a burst under way ends at its next message
        # The last messages typed still get their replies (at one a second per chat).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while any(t.pending for t in typing) and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)  # a glance ten times a second: no event to wait on
        for task in readers:
            task.cancel()
        # Counted again from the chats themselves, whatever the readers matched.
        sent_by_typists = replies_in_chats = 0
        for t in typing:
            for m in t.user.transcript:
                text = m.get("text") or ""
                if not m.get("from", {}).get("is_bot"):
                    sent_by_typists += text != "/start"
                elif MARK not in text:
                    replies_in_chats += 1
        latencies = sorted(lat for t in typing for _, lat in t.replies)
        within = sum(1 for t in typing for at, _ in t.replies if body["from"] <= at <= body["to"])
        return web.json_response(
            {
                "typed": sum(t.typed for t in typing),
                "replied": len(latencies),
                "typed_in_chats": sent_by_typists,
                "replies_in_chats": replies_in_chats,
                "unanswered": sum(len(t.pending) for t in typing),
                "replies_during": within,
                "latency_median": statistics.median(latencies) if latencies else None,
                "latency_p95": latencies[int(len(latencies) * 0.95)] if latencies else None,
                "latency_max": latencies[-1] if latencies else None,
            }
        )

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_post("/typing/start", start_typing)
    app.router.add_post("/typing/stop", stop_typing)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port + 1).start()
    print("READY", flush=True)
    await asyncio.Event().wait()


class Typist:
    """A member who types fast: a burst of one to four messages, 0.15 to 0.6 s apart, then
    reads for 20 to 60 s. Each message is answered by one reply; the broadcast's own
    message in the chat is not a reply. Times are monotonic, shared with the bench."""

    def __init__(self, user: Any, rng: random.Random, broadcast_marker: str) -> None:
        self.user = user
        self.rng = rng
        self.marker = broadcast_marker
        self.typed = 0
        self.pending: deque[float] = deque()  # when each unanswered message was sent
        self.replies: list[tuple[float, float]] = []  # (arrived, latency)

    async def type(self, stop: asyncio.Event) -> None:
        rng = self.rng
        # Staggered: a hundred people do not start typing in the same second.
        if await _stopped(stop, rng.uniform(0, 20)):
            return
        while not stop.is_set():
            for _ in range(rng.randint(1, 4)):
                if stop.is_set():
                    return
                self.pending.append(now())
                self.typed += 1
                await self.user.send(rng.choice(TYPED))
                await asyncio.sleep(rng.uniform(0.15, 0.6))
            if await _stopped(stop, rng.uniform(20, 60)):
                return

    async def read(self) -> None:
        while True:
            event = await self.user.next_message(timeout=3600)
            text = event.text or event.caption or ""
            if event.kind != "new" or self.marker in text:
                continue
            arrived = now()
            sent = self.pending.popleft() if self.pending else arrived
            self.replies.append((arrived, arrived - sent))


async def _stopped(stop: asyncio.Event, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        return False
    return True


# --- the bot's side ------------------------------------------------------------------------------


def control(port: int, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port + 1}{path}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


async def broadcast(db: Any, sender: Any, phase: int) -> tuple[float, float]:
    """One broadcast to every member: seconds from its rows being written to the last result
    recorded, as the bot records them (started_at, finished_at); and the monotonic moment
    it started, to count the replies sent meanwhile."""
    from bot.delivery.broadcasts import launch
    from db.queries import outbox

    info = await db.run(
        outbox.create_broadcast,
        kind="broadcast",
        created_by=None,
        audience={"type": "all"},
        content={"html": f"Selamat pagi, {{{{ nama }}}}! {marker(phase)}"},
    )
    members = await db.run(outbox.audience_members, audience=info.audience)
    started = now()
    await launch(db, sender, info.id)
    await sender.drain(within=len(members) / 10 + 60)
    done = await db.run(outbox.get_broadcast, broadcast_id=info.id)
    assert done is not None and done.started_at and done.finished_at, done
    return (done.finished_at - done.started_at).total_seconds(), started


async def run(recipients: int, typists: int) -> dict[str, Any]:
    from bot.app.startup import prepare
    from bot.app.wiring import build_application, polling
    from bot.core.calendar import FakeClock

    typists = min(typists, recipients)
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox_process(recipients, module="bench.broadcast_rate", args=["--sandbox"]) as port,
    ):
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db = fresh_database(url)
        add_members(db, recipients)
        settings = settings_for(port, url)
        prepared = await asyncio.to_thread(prepare, settings)
        app = build_application(prepared, db, clock=FakeClock(PINNED))
        async with polling(app):
            sender = app.bot_data["deps"].sender
            alone, _ = await broadcast(db, sender, 1)
            first = control(port, f"/stats?marker={urllib.parse.quote(marker(1))}")
            typing: dict[str, Any] = {}
            shared = 0.0
            second: dict[str, Any] = {}
            if typists:
                control(port, "/typing/start", {"members": typists, "marker": MARK})
                shared, started = await broadcast(db, sender, 2)
                ended = started + shared
                second = control(port, f"/stats?marker={urllib.parse.quote(marker(2))}")
                typing = control(port, "/typing/stop", {"from": started, "to": ended})
        db.close()
        final = control(port, "/stats?marker=-")
    per_second = settings.send_per_second
    rate = recipients / alone
    figures: dict[str, Any] = {
        "bench": "broadcast_rate",
        "recipients": recipients,
        "limits": "strict: 30 in any sliding second on arrival, private chat 3 then 1/s",
        "configured_per_s": per_second,
        "seconds": round(alone, 2),
        "rate_per_s": round(rate, 2),
        "ratio": round(rate / per_second, 3),
        "exactly_one": first["exactly_one"],
        "lost": first["lost"],
        "duplicates": first["duplicates"],
        "http_429": final["too_many"],
        "violations": final["violations"],
        "violation_sample": final["sample"],
        "peak_in_one_second": final["peak_per_second"],
    }
    if typists:
        during = typing["replies_during"]
        shared_rate = (recipients + during) / shared
        figures |= {
            "typists": typists,
            "shared_seconds": round(shared, 2),
            "shared_broadcast_per_s": round(recipients / shared, 2),
            "shared_replies_per_s": round(during / shared, 2),
            "shared_rate_per_s": round(shared_rate, 2),
            "shared_ratio": round(shared_rate / per_second, 3),
            "shared_lost": second["lost"],
            "shared_duplicates": second["duplicates"],
            "typed": typing["typed"],
            "replied": typing["replied"],
            "unanswered": typing["unanswered"],
            "typed_in_chats": typing["typed_in_chats"],
            "replies_in_chats": typing["replies_in_chats"],
            "reply_latency_median_s": _round(typing["latency_median"]),
            "reply_latency_p95_s": _round(typing["latency_p95"]),
            "reply_latency_max_s": _round(typing["latency_max"]),
        }
    return figures


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def main() -> None:
    if "--sandbox" in sys.argv:
        args = [a for a in sys.argv[1:] if not a.startswith("--")]
        asyncio.run(serve(int(args[0]), int(args[1]), "--no-limits" not in sys.argv))
        return
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast_rate")
    parser.add_argument("recipients", type=int, nargs="?", default=3000)
    parser.add_argument("--typing", type=int, default=TYPISTS, help="members typing (0: none)")
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The pinned day's earlier slots are skipped at start, with a warning each: not news.
    logging.getLogger("bot.programme.scheduler").setLevel(logging.ERROR)
    f = asyncio.run(run(options.recipients, options.typing))
    print(
        f"alone: {f['recipients']} recipients in {f['seconds']} s: {f['rate_per_s']}/s = "
        f"{f['ratio']} of {f['configured_per_s']}/s; lost {f['lost']}, "
        f"duplicates {f['duplicates']}"
    )
    if "typists" in f:
        print(
            f"with {f['typists']} typing: {f['shared_seconds']} s, broadcast "
            f"{f['shared_broadcast_per_s']}/s + replies {f['shared_replies_per_s']}/s = "
            f"{f['shared_rate_per_s']}/s = {f['shared_ratio']} of {f['configured_per_s']}/s; "
            f"lost {f['shared_lost']}, duplicates {f['shared_duplicates']}"
        )
        print(
            f"typists: {f['typed']} messages typed, {f['replied']} replies "
            f"({f['unanswered']} unanswered; in the chats: {f['typed_in_chats']} typed, "
            f"{f['replies_in_chats']} replies); latency median {f['reply_latency_median_s']} s, "
            f"p95 {f['reply_latency_p95_s']} s, max {f['reply_latency_max_s']} s"
        )
    print(
        f"429s {f['http_429']} (violations {f['violations']}); the most sends the sandbox "
        f"counted in one sliding second: {f['peak_in_one_second']}"
    )
    emit(f)


if __name__ == "__main__":
    main()
