"""Quiz votes kept on local disk between Telegram handing them over and their commit.

Telegram forgets the updates of a getUpdates response once the next call confirms them (a
webhook's once it is answered 200). Committing a response's votes to the database first
made the fetching wait for every commit: a round's votes arrived no faster than the
database could take a hundred at a time. Instead each response's votes are appended to
this journal and flushed to disk (one `fsync`, well under a database commit), then
confirmed, and the database writes them in large batches meanwhile. An entry is marked
done once its votes are committed; at start-up the entries not marked done are recorded
again (a vote already stored counts once: the first vote of a poll is the one that
counts, and its result was sent when it was stored).

The file is JSON lines, `{"n": 7, "at": "…", "votes": [...]}` and `{"done": 7}`, emptied
once every entry in it is done. Only one process may use a journal (an exclusive lock):
two bots on one file would each record the other's votes. All file work runs in one
thread of its own, in order, never on the event loop.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

# Votes kept and not yet committed, at most: past it the next getUpdates waits (Telegram
# holds the rest), so a database slower than the votes cannot fill memory.
MAX_WAITING_VOTES = 10_000
# Emptied when every entry is done and the file has grown past this many bytes.
COMPACT_AT = 256 * 1024


class JournalLocked(RuntimeError):
    """Another process holds the journal."""


@dataclass(frozen=True)
class Entry:
    number: int
    received: datetime
    votes: list[dict[str, Any]]


class VoteJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vote-journal")
        self._next = 1
        # Entries written and not yet done, with their number of votes: the sink waits for
        # room, and the file is emptied when none is left.
        self._open: dict[int, int] = {}
        self.waiting = 0  # votes kept and not yet committed
        self._room = asyncio.Event()
        self._room.set()
        self.limit = MAX_WAITING_VOTES

    # --- the file, in the journal's own thread -------------------------------------------

    def _open_file(self) -> list[Entry]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open until close
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise JournalLocked(
                f"{self.path} is in use by another bot process (VOTE_JOURNAL)"
            ) from None
        handle.seek(0)
        entries: dict[int, Entry] = {}
        for line in handle:
            try:
                item = json.loads(line)
                if "done" in item:
                    entries.pop(int(item["done"]), None)
                    continue
                number = int(item["n"])
                entries[number] = Entry(
                    number, datetime.fromisoformat(item["at"]), list(item["votes"])
                )
            except (ValueError, KeyError, TypeError):
                # A line cut short by a crash mid-write: it was never flushed, so never
                # confirmed, and Telegram sends those votes again.
                continue
            self._next = max(self._next, number + 1)
        self._file = handle
        handle.seek(0, os.SEEK_END)
        return sorted(entries.values(), key=lambda e: e.number)

    def _append(self, number: int, received: datetime, votes: list[dict[str, Any]]) -> None:
        assert self._file is not None
        line = json.dumps({"n": number, "at": received.isoformat(), "votes": votes})
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def _done(self, number: int, last: bool) -> None:
        assert self._file is not None
        if last and self._file.tell() > COMPACT_AT:
            self._file.truncate(0)
            self._file.seek(0)
            return
        # Not flushed to disk: a "done" lost in a crash only means recording again a vote
        # that counts once anyway.
        self._file.write(json.dumps({"done": number}) + "\n")
        self._file.flush()

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()  # releases the lock
            self._file = None

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # --- the bot's side ------------------------------------------------------------------

    async def open(self) -> list[Entry]:
        """Lock the journal; returns the entries left from an earlier run, oldest first."""
        left: list[Entry] = await self._run(self._open_file)
        for entry in left:
            self._open[entry.number] = len(entry.votes)
            self.waiting += len(entry.votes)
        if left:
            log.warning("vote journal: %d entries from before a stop are recorded again", len(left))
        return left

    async def keep(self, received: datetime, votes: list[dict[str, Any]]) -> int:
        """Write votes and flush them to disk, once there is room; returns the entry's
        number for `done`."""
        while not self._room.is_set():
            await self._room.wait()
        number = self._next
        self._next += 1
        self._open[number] = len(votes)
        self.waiting += len(votes)
        if self.waiting >= self.limit:
            self._room.clear()
        await self._run(self._append, number, received, votes)
        return number

    async def done(self, number: int) -> None:
        self.waiting -= self._open.pop(number, 0)
        if self.waiting < self.limit:
            self._room.set()
        await self._run(self._done, number, not self._open)

    async def close(self) -> None:
        await self._run(self._close)
        self._executor.shutdown(wait=True)
