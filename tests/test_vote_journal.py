"""The vote journal: what was kept and not marked done comes back at the next start, in
order and with the time it was received; a line cut short by a crash is skipped; one
process at a time; emptied once everything in it is done."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import vote_journal
from bot.app.vote_journal import JournalLocked, VoteJournal

T0 = datetime(2026, 12, 8, 3, 10, tzinfo=UTC)


def vote(update_id: int, poll_id: str = "p1") -> dict[str, object]:
    return {
        "update_id": update_id,
        "poll_answer": {"poll_id": poll_id, "user": {"id": 5_000_000_001}, "option_ids": [2]},
    }


async def test_entries_not_done_come_back_in_order_with_their_time(tmp_path: Path) -> None:
    path = tmp_path / "votes.jsonl"
    journal = VoteJournal(path)
    assert await journal.open() == []
    first = await journal.keep(T0, [vote(1), vote(2)])
    second = await journal.keep(T0 + timedelta(seconds=1), [vote(3)])
    third = await journal.keep(T0 + timedelta(seconds=2), [vote(4)])
    await journal.done(second)
    assert journal.waiting == 3  # votes of the first and third entries
    await journal.close()  # as a kill would leave it: two entries not done

    again = VoteJournal(path)
    left = await again.open()
    assert [(e.number, e.received, e.votes) for e in left] == [
        (first, T0, [vote(1), vote(2)]),
        (third, T0 + timedelta(seconds=2), [vote(4)]),
    ]
    # Numbers go on after the highest seen, so a "done" never names an older entry.
    assert await again.keep(T0, [vote(5)]) > third
    await again.close()


async def test_a_line_cut_short_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "votes.jsonl"
    journal = VoteJournal(path)
    await journal.open()
    await journal.keep(T0, [vote(1)])
    await journal.close()
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"n": 2, "at": "2026-12-08T03:10:00+00:00", "votes": [{"upd')
    again = VoteJournal(path)
    left = await again.open()
    assert [e.votes for e in left] == [[vote(1)]]
    await again.close()


async def test_a_second_process_on_the_same_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "votes.jsonl"
    journal = VoteJournal(path)
    await journal.open()
    with pytest.raises(JournalLocked, match="another bot process"):
        await VoteJournal(path).open()
    await journal.close()
    again = VoteJournal(path)
    await again.open()  # free once the first one closed
    await again.close()


async def test_emptied_once_every_entry_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vote_journal, "COMPACT_AT", 1000)
    path = tmp_path / "votes.jsonl"
    journal = VoteJournal(path)
    await journal.open()
    numbers = [await journal.keep(T0, [vote(i, f"poll-{i}") for i in range(5)]) for _ in range(3)]
    for number in numbers[:-1]:
        await journal.done(number)
    assert path.stat().st_size > 1000  # one entry still open: nothing is dropped
    await journal.done(numbers[-1])
    assert path.stat().st_size == 0
    await journal.close()
    assert await VoteJournal(path).open() == []


async def test_the_next_votes_wait_while_too_many_are_uncommitted(tmp_path: Path) -> None:
    journal = VoteJournal(tmp_path / "votes.jsonl")
    journal.limit = 3
    await journal.open()
    first = await journal.keep(T0, [vote(1), vote(2), vote(3)])
    waiting = asyncio.create_task(journal.keep(T0, [vote(4)]))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # the getUpdates that would bring more waits too
    await journal.done(first)
    await asyncio.wait_for(waiting, timeout=5)
    await journal.close()
