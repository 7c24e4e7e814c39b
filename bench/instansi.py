"""Bench 8: many instansi in one deployment on PostgreSQL (README "Many instansi").

INSTANSI instansi (default 10) of MEMBERS members each (default 3,000), each with its own
bot; every instansi's message to all its members becomes due at the same instant (a daily
value at 07.30, as a scheduled broadcast so the bench runs at any hour). The real
`berakhlak run` sends them, against the sandbox in its own process with Telegram's limits
as strict as the strictest emulator we know (30 a second per bot, counted on arrival):

1. the bare-PTB ceiling: one plain PTB `Bot` per token, paced at 30/s each, all at once;
2. one worker process;
3. two worker processes (the bots shared by leases);
4. two workers, one SIGKILLed in the middle of the send: the other takes its bots over.

Targets: every bot at >= 0.9 of its 30/s with one and with two workers; no 429; nobody
without the message and nobody with two; after the kill, the bots taken over within 30 s,
nobody with two, and nobody without it who is not reported unconfirmed.

    python -m bench.instansi [INSTANSI] [MEMBERS]

BENCH_POSTGRES_URL names the database (its schemas are dropped and made again).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlmodel import col, select

from bench.common import (
    FIRST_USER_ID,
    PG_URL,
    add_members,
    emit,
    fresh_database,
    postgres_available,
    sandbox_process,
)
from db.engine import Database
from db.migrate import upgrade
from db.models import Delivery
from db.queries import leases, outbox
from db.queries.instansi import InstansiRow, add_instansi
from db.tenancy import tenant_url

RATE = 30.0  # Telegram's messages a second per bot
TARGET = 0.9
TAKEOVER = 30.0  # seconds
MARK = "Nilai hari ini #"
OPEN = ("pending", "sending")  # a delivery without its outcome yet
SCRIPT = Path(sys.executable).parent / "berakhlak"


def token(number: int) -> str:
    return f"{7_100_000_001 + number}:AAHbench-instansi-{number:03d}_0123456789abcdef"


def code(number: int) -> str:
    return f"bench{number:02d}"


# --- the sandbox's side (its own process) ------------------------------------------------------


async def serve(port: int, bots: int, members: int) -> None:
    from aiohttp import web

    from sandbox import Sandbox
    from sandbox.ratelimit import STRICT
    from sandbox.state import Chat

    sandbox = Sandbox(token=token(0), port=port, rate_limits=STRICT, control_api=False)
    sandbox.max_calls = 1000
    await sandbox.start()
    world = sandbox.world
    loop = asyncio.get_running_loop()
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    counts: dict[int, int] = {}  # one entry per chat: each user has one bot
    for number in range(bots):
        world.bot(token(number))
        for _ in range(members):
            # They pressed Start long ago: no /start waits for the bot under test.
            sandbox.user(f"Anggota {number}", bot_token=token(number)).start_quietly()
    original = Chat.add_message

    def counted(chat: Chat, sender: Any, fields: dict[str, Any], **kw: Any) -> dict[str, Any]:
        if sender.is_bot and MARK in (fields.get("text") or ""):
            now = loop.time()
            first.setdefault(chat.bot_id or 0, now)
            last[chat.bot_id or 0] = now
            counts[chat.id] = counts.get(chat.id, 0) + 1
        return original(chat, sender, fields, **kw)

    Chat.add_message = counted  # type: ignore[method-assign,assignment]

    async def stats(_: web.Request) -> web.Response:
        per_bot = {}
        for number in range(bots):
            bot_id = int(token(number).split(":")[0])
            chats = range(FIRST_USER_ID + number * members, FIRST_USER_ID + (number + 1) * members)
            got = [counts.get(c, 0) for c in chats]
            span = last.get(bot_id, 0.0) - first.get(bot_id, 0.0)
            per_bot[number] = {
                "sent": sum(got),
                "none": got.count(0),
                "twice": sum(1 for g in got if g > 1),
                "none_chats": [c for c, g in zip(chats, got, strict=True) if g == 0],
                "per_s": round((sum(got) - 1) / span, 2) if span > 0 else 0.0,
                "first": first.get(bot_id),
                "last": last.get(bot_id),
            }
        violations = [str(v) for v in sandbox.violations]
        return web.json_response(
            {
                "per_bot": per_bot,
                "too_many": sum("429" in v for v in violations),
                "violations": len(violations),
                "sample": violations[:3],
            }
        )

    app = web.Application()
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port + 1).start()
    print("READY", flush=True)
    await asyncio.Event().wait()


def stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port + 1}/stats", timeout=60) as response:
        return json.loads(response.read())


# --- the bare-PTB ceiling ----------------------------------------------------------------------


async def ceiling(port: int, bots: int, members: int) -> float:
    from telegram import Bot
    from telegram.error import RetryAfter
    from telegram.request import HTTPXRequest

    async def one_bot(number: int) -> None:
        bot = Bot(
            token(number),
            base_url=f"http://127.0.0.1:{port}/bot",
            request=HTTPXRequest(connection_pool_size=20),
        )
        await bot.initialize()
        slots = asyncio.Semaphore(16)
        loop = asyncio.get_running_loop()
        start = loop.time()

        async def send(i: int) -> None:
            chat = FIRST_USER_ID + number * members + i
            # Paced at 30/s from the start, as a plain bot keeps Telegram's limit.
            await asyncio.sleep(max(0.0, start + i / RATE - loop.time()))
            async with slots:
                while True:
                    try:
                        await bot.send_message(chat, f"{MARK}0 ceiling")
                        return
                    except RetryAfter as exc:
                        await asyncio.sleep(float(exc.retry_after))  # type: ignore[arg-type]

        await asyncio.gather(*(send(i) for i in range(members)))
        await bot.shutdown()

    started = time.perf_counter()
    await asyncio.gather(*(one_bot(n) for n in range(bots)))
    return bots * members / (time.perf_counter() - started)


# --- the deployment ----------------------------------------------------------------------------


def prepare_deployment(url: str, bots: int, members: int, key: str, due: datetime) -> None:
    """A fresh database: the default instansi (bot 0) and bots-1 registered ones, each with
    its members and its message scheduled for `due`."""
    fresh_database(url).close()
    base = Database(url, workers=1)
    with base.engine.begin() as conn:
        for (schema,) in conn.execute(
            text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'instansi\\_%'")
        ).all():
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    cipher = Fernet(key.encode())
    for number in range(bots):
        if number == 0:
            db = Database(url, workers=1)
        else:
            base.run_sync(
                add_instansi,
                row=InstansiRow(
                    code=code(number),
                    name=f"Pemerintah Kabupaten Bench {number}",
                    data_controller=f"BKPSDM Bench {number}",
                    bot_id=int(token(number).split(":")[0]),
                    token_cipher=cipher.encrypt(token(number).encode()).decode(),
                    superadmin_ids=(),
                    settings={},
                    disabled=False,
                ),
                now=datetime.now(UTC),
            )
            upgrade(tenant_url(url, code(number)))
            db = Database(tenant_url(url, code(number)), workers=1)
        add_members(db, members, first=FIRST_USER_ID + number * members)
        db.run_sync(
            outbox.create_broadcast,
            kind="broadcast",
            created_by=None,
            audience={"type": "all"},
            content={"html": f"{MARK}{number}: Berorientasi Pelayanan. Senyum, sapa, tuntas."},
            scheduled_at=due,
        )
        db.close()
    base.close()


def start_worker(
    folder: Path, port: int, url: str, key: str, number: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": token(0),
        "BOT_API_BASE_URL": f"http://127.0.0.1:{port}/bot",
        "BOT_API_FILE_URL": f"http://127.0.0.1:{port}/file/bot",
        "DATABASE_URL": url,
        "INSTANSI_KEY": key,
        "LOG_LEVEL": "WARNING",
    }
    log = (folder / f"worker{number}.log").open("ab")
    return subprocess.Popen([str(SCRIPT), "run"], cwd=folder, env=env, stdout=log, stderr=log)


def unconfirmed(url: str, bots: int) -> set[int]:
    chats: set[int] = set()
    for number in range(bots):
        db = Database(url if number == 0 else tenant_url(url, code(number)), workers=1)
        chats |= set(
            db.run_sync(
                lambda session: session.exec(
                    select(Delivery.chat_id).where(col(Delivery.unconfirmed))
                ).all()
            )
        )
        db.close()
    return chats


def holders(url: str) -> dict[str, str | None]:
    db = Database(url, workers=1)
    try:
        return db.run_sync(leases.holders)
    finally:
        db.close()


def settled(url: str, bots: int, members: int) -> bool:
    """Every instansi's rows have an outcome (sent, unconfirmed, failed): nothing more comes."""
    for number in range(bots):
        db = Database(url if number == 0 else tenant_url(url, code(number)), workers=1)
        try:
            open_rows, rows = db.run_sync(
                lambda session: (
                    len(
                        session.exec(select(Delivery.id).where(col(Delivery.state).in_(OPEN))).all()
                    ),
                    len(session.exec(select(Delivery.id)).all()),
                )
            )
        finally:
            db.close()
        if open_rows or rows < members:
            return False
    return True


