"""Writing quiz answers, then scoring them, off the event loop and in batches.

A round brings thousands of answers within seconds. `AnswerBatcher` writes the answers
that arrive together in one transaction (group commit); `Scorekeeper` scores what was
written a moment later, in the background, in large batches. Anything that shows scores
asks the scorekeeper to catch up first (`settle`), so nobody sees a score without their
latest answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from bot.core.calendar import WorkCalendar
from bot.quiz.answers import Answer, AnswerResult, Recorded, record_answers
from bot.scores.scorekeeping import BATCH as SCORE_BATCH
from bot.scores.scorekeeping import score_answers
from bot.scores.scoring import PointRules
from db.engine import Database, unavailable

log = logging.getLogger(__name__)

# At most this many answers share a transaction: a batch's reads use IN lists.
ANSWER_BATCH = 500
# Scoring waits this long after an answer is written, so a burst is scored in a few
# large batches rather than in many small ones that compete with the writing.
SCORE_DELAY = 1.0  # seconds
# After a failed scoring batch (e.g. a day marked by another writer at the same moment),
# the next try waits this long; the answers stay recorded and unscored until then.
RETRY_DELAY = 5.0  # seconds

Waiting = tuple[list[Answer], "asyncio.Future[list[Recorded]]"]


class Scorekeeper:
    """Scores recorded answers in the background; one scoring run at a time."""

    def __init__(self, db: Database, rules: PointRules, calendar: WorkCalendar) -> None:
        self.db = db
        self.rules = rules
        self.calendar = calendar
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._dirty = False

    def poke(self, delay: float = SCORE_DELAY) -> None:
        """New answers were written: score them soon."""
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(delay))

    async def _run(self, delay: float) -> None:
        while self._dirty:
            self._dirty = False
            await asyncio.sleep(delay)
            # Shielded: `stop` may cancel the wait, never a scoring run halfway.
            if not await asyncio.shield(self.settle()):
                self._dirty = True
                delay = RETRY_DELAY

    async def settle(self) -> bool:
        """Score everything recorded so far. False if scoring failed (logged; the answers
        stay recorded, and the scores shown are those from before them)."""
        async with self._lock:
            try:
                while (
                    await self.db.run(
                        score_answers, rules=self.rules, calendar=self.calendar, limit=SCORE_BATCH
                    )
                    == SCORE_BATCH
                ):
                    pass
            except Exception:
                log.exception("scoring recorded answers failed; will try again")
                return False
        return True

    async def stop(self) -> None:
        """Score what is left (the next start would, too) and stop."""
        await _cancel(self._task)
        await self.settle()


class AnswerBatcher:
    """Group commit for poll answers: the answers that arrive while a batch is being written
    go together in the next one, so a lone answer is written at once and a burst in a few
    large transactions. Each caller waits until its own answers are committed."""

    def __init__(self, db: Database, rules: PointRules, scorekeeper: Scorekeeper) -> None:
        self.db = db
        self.rules = rules
        self.scorekeeper = scorekeeper
        self._pending: list[Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, answers: Sequence[Answer]) -> list[Recorded]:
        """The answers' outcomes, once they are committed. While the database is unavailable
        this waits for it (up to `Database.outage_wait`, then they fail)."""
        if not answers:
            return []
        future: asyncio.Future[list[Recorded]] = asyncio.get_running_loop().create_future()
        waiting = (list(answers), future)
        self._pending.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        try:
            return await future
        except asyncio.CancelledError:
            # The caller stops (the bot is stopping) and will not confirm these votes, so
            # Telegram sends them again: not written yet, they are not written now.
            if waiting in self._pending:
                self._pending.remove(waiting)
            raise

    async def record_again(self, answers: Sequence[Answer]) -> list[Recorded]:
        """Answers a run that stopped may have stored before it could tell (the vote
        journal's): one already stored with the same option is this one, counted once, and
        its member still gets the result."""
        if not answers:
            return []
        results = await self.db.wait_out(
            lambda: self._run(list(answers), again=True),
            what=f"{len(answers)} answers kept from before a stop",
            holds_updates=False,
        )
        self.scorekeeper.poke()
        return results

    async def stop(self) -> None:
        """Stop writing: answers not yet committed stay in the vote journal."""
        await _cancel(self._writer)

    async def _write(self) -> None:
        while self._pending:
            batch: list[Waiting] = []
            size = 0
            while self._pending and (not batch or size + len(self._pending[0][0]) <= ANSWER_BATCH):
                waiting = self._pending.pop(0)
                batch.append(waiting)
                size += len(waiting[0])
            try:
                await self._write_batch(batch)
            except asyncio.CancelledError:
                # The bot is stopping: the callers waiting on this batch stop with it.
                for _, future in batch:
                    future.cancel()
                raise
            self.scorekeeper.poke()

    async def _write_batch(self, batch: list[Waiting]) -> None:
        every = [a for answers, _ in batch for a in answers]
        again = False

        async def attempt() -> list[Recorded]:
            nonlocal again
            try:
                return await self._run(every, again=again)
            except Exception:
                # A connection lost during the commit may have committed it: the next try
                # recognises its own votes instead of calling them duplicates.
                again = True
                raise

        try:
            # The votes are in the vote journal meanwhile: updates go on being taken.
            results = await self.db.wait_out(
                attempt, what=f"a batch of {len(every)} answers", holds_updates=False
            )
        except Exception as error:
            if unavailable(error) is not None:
                # The database stayed away past DB_OUTAGE_WAIT (logged by wait_out).
                for waiting, future in batch:
                    _settle(future, [Recorded(AnswerResult.FAILED)] * len(waiting))
                return
            # One bad answer must not lose the others: each again in its own transaction;
            # only the one that fails again is reported as failed.
            log.warning("a batch of answers failed; recording one by one")
            for answers, future in batch:
                _settle(future, [await self._alone(answer) for answer in answers])
            return
        start = 0
        for answers, future in batch:
            _settle(future, results[start : start + len(answers)])
            start += len(answers)

    async def _alone(self, answer: Answer) -> Recorded:
        try:
            [recorded] = await self._run([answer])
        except Exception:
            log.exception("an answer could not be recorded")
            return Recorded(AnswerResult.FAILED)
        return recorded

    async def _run(self, answers: list[Answer], *, again: bool = False) -> list[Recorded]:
        if again:
            return await self.db.run(record_answers, answers=answers, rules=self.rules, again=True)
        return await self.db.run(record_answers, answers=answers, rules=self.rules)


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _settle(future: asyncio.Future[list[Recorded]], outcome: list[Recorded]) -> None:
    if not future.done():  # else the caller was cancelled (the bot is stopping)
        future.set_result(outcome)
