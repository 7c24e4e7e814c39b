"""/kuis (a practice question at any time), /nilai (today's value), and quiz poll answers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CommandHandler,
    PollAnswerHandler,
    filters,
)

from bot.core.deps import BotApp, BotContext, Deps
from bot.members import accounts
from bot.programme.daily import daily_value
from bot.quiz import followups
from bot.quiz import practice as practice_questions
from bot.quiz.answers import Answer, AnswerResult, Recorded, RoundTally
from bot.quiz.message import send_quiz
from bot.quiz.poll import quiz_payload
from handlers.common import HTML, current_member, send, user_language, within_limit

log = logging.getLogger(__name__)


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("kuis", practice, filters=private))
    app.add_handler(CommandHandler("nilai", value_of_the_day, filters=private))
    # First, in a group of its own: a round brings thousands of votes within seconds, and
    # none of them should be tried against every other handler.
    app.add_handler(PollAnswerHandler(_answer_then_stop), group=-1)


async def practice(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    if not await within_limit(update, ctx, ctx.deps.limits.practice, member.language, "practice"):
        return
    tz = await accounts.zone(ctx.db, member_id=member.id)
    today = ctx.deps.clock.today(tz)
    seed = f"{ctx.deps.settings.quiz_seed}:practice:{member.id}:{ctx.deps.clock.now().timestamp()}"
    picked = await practice_questions.pick(ctx.db, member_id=member.id, today=today, seed=seed)
    if picked is None:
        await send(update, ctx, "quiz_empty", member.language)
        return
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    recorded = ctx.deps.practice_sending[chat_id] = asyncio.Event()
    try:
        message = await send_quiz(
            ctx.bot,
            chat_id,
            quiz_payload(picked.question, picked.order),
            ctx.renderer,
            member.language,
        )
        assert message.poll is not None
        await practice_questions.note_practice_sent(
            ctx.db,
            poll_id=message.poll.id,
            member_id=member.id,
            pick=picked,
            chat_id=message.chat_id,
            message_id=message.message_id,
            day=today,
        )
    finally:
        recorded.set()
        if ctx.deps.practice_sending.get(chat_id) is recorded:
            del ctx.deps.practice_sending[chat_id]


async def _answer_then_stop(update: Update, ctx: BotContext) -> None:
    await on_answer(update, ctx)
    raise ApplicationHandlerStop  # nothing else handles a vote


async def on_answer(update: Update, ctx: BotContext) -> None:
    """A vote that came through PTB's handlers (webhook mode; long polling takes the fast
    lane in bot/app/votes.py)."""
    vote = update.poll_answer
    if vote is None:
        return
    user_id = vote.user.id if vote.user is not None else None
    answer = _answer(ctx.deps.clock.now(), vote.poll_id, user_id, vote.option_ids)
    await handle_answers(ctx.deps, ctx.bot, [answer] if answer else [])


async def handle_raw_votes(
    deps: Deps,
    bot: Bot,
    raw: list[dict[str, Any]],
    *,
    received: datetime | None = None,
    again: bool = False,
) -> bool:
    """Votes straight from a getUpdates response or a webhook call (bot/app/votes.py),
    received together at `received` (now, unless recorded `again` from the vote journal
    after a stop, when they may be stored already). Returns once they are committed
    (waiting out a database outage): True, or False when they could not be; the replies,
    and a second look at polls whose delivery the sender has not recorded yet, follow in
    the background."""
    now = received or deps.clock.now()
    answers = []
    for update in raw:
        vote = update.get("poll_answer")
        if not isinstance(vote, dict):
            continue
        user = vote.get("user")
        answer = _answer(
            now,
            str(vote.get("poll_id", "")),
            user.get("id") if isinstance(user, dict) else None,
            vote.get("option_ids"),
        )
        if answer is not None:
            answers.append(answer)
    try:
        if again:
            results = await deps.answers.record_again(answers)
        else:
            results = await deps.answers.record(answers)
    except Exception:
        log.exception("%d quiz answers could not be recorded", len(answers))
        return False
    task = asyncio.create_task(_follow_up(deps, bot, answers, results))
    deps.vote_tasks.add(task)
    task.add_done_callback(deps.vote_tasks.discard)
    return not any(r.result == AnswerResult.FAILED for r in results)


# No poll has this many options, and no poll id (ours are stored in 64 characters) is
# longer: a vote beyond them is forged, and is dropped before it reaches the database.
MAX_OPTIONS = 100
MAX_POLL_ID = 64
# Seconds a vote waits for its practice poll to be recorded (a database outage aside).
PRACTICE_RECORD_WAIT = 60.0


def _answer(now: datetime, poll_id: str, user_id: object, options: object) -> Answer | None:
    """The vote as an answer to record, or None (logged) when there is nothing to record."""
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None  # an anonymous vote (from a channel chat): no poll of ours is anonymous
    if not options:
        log.info("a quiz vote was retracted; the first answer stays")
        return None
    option = options[0] if isinstance(options, list | tuple) else None
    if not isinstance(option, int) or isinstance(option, bool) or not 0 <= option < MAX_OPTIONS:
        log.info("a quiz vote with an odd option was ignored")
        return None
    if not 0 < len(poll_id) <= MAX_POLL_ID or "\x00" in poll_id:
        log.info("a quiz vote with an odd poll id was ignored")
        return None
    return Answer(poll_id, user_id, option, now)


async def handle_answers(deps: Deps, bot: Bot, answers: list[Answer]) -> None:
    """Record the first vote of each poll we sent; everything else is logged and ignored."""
    results = await deps.answers.record(answers)
    await _follow_up(deps, bot, answers, results)


async def _follow_up(deps: Deps, bot: Bot, answers: list[Answer], results: list[Recorded]) -> None:
    """What follows recorded votes: unknown polls looked up again, the replies, and the
    follow-ups of two-step cases (only for answers newly recorded, so once)."""
    try:
        results = await _look_again(deps, answers, results)
    except Exception:
        log.exception("%d quiz answers to polls not yet recorded failed", len(answers))
    replies = []
    for answer, recorded in zip(answers, results, strict=True):
        if recorded.result == AnswerResult.RECORDED and recorded.follow_up is not None:
            replies.append(_send_follow_up(deps, bot, answer.poll_id, recorded))
        if recorded.result == AnswerResult.CLOSED and recorded.chat_id is not None:
            text = deps.renderer.text("quiz_closed", recorded.language)
            replies.append(_reply(bot, recorded.chat_id, text))
        elif recorded.result != AnswerResult.RECORDED:
            log.info("poll answer not recorded: %s", recorded.result)
        elif recorded.round_done is not None and recorded.chat_id is not None:
            text = deps.renderer.text(
                "quiz_result", recorded.language, tally=recorded.round_done, closed=False
            )
            replies.append(_reply(bot, recorded.chat_id, text))
    await asyncio.gather(*replies)


async def _send_follow_up(deps: Deps, bot: Bot, poll_id: str, recorded: Recorded) -> None:
    try:
        due: RoundTally | None = await followups.send_follow_up(deps, bot, poll_id=poll_id)
    except Exception:  # e.g. the database: the answer itself is recorded
        log.exception("a follow-up question failed")
        return
    if due is not None and recorded.chat_id is not None:
        # It could not be sent, and the round is complete without it.
        text = deps.renderer.text("quiz_result", recorded.language, tally=due, closed=False)
        await _reply(bot, recorded.chat_id, text)


async def _look_again(deps: Deps, answers: list[Answer], results: list[Recorded]) -> list[Recorded]:
    unknown = [i for i, r in enumerate(results) if r.result == AnswerResult.UNKNOWN_POLL]
    if not unknown:
        return results
    # A practice poll is recorded just after Telegram returns it: a quick vote can come
    # in between. (In a private chat the voter's id is the chat's.)
    practice = [deps.practice_sending.get(answers[i].telegram_user_id) for i in unknown]
    waits = [event.wait() for event in practice if event is not None]
    if waits:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PRACTICE_RECORD_WAIT):
                await asyncio.gather(*waits)
    # The polls may have left seconds ago with their mapping still in the sender's
    # buffer, or the rest of their round may still be going out: wait until the sender
    # has written what it knows, and look again before calling them unknown.
    if deps.sender is not None:
        await deps.sender.settle_polls(answers[i].poll_id for i in unknown)
    elif not waits:
        return results
    again = await deps.answers.record([answers[i] for i in unknown])
    results = list(results)
    for i, recorded in zip(unknown, again, strict=True):
        results[i] = recorded
    return results


async def _reply(bot: Bot, chat_id: int, text: str) -> None:
    try:
        await bot.send_message(chat_id, text, parse_mode=HTML)
    except TelegramError as exc:  # e.g. the member blocked the bot since
        log.info("a quiz reply could not be sent: %s", type(exc).__name__)


async def value_of_the_day(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    lang = member.language if member else user_language(update)
    tz = (
        await accounts.zone(ctx.db, member_id=member.id)
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