def wait_all_sent(port: int, url: str, bots: int, members: int, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        figures = stats(port)
        done = all(
            figures["per_bot"][str(n)]["sent"] - figures["per_bot"][str(n)]["twice"] >= members
            for n in range(bots)
        )
        # A message lost to a kill never comes: then the rows' outcomes say when it is over.
        if not done and figures["per_bot"]["0"]["sent"]:
            done = settled(url, bots, members)
        if done or time.monotonic() > deadline:
            time.sleep(2.0)  # a second copy would come now
            return stats(port)
        time.sleep(0.5)


def run_workers(
    url: str, bots: int, members: int, workers: int, *, kill: bool = False
) -> dict[str, Any]:
    key = Fernet.generate_key().decode()
    lead = 40.0 if workers == 1 else 60.0  # seconds for the workers to start and share
    due = datetime.now(UTC) + timedelta(seconds=lead)
    prepare_deployment(url, bots, members, key, due)
    result: dict[str, Any] = {"workers": workers}
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox_process(
            0, module="bench.instansi", args=["--sandbox", str(bots), str(members)]
        ) as port,
    ):
        folder = Path(tmp)
        (folder / "data").mkdir()
        processes = [start_worker(folder, port, url, key, n) for n in range(workers)]
        try:
            if kill:
                # Mid-send: a third of the way through each bot's 100 s.
                while time.monotonic() and datetime.now(UTC) < due + timedelta(seconds=30):
                    time.sleep(0.5)
                victim = processes[0]
                theirs = {c for c, h in holders(url).items() if h and f"-{victim.pid}-" in h}
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                killed = time.monotonic()
                while time.monotonic() - killed < 120:
                    now_held = holders(url)
                    if theirs and all(
                        now_held.get(c) and f"-{processes[1].pid}-" in (now_held[c] or "")
                        for c in theirs
                    ):
                        break
                    time.sleep(0.25)
                result["bots_taken_over"] = len(theirs)
                result["takeover_s"] = round(time.monotonic() - killed, 1)
            figures = wait_all_sent(port, url, bots, members, within=lead + 600)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        for log in sorted(folder.glob("worker*.log")):
            # What went wrong in a worker (a bot that did not start, a lost database).
            lines = log.read_text("utf-8", "replace").splitlines()
            for number, line in enumerate(lines):
                if " ERROR " in line or "Traceback" in line:
                    # The error and, for a traceback, where it ends (its last lines).
                    end = number + 1
                    while end < len(lines) and lines[end].startswith((" ", "Traceback")):
                        end += 1
                    for shown in [line, *lines[max(number + 1, end - 3) : end + 1]]:
                        print(f"{log.name}: {shown[:300]}")
        per_bot = figures["per_bot"]
        rates = [per_bot[str(n)]["per_s"] for n in range(bots)]
        first = min(per_bot[str(n)]["first"] or 0 for n in range(bots))
        last = max(per_bot[str(n)]["last"] or 0 for n in range(bots))
        total = sum(per_bot[str(n)]["sent"] for n in range(bots))
        missing = {c for n in range(bots) for c in per_bot[str(n)]["none_chats"]}
        result.update(
            {
                "min_bot_per_s": min(rates),
                "mean_bot_per_s": round(sum(rates) / len(rates), 2),
                "min_bot_ratio": round(min(rates) / RATE, 3),
                "aggregate_per_s": round(total / (last - first), 1) if last > first else 0.0,
                "lost": len(missing),
                "duplicates": sum(per_bot[str(n)]["twice"] for n in range(bots)),
                "too_many": figures["too_many"],
                "violations": figures["violations"],
            }
        )
        if kill:
            reported = unconfirmed(url, bots)
            result["unconfirmed"] = len(reported)
            result["lost_not_reported"] = len(missing - reported)
        if figures["violations"]:
            result["violation_sample"] = figures["sample"]
    return result


