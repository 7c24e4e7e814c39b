"""Bench: one account floods the bot while 200 others use it normally (issue 14).

The sandbox runs in its own process with rate limits as strict as the strictest Telegram
emulator we know (30 sends in any sliding second, a private chat 3 at once then one a
second). 201 members; the bot runs in this process as `berakhlak run` has it.

Two measured phases of the same length, after a short warm-up:

1. no flood: 200 members each send /profil, /nilai or /kuis, wait for the answer, read for
   8 to 16 s, and again; the time from each message to the bot's first answer is noted;
2. flood: the same, while member 201 sends 1,000 plain messages as fast as the sandbox
   takes them. The latency figure is taken over the messages the 200 sent from the flood's
   first message until the flooder's last answer (the flood's whole effect), against the
   whole of phase 1.

Memory: the bot's resident set (this process, after a collection) before and after the
flood phase. Targets: p95 within 1.5x of no flood; memory flat (< 30 MB growth).

    python -m bench.flood [--members 200] [--flood 1000] [--seconds 60] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import add_members, emit, fresh_database, sandbox_process, settings_for

# Wednesday 9 December 2026, 13:00 WIB: a working-day afternoon outside every programme
# slot, so the bot sends nothing but what the bench asks for.
PINNED = datetime(2026, 12, 9, 6, 0, tzinfo=UTC)
COMMANDS = ("/profil", "/nilai", "/kuis")
READING = (8.0, 16.0)  # seconds a member reads before the next message
WARM_UP = 15.0
NOTICE = "lebih cepat daripada yang bisa kami jawab"
TARGET_RATIO = 1.5
TARGET_GROWTH_MB = 30.0


# --- the sandbox's side (its own process) ------------------------------------------------------


async def serve(port: int, users: int) -> None:
    from aiohttp import web

    from bench.sandbox_proc import TOKEN
    from sandbox import Sandbox
    from sandbox.ratelimit import STRICT

    sandbox = Sandbox(token=TOKEN, port=port, rate_limits=STRICT)
    sandbox.max_calls = 1000  # keep the sandbox's own memory flat
    await sandbox.start()
    simulated = []
    for i in range(users):
        user = sandbox.user(f"Anggota {i}")
        await user.send("/start")
        simulated.append(user)
    bot = sandbox.world.bot(TOKEN)
    # They started the bot long ago: the bot under test need not answer 201 /start.
    bot.updates.clear()
    normal, flooder = simulated[:-1], simulated[-1]

    async def phase(request: web.Request) -> web.Response:
        body = await request.json()
        started = time.monotonic()
        rng = random.Random(body.get("seed", 1))
        stop = asyncio.Event()
        noted: list[tuple[float, float]] = []  # (sent, latency)
        unanswered = [0]
        members = [asyncio.create_task(use(u, rng, stop, noted, unanswered)) for u in normal]
        flood: dict[str, Any] = {}
        if body.get("flood"):
            await asyncio.sleep(body.get("flood_after", 5.0))
            flood = await send_flood(flooder, int(body["flood"]))
        await asyncio.sleep(max(0.0, body["seconds"] - (time.monotonic() - started)))
        stop.set()
        await asyncio.gather(*members)
        if flood:
            flood |= await drained(flooder, flood["first_sent"])
        window = (flood["first_sent"], flood["last_reply"]) if flood else (0.0, float("inf"))
        during = sorted(lat for sent, lat in noted if window[0] <= sent <= window[1])
        everything = sorted(lat for _, lat in noted)
        violations = [str(v) for v in sandbox.violations]
        return web.json_response(
            {
                "requests": len(everything),
                "unanswered": unanswered[0],
                "p50": _median(everything),
                "p95": _p95(everything),
                "max": round(everything[-1], 4) if everything else None,
                "window_requests": len(during),
                "window_p50": _median(during),
                "window_p95": _p95(during),
                "window_max": round(during[-1], 4) if during else None,
                "violations": len(violations),
                "too_many": sum("429" in v for v in violations),
                "sample": violations[:5],
                **{f"flood_{k}": v for k, v in flood.items()},
            }
        )

    app = web.Application()
    app.router.add_post("/phase", phase)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port + 1).start()
    print("READY", flush=True)
    await asyncio.Event().wait()


async def use(
    user: Any,
    rng: random.Random,
    stop: asyncio.Event,
    noted: list[tuple[float, float]],
    unanswered: list[int],
) -> None:
    """A member using the bot normally: a command, its answer, reading, and again."""
    if await _stopped(stop, rng.uniform(0, READING[1])):  # not all in the same second
        return
    while not stop.is_set():
        for _ in user.pending():  # what came after the first answer (a poll after its scene)
            await user.next_message()
        sent = time.monotonic()
        await user.send(rng.choice(COMMANDS))
        try:
            await user.next_message(timeout=120)
        except AssertionError:
            unanswered[0] += 1
        else:
            noted.append((sent, time.monotonic() - sent))
        if await _stopped(stop, rng.uniform(*READING)):
            return


async def send_flood(user: Any, count: int) -> dict[str, Any]:
    first = time.monotonic()
    for n in range(count):
        await user.send(f"Pesan {n}: hari ini saya melayani warga dengan senang hati.")
    return {"first_sent": first, "sending_seconds": round(time.monotonic() - first, 3)}


async def drained(user: Any, first_sent: float) -> dict[str, Any]:
    """The flooder's answers once they stop coming (the bot's queue for them is empty)."""
    times: list[float] = []
    texts: list[str] = []
    while True:
        try:
            event = await user.next_message(timeout=10)
        except AssertionError:
            break
        times.append(time.monotonic())
        texts.append(event.text or "")
    notices = sum(NOTICE in t for t in texts)
    return {
        "replies": len(texts) - notices,
        "notices": notices,
        "saved": sum("sudah tersimpan" in t for t in texts),
        "last_reply": times[-1] if times else first_sent,
        "drained_after_s": round((times[-1] if times else first_sent) - first_sent, 2),
    }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None


def _p95(values: list[float]) -> float | None:
    return round(values[min(len(values) - 1, int(len(values) * 0.95))], 4) if values else None


async def _stopped(stop: asyncio.Event, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        return False
    return True


# --- the bot's side ------------------------------------------------------------------------------


def control(port: int, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port + 1}/phase", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=body["seconds"] + 600) as response:
        return json.loads(response.read())


def rss_mb() -> float:
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def phase(port: int, seconds: float, flood: int = 0, seed: int = 1) -> dict[str, Any]:
    body = {"seconds": seconds, "flood": flood, "seed": seed}
    return await asyncio.to_thread(control, port, body)


async def run(members: int, flood: int, seconds: float, database_url: str | None) -> dict[str, Any]:
    from sqlmodel import select

    from bot.app.startup import prepare
    from bot.app.wiring import build_application, polling
    from bot.core.calendar import FakeClock
    from db.models import Reflection

    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox_process(members + 1, module="bench.flood", args=["--sandbox"]) as port,
    ):
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db = fresh_database(url)
        add_members(db, members + 1)
        settings = settings_for(port, url)
        prepared = await asyncio.to_thread(prepare, settings)
        app = build_application(prepared, db, clock=FakeClock(PINNED))
        async with polling(app):
            await phase(port, WARM_UP, seed=0)
            calm = await phase(port, seconds, seed=1)
            before = rss_mb()
            stormy = await phase(port, seconds, flood=flood, seed=2)
            after = rss_mb()
            dropped = app.update_processor.dropped  # type: ignore[attr-defined]
        stored = db.run_sync(lambda session: len(session.exec(select(Reflection.id)).all()))
        db.close()
    ratio = stormy["window_p95"] / calm["p95"] if calm["p95"] and stormy["window_p95"] else None
    growth = after - before
    figures: dict[str, Any] = {
        "bench": "flood",
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "members": members,
        "flood_messages": flood,
        "phase_seconds": seconds,
        "limits": "strict: 30 in any sliding second on arrival, private chat 3 then 1/s",
        "no_flood_requests": calm["requests"],
        "no_flood_p50_s": calm["p50"],
        "no_flood_p95_s": calm["p95"],
        "no_flood_max_s": calm["max"],
        "flood_window_requests": stormy["window_requests"],
        "flood_window_p50_s": stormy["window_p50"],
        "flood_window_p95_s": stormy["window_p95"],
        "flood_window_max_s": stormy["window_max"],
        "flood_phase_p95_s": stormy["p95"],
        "p95_ratio": round(ratio, 3) if ratio else None,
        "unanswered": calm["unanswered"] + stormy["unanswered"],
        "flood_sending_s": stormy.get("flood_sending_seconds"),
        "flood_drained_after_s": stormy.get("flood_drained_after_s"),
        "flooder_replies": stormy.get("flood_replies"),
        "flooder_notices": stormy.get("flood_notices"),
        "flooder_reflections_saved": stormy.get("flood_saved"),
        "reflections_stored": stored,
        "dropped": dropped,
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
        "rss_growth_mb": round(growth, 1),
        "http_429": stormy["too_many"],
        "violations": stormy["violations"],
        "violation_sample": stormy["sample"],
    }
    figures["targets_met"] = bool(
        ratio is not None
        and ratio <= TARGET_RATIO
        and growth < TARGET_GROWTH_MB
        and figures["unanswered"] == 0
        and figures["http_429"] == 0
    )
    return figures


def main() -> None:
    if "--sandbox" in sys.argv:
        args = [a for a in sys.argv[1:] if not a.startswith("--")]
        asyncio.run(serve(int(args[0]), int(args[1])))
        return
    parser = argparse.ArgumentParser(prog="python -m bench.flood")
    parser.add_argument("--members", type=int, default=200, help="members using the bot")
    parser.add_argument("--flood", type=int, default=1000, help="messages the flooder sends")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The pinned day's earlier slots are skipped at start, with a warning each: not news.
    logging.getLogger("bot.programme.scheduler").setLevel(logging.ERROR)
    # One warning per burst of dropped updates is the point of the bench, not news.
    logging.getLogger("bot.app.updates").setLevel(logging.ERROR)
    f = asyncio.run(run(options.members, options.flood, options.seconds, options.database_url))
    print(
        f"no flood: {f['no_flood_requests']} requests from {f['members']} members, "
        f"p50 {f['no_flood_p50_s']} s, p95 {f['no_flood_p95_s']} s, max {f['no_flood_max_s']} s"
    )
    print(
        f"flood: {f['flood_messages']} messages sent in {f['flood_sending_s']} s, the flooder's "
        f"answers done after {f['flood_drained_after_s']} s ({f['flooder_replies']} answers, "
        f"{f['flooder_notices']} notice, {f['dropped']} dropped unread); meanwhile "
        f"{f['flood_window_requests']} requests from the others: p50 "
        f"{f['flood_window_p50_s']} s, p95 {f['flood_window_p95_s']} s, max "
        f"{f['flood_window_max_s']} s; p95 ratio {f['p95_ratio']} (target <= {TARGET_RATIO})"
    )
    print(
        f"memory: {f['rss_before_mb']} MB before the flood, {f['rss_after_mb']} MB after "
        f"(+{f['rss_growth_mb']} MB; target < {TARGET_GROWTH_MB}); unanswered "
        f"{f['unanswered']}; 429s {f['http_429']}; targets met: {f['targets_met']}"
    )
    emit(f)


if __name__ == "__main__":
    main()
