"""Bench 5c: SIGKILL the sending process at five random points of a 3,000-recipient
broadcast, restarting it each time; afterwards every recipient must have exactly one
message. Paid-broadcast rates keep the run short.

A kill can only cost the rows it left `sending`: those are recorded as sent-unconfirmed and
never sent again. Of them, the ones whose chat never got the message are *lost* to that
kill (claimed, but their request was not on the wire yet); a chat with two copies is a
*duplicate*. Both are printed per kill and in total.

    python -m bench.crash_resume [RECIPIENTS] [KILLS]
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import col, select

from bench.common import (
    ROOT,
    add_members,
    delivered,
    emit,
    fresh_database,
    sandbox_process,
    settings_for,
    stats,
)
from bot.delivery.broadcasts import build_sender, launch
from db.engine import Database
from db.models import Delivery, DeliveryState
from db.queries import outbox


async def child(port: int, url: str) -> None:
    """One life of the sender: recover, send until the outbox is settled."""
    db = Database(url)
    sender = build_sender(settings_for(port, url, paid_broadcast=True), db)
    await sender.bot.initialize()
    await sender.start()
    print("SENDING", flush=True)
    await sender.drain(within=600)
    await sender.stop()
    await sender.bot.shutdown()
    db.close()


async def prepare(port: int, url: str, recipients: int) -> None:
    db = fresh_database(url)
    add_members(db, recipients)
    sender = build_sender(settings_for(port, url, paid_broadcast=True), db)
    info = await db.run(
        outbox.create_broadcast,
        kind="broadcast",
        created_by=None,
        audience={"type": "all"},
        content={"html": "Uji ketahanan, {{ nama }}."},
        paid=True,
    )
    await launch(db, sender, info.id)
    db.close()


def stranded(url: str) -> set[int]:
    """The chats whose rows a kill left `sending` (the next start records them unconfirmed)."""
    db = Database(url)
    chats = db.run_sync(
        lambda session: set(
            session.exec(
                select(Delivery.chat_id).where(col(Delivery.state) == DeliveryState.SENDING)
            ).all()
        )
    )
    db.close()
    return chats


def main() -> None:
    recipients = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    kills = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rng = random.Random()
    per_kill: list[dict[str, float | int]] = []
    with tempfile.TemporaryDirectory() as tmp, sandbox_process(recipients) as port:
        url = f"sqlite:///{Path(tmp) / 'crash.sqlite3'}"
        asyncio.run(prepare(port, url, recipients))
        left: list[set[int]] = []
        points = []
        for _ in range(kills):
            proc = subprocess.Popen(
                [sys.executable, "-m", "bench.crash_resume", "--child", str(port), url],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert proc.stdout is not None
            proc.stdout.readline()  # "SENDING": the kill lands while messages go out
            delay = rng.uniform(0.05, 1.0)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            points.append(round(delay, 2))
            left.append(stranded(url))
        subprocess.run(
            [sys.executable, "-m", "bench.crash_resume", "--child", str(port), url],
            cwd=ROOT,
            check=True,
        )
        one, none, many = delivered(port, recipients)
        got = {int(k): v for k, v in stats(port)["per_chat"].items()}
        db = Database(url)
        unconfirmed = db.run_sync(outbox.progress, broadcast_id=1).unconfirmed
        db.close()
    for point, chats in zip(points, left, strict=True):
        per_kill.append(
            {
                "at_s": point,
                "stranded": len(chats),
                "lost": sum(1 for c in chats if got.get(c, 0) == 0),
                "duplicated": sum(1 for c in chats if got.get(c, 0) > 1),
            }
        )
    lost = sum(int(k["lost"]) for k in per_kill)
    for number, kill in enumerate(per_kill, start=1):
        print(
            f"kill {number} at {kill['at_s']} s: {kill['stranded']} rows left in flight, "
            f"{kill['lost']} lost (never received), {kill['duplicated']} duplicated"
        )
    print(
        f"{recipients} recipients, {kills} kills: exactly one {one}, none {none} "
        f"({lost} lost to the kills, {none - lost} otherwise), more than one {many}; "
        f"{unconfirmed} rows recorded as sent-unconfirmed; "
        f"lost per kill {lost / max(1, kills):.1f}"
    )
    emit(
        {
            "bench": "crash_resume",
            "recipients": recipients,
            "kills": kills,
            "kill_points_s": points,
            "per_kill": per_kill,
            "exactly_one": one,
            "none": none,
            "lost": lost,
            "duplicates": many,
            "unconfirmed_rows": unconfirmed,
        }
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        asyncio.run(child(int(sys.argv[2]), sys.argv[3]))
    else:
        main()