def main() -> None:
    if "--sandbox" in sys.argv:
        at = sys.argv.index("--sandbox")
        asyncio.run(serve(int(sys.argv[1]), int(sys.argv[at + 1]), int(sys.argv[at + 2])))
        return
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    bots = int(args[0]) if args else 10
    members = int(args[1]) if len(args) > 1 else 3000
    url = os.environ.get("BENCH_POSTGRES_URL", PG_URL)
    if not postgres_available():
        print("bench.instansi needs PostgreSQL (BENCH_POSTGRES_URL)", file=sys.stderr)
        raise SystemExit(2)
    figures: dict[str, Any] = {"bench": "instansi", "instansi": bots, "members": members}
    with sandbox_process(
        0, module="bench.instansi", args=["--sandbox", str(bots), str(members)]
    ) as port:
        top = asyncio.run(ceiling(port, bots, members))
    figures["ceiling_per_s"] = round(top, 1)
    print(f"bare PTB, {bots} bots at {RATE:.0f}/s each: {top:.0f} messages/s in all")
    runs = {
        "one_worker": run_workers(url, bots, members, 1),
        "two_workers": run_workers(url, bots, members, 2),
        "kill": run_workers(url, bots, members, 2, kill=True),
    }
    for name, run in runs.items():
        figures[name] = run
        print(
            f"{name}: slowest bot {run['min_bot_per_s']}/s ({run['min_bot_ratio']} of {RATE:.0f}), "
            f"all bots {run['aggregate_per_s']}/s = {run['aggregate_per_s'] / top:.2f} of the "
            f"ceiling; lost {run['lost']}, twice {run['duplicates']}, 429s {run['too_many']}"
            + (
                f"; {run['bots_taken_over']} bots taken over in {run['takeover_s']} s, "
                f"{run['unconfirmed']} unconfirmed, "
                f"lost and not reported {run['lost_not_reported']}"
                if name == "kill"
                else ""
            )
        )
        figures[f"{name}_aggregate_ratio"] = round(run["aggregate_per_s"] / top, 3)
    steady = [runs["one_worker"], runs["two_workers"]]
    kill = runs["kill"]
    figures["targets_met"] = bool(
        all(r["min_bot_ratio"] >= TARGET and not r["lost"] and not r["duplicates"] for r in steady)
        and all(not r["too_many"] for r in runs.values())
        and kill["takeover_s"] <= TAKEOVER
        and not kill["duplicates"]
        and not kill["lost_not_reported"]
    )
    emit(figures)


if __name__ == "__main__":
    main()
