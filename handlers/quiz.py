"""/kuis (a practice question at any time), /nilai (today's value), and quiz poll answers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlmodel import Session, col, select
from telegram import Bot, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CommandHandler,
    PollAnswerHandler,
    filters,
)

from bot.deps import BotContext, Deps
from bot.quiz_message import send_quiz
from bot.rounds import note_sent
from bot.services import activity
from bot.services.daily import daily_value
from bot.services.quiz import quiz_payload
from bot.services.selection import Candidate, Seen, choose, round_cycles
from content.loader import Question
from db.models import QuestionBox
from db.queries import content as content_db
from db.queries import quiz as quiz_db
from handlers.common import HTML, current_member, send, user_language

log = logging.getLogger(__name__)


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("kuis", practice, filters=private))
    app.add_handler(CommandHandler("nilai", value_of_the_day, filters=private))
    # First, in a group of its own: a round brings thousands of votes within seconds, and
    # none of them should be tried against every other handler.
    app.add_handler(PollAnswerHandler(_answer_then_stop), group=-1)


def _practice_pick(
    *, session: Session, member_id: int, today: object, seed: str
) -> tuple[Question, int] | None:
    bank = {q.id: q for q in content_db.active_questions(session=session)}
    candidates = [Candidate(q.id, q.value, q.difficulty) for q in bank.values()]
    boxes = session.exec(select(QuestionBox).where(col(QuestionBox.member_id) == member_id)).all()
    seen = [Seen(b.question_id, b.value, b.last_sent, b.box, b.due, b.cycle) for b in boxes]
    picks = choose(candidates, seen, today=today, count=1, seed=seed)  # type: ignore[arg-type]
    if not picks:
        return None
    return bank[picks[0]], round_cycles(candidates, seen, picks)[picks[0]]


async def practice(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    tz = await ctx.db.run(activity.zone_of, member_id=member.id)
    today = ctx.deps.clock.today(tz)
    seed = f"{ctx.deps.settings.quiz_seed}:practice:{member.id}:{ctx.deps.clock.now().timestamp()}"
    picked = await ctx.db.run(_practice_pick, member_id=member.id, today=today, seed=seed)
    if picked is None:
        await send(update, ctx, "quiz_empty", member.language)
        return
    question, cycle = picked
    assert update.effective_chat is not None
    message = await send_quiz(
        ctx.bot, update.effective_chat.id, quiz_payload(question), ctx.renderer, member.language
    )
    assert message.poll is not None

    def store(*, session: Session) -> None:
        quiz_db.record_poll(
            session=session,
            poll_id=message.poll.id,  # type: ignore[union-attr]
            member_id=member.id,
            question_id=question.id,
            chat_id=message.chat_id,
            message_id=message.message_id,
            practice=True,
        )
        note_sent(
            session,
            member_id=member.id,
            question_id=question.id,
            value=question.value,
            day=today,
            cycle=cycle,
        )

    await ctx.db.run(store)


# At most this many answers share a transaction: a batch's reads use IN lists, and the
# update processor runs no more than 256 handlers at once anyway.
BATCH = 500


class AnswerBatcher:
    """Group commit for poll answers. Thousands of members answer a round within seconds;
    one transaction each would spend the bot's time in per-answer statements. An answer
    that arrives while a batch is being written waits for the next one, so a lone answer
    is written at once and a burst in a few large transactions. Each handler still waits
    for its own answer to be committed before it replies."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._pending: list[tuple[activity.Answer, asyncio.Future[activity.Recorded]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, answer: activity.Answer) -> activity.Recorded:
        future: asyncio.Future[activity.Recorded] = asyncio.get_running_loop().create_future()
        self._pending.append((answer, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
            try:
                await self._write_batch(batch)
            except asyncio.CancelledError:
                # The bot is stopping: the handlers waiting on this batch stop with it.
                for _, future in batch:
                    future.cancel()
                raise

    async def _write_batch(
        self, batch: list[tuple[activity.Answer, asyncio.Future[activity.Recorded]]]
    ) -> None:
        try:
            results = await self._run([answer for answer, _ in batch])
        except Exception:
            # One bad answer must not lose the others: each again in its own transaction,
            # so only the handler whose answer fails sees the error.
            log.warning("a batch of %d answers failed; recording one by one", len(batch))
            for answer, future in batch:
                try:
                    [result] = await self._run([answer])
                except Exception as exc:
                    _settle(future, exc)
                else:
                    _settle(future, result)
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)

    async def _run(self, answers: list[activity.Answer]) -> list[activity.Recorded]:
        deps = self.deps
        return await deps.db.run(
            activity.record_answers, answers=answers, rules=deps.rules, calendar=deps.calendar
        )


def _settle(
    future: asyncio.Future[activity.Recorded], outcome: activity.Recorded | Exception
) -> None:
    if future.done():
        return  # the handler was cancelled (the bot is stopping); the row is written
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _batcher(deps: Deps) -> AnswerBatcher:
    batcher = deps.extra.get("answer_batcher")
    if not isinstance(batcher, AnswerBatcher):
        batcher = deps.extra["answer_batcher"] = AnswerBatcher(deps)
    return batcher


async def _answer_then_stop(update: Update, ctx: BotContext) -> None:
    await on_answer(update, ctx)
    raise ApplicationHandlerStop  # nothing else handles a vote


async def on_answer(update: Update, ctx: BotContext) -> None:
    """A vote that came through PTB's handlers (webhook mode; long polling takes the fast
    lane in bot/votes.py)."""
    answer = update.poll_answer
    if answer is None:
        return
    user_id = answer.user.id if answer.user is not None else None
    await handle_vote(ctx.deps, ctx.bot, answer.poll_id, user_id, list(answer.option_ids))


async def handle_raw_votes(deps: Deps, bot: Bot, votes: list[dict[str, Any]]) -> None:
    """Votes straight from a getUpdates response (bot/votes.py)."""

    async def one(raw: dict[str, Any]) -> None:
        answer = raw.get("poll_answer") or {}
        user = answer.get("user") or {}
        try:
            await handle_vote(
                deps,
                bot,
                str(answer.get("poll_id", "")),
                user.get("id") if isinstance(user, dict) else None,
                [int(o) for o in answer.get("option_ids") or []],
            )
        except Exception:
            log.exception("a quiz vote could not be handled")

    await asyncio.gather(*(one(raw) for raw in votes))


async def handle_vote(
    deps: Deps, bot: Bot, poll_id: str, user_id: int | None, option_ids: list[int]
) -> None:
    """Record the first vote of a poll we sent; everything else is logged and ignored."""
    if user_id is None:
        return  # an anonymous vote (from a channel chat): no poll of ours is anonymous
    if not option_ids:
        log.info("a quiz vote was retracted; the first answer stays")
        return
    batcher = _batcher(deps)

    async def record() -> activity.Recorded:
        vote = activity.Answer(
            poll_id=poll_id, telegram_user_id=user_id, option=option_ids[0], now=deps.clock.now()
        )
        return await batcher.record(vote)

    recorded = await record()
    if recorded.result == activity.AnswerResult.UNKNOWN_POLL and deps.sender is not None:
        # The poll may have left seconds ago with its mapping still in the sender's
        # buffer: write the buffer and look again before calling it unknown.
        await deps.sender.flush_now()
        recorded = await record()
    if recorded.result == activity.AnswerResult.CLOSED and recorded.chat_id is not None:
        text = deps.renderer.text("quiz_closed", recorded.language)
        await bot.send_message(recorded.chat_id, text, parse_mode=HTML)
    if recorded.result != activity.AnswerResult.RECORDED:
        log.info("poll answer not recorded: %s", recorded.result)
        return
    if recorded.round_done is not None and recorded.chat_id is not None:
        text = deps.renderer.text(
            "quiz_result", recorded.language, tally=recorded.round_done, closed=False
        )
        await bot.send_message(recorded.chat_id, text, parse_mode=HTML)


async def value_of_the_day(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    lang = member.language if member else user_language(update)
    tz = (
        await ctx.db.run(activity.zone_of, member_id=member.id)
        if member
        else ctx.deps.settings.default_timezone
    )
    today = daily_value(ctx.deps.content, ctx.deps.calendar, ctx.deps.clock.today(tz))
    await send(
        update,
        ctx,
        "value_of_the_day",
        lang,
        value=today.value,
        guideline=today.guideline,
        prompt=today.prompt,
        reply_hint=member is not None,
    )
