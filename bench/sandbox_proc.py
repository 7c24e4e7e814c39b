"""The sandbox in its own process, with N simulated users who have started the bot.

`python -m bench.sandbox_proc PORT USERS [--no-limits]` prints `READY` when serving; a
second port (PORT+1) answers GET /stats with what the bot sent to each private chat, and
POST /answer_all ({"option": N}) makes every user answer the latest poll the bot sent them.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter

from aiohttp import web

from sandbox import Sandbox
from sandbox.users import SimUser

TOKEN = "7000000001:AAHbench-token_0123456789abcdefghij"


async def main(port: int, users: int, limits: bool) -> None:
    sandbox = Sandbox(token=TOKEN, port=port, rate_limits=limits, control_api=False)
    sandbox.max_calls = 1000  # keep memory flat over tens of thousands of sends
    await sandbox.start()
    simulated: list[SimUser] = []
    for i in range(users):
        user = sandbox.user(f"Anggota {i}")
        await user.send("/start")
        simulated.append(user)
    world = sandbox.world

    async def stats(_: web.Request) -> web.Response:
        per_chat: Counter[int] = Counter()
        for chat in world.primary.private_chats.values():
            per_chat[chat.id] = sum(
                1 for m in chat.messages.values() if m.get("from", {}).get("is_bot")
            )
        violations = [str(v) for v in sandbox.violations]
        return web.json_response(
            {
                "per_chat": {str(k): v for k, v in per_chat.items()},
                "violations": len(violations),
                "too_many": sum("429" in v for v in violations),
                "sample": violations[:5],
            }
        )

    async def answer_all(request: web.Request) -> web.Response:
        option = int((await request.json())["option"])
        cast = 0
        for user in simulated:
            chat = world.primary.private_chats.get(user.id)
            if chat is None:
                continue
            # Newest first: the poll the member would see at the bottom of the chat.
            latest = next(
                (
                    m
                    for m in reversed(chat.messages.values())
                    if "poll" in m and m.get("from", {}).get("is_bot")
                ),
                None,
            )
            if latest is None:
                continue
            await user.answer_poll(latest, [option])
            cast += 1
        return web.json_response({"answered": cast})

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_post("/answer_all", answer_all)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port + 1).start()
    print("READY", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), "--no-limits" not in sys.argv))
