"""Bench 5a: 3,000 recipients at the default limits through the sandbox with its rate
limits on. Target: at least 0.95 of the configured 30/s, no 429, none lost, no duplicate.

    python -m bench.broadcast_rate [RECIPIENTS]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from bench.common import (
    add_members,
    delivered,
    emit,
    fresh_database,
    now,
    sandbox_process,
    settings_for,
)
from bot.delivery.broadcasts import build_sender, launch
from db.queries import outbox


async def run(recipients: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, sandbox_process(recipients) as port:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db = fresh_database(url)
        add_members(db, recipients)
        settings = settings_for(port, url)
        sender = build_sender(settings, db)
        await sender.bot.initialize()
        info = await db.run(
            outbox.create_broadcast,
            kind="broadcast",
            created_by=None,
            audience={"type": "all"},
            content={"html": "Selamat pagi, {{ nama }}!"},
        )
        await launch(db, sender, info.id)
        started = now()
        await sender.start()
        await sender.drain(within=recipients / 20 + 60)
        elapsed = now() - started
        await sender.stop()
        await sender.bot.shutdown()
        db.close()
        one, none, many = delivered(port, recipients)
        from bench.common import stats

        too_many = stats(port)["too_many"]
    rate = recipients / elapsed
    return {
        "bench": "broadcast_rate",
        "recipients": recipients,
        "seconds": round(elapsed, 2),
        "rate_per_s": round(rate, 2),
        "configured_per_s": settings.send_per_second,
        "ratio": round(rate / settings.send_per_second, 3),
        "http_429": too_many,
        "exactly_one": one,
        "lost": none,
        "duplicates": many,
    }


def main() -> None:
    recipients = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    figures = asyncio.run(run(recipients))
    print(
        f"{figures['recipients']} recipients in {figures['seconds']} s: "
        f"{figures['rate_per_s']}/s = {figures['ratio']} of {figures['configured_per_s']}/s; "
        f"429s {figures['http_429']}, lost {figures['lost']}, duplicates {figures['duplicates']}"
    )
    emit(figures)


if __name__ == "__main__":
    main()
