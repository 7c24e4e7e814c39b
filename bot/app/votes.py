"""A fast lane for quiz votes received by long polling, and the point where updates are
confirmed to Telegram.

A quiz round brings thousands of `poll_answer` updates within seconds. Turning each into
a PTB `Update` and trying it against every handler costs more than recording it, so the
getUpdates response is split before PTB parses it: votes go straight to the vote
handler (`handlers.quiz.handle_raw_votes`; webhook mode runs the same recording through
PTB's PollAnswerHandler), and the rest goes on to PTB as usual. The update ids stay whole:
when the last update of a response is a vote, an empty update with its id takes its place,
so the updater's offset moves past it.

The next getUpdates call is what tells Telegram that the updates before its offset were
handled. So a response's votes are on disk (the vote journal, bot/app/vote_journal.py,
flushed before the sink returns) before PTB sees the response (and so before it can ask for
more); they are committed to the database meanwhile. No getUpdates call leaves while an
update waits for the database to come back (`Database.until_clear`): what Telegram forgets
has been stored, or is in the journal, or is still in hand and will be once the database
answers.

In webhook mode Telegram's POST is answered when PTB's webhook handler has put the update
into the application's queue, so the queue is where it waits (`CommitFirstQueue`): a vote is
in the journal before `put` returns, and nothing is queued while an update waits for the
database.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram._utils.types import JSONDict
from telegram.request import HTTPXRequest, RequestData

VoteSink = Callable[[list[JSONDict]], Awaitable[None]]
Gate = Callable[[], Awaitable[None]]

# Update ids remembered to recognise Telegram sending one again (a webhook call it gave up
# on while we held it): far more than can arrive within its retry time.
SEEN = 10_000


class VoteSplittingRequest(HTTPXRequest):
    """The request object for getUpdates only (PTB keeps a separate one for it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Takes a response's votes; returns once they are safe (on disk).
        self.sink: VoteSink | None = None
        # Returns when no update is waiting for the database.
        self.gate: Gate | None = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        write_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        connect_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        pool_timeout: Any = HTTPXRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self.gate is not None:
            await self.gate()
        code, payload = await super().do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if self.sink is None or code != 200 or not url.endswith("/getUpdates"):
            return code, payload
        try:
            data = json.loads(payload)
        except ValueError:
            return code, payload  # PTB reports it as it would
        updates = data.get("result") if isinstance(data, dict) else None
        if not isinstance(updates, list) or not updates:
            return code, payload
        votes = [u for u in updates if isinstance(u, dict) and "poll_answer" in u]
        if not votes:
            return code, payload
        rest = [u for u in updates if not (isinstance(u, dict) and "poll_answer" in u)]
        last = updates[-1]
        if isinstance(last, dict) and "poll_answer" in last:
            rest.append({"update_id": last["update_id"]})
        await self.sink(votes)
        return code, json.dumps({**data, "result": rest}).encode()


class CommitFirstQueue(asyncio.Queue[object]):
    """The application's update queue. PTB's webhook handler answers Telegram once `put`
    returns, so a vote is kept (on disk) before, and an update is queued only when
    nothing waits for the database. An update Telegram sends again because we held it too
    long is recognised by its id: while the first copy is still being put, the second
    waits for it (answering Telegram at once would confirm an update not yet safe), and
    after that it is dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.sink: VoteSink | None = None
        self.gate: Gate | None = None
        # Update ids seen: a future while that update is being put, None once it is in.
        self._seen: OrderedDict[int, asyncio.Future[None] | None] = OrderedDict()

    async def put(self, item: object) -> None:
        if not isinstance(item, Update):
            await super().put(item)
            return
        update_id = item.update_id
        while update_id in self._seen:
            putting = self._seen[update_id]
            if putting is None:
                return  # in already
            await asyncio.shield(putting)  # then in, or failed and free to try again
        putting = asyncio.get_running_loop().create_future()
        self._seen[update_id] = putting
        if len(self._seen) > SEEN:
            self._seen.popitem(last=False)
        try:
            if item.poll_answer is not None and self.sink is not None:
                await self.sink([item.to_dict()])
            else:
                if self.gate is not None:
                    await self.gate()
                await super().put(item)
        except BaseException:
            self._seen.pop(update_id, None)  # not in: Telegram's next try is handled
            raise
        else:
            if update_id in self._seen:
                self._seen[update_id] = None
        finally:
            putting.set_result(None)
