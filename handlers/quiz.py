"""/kuis (a practice question at any time), /nilai (today's value), and quiz poll answers."""

from __future__ import annotations

import logging

from sqlmodel import Session, col, select
from telegram import Update
from telegram.ext import Application, CommandHandler, PollAnswerHandler, filters

from bot.deps import BotContext
from bot.quiz_message import send_quiz
from bot.rounds import note_sent
from bot.services import activity
from bot.services.daily import daily_value
from bot.services.quiz import quiz_payload
from bot.services.selection import Candidate, Seen, choose, round_cycles
from content.loader import Question
from db.models import Member, QuestionBox
from db.queries import content as content_db
from db.queries import quiz as quiz_db
from handlers.common import HTML, current_member, send, user_language

log = logging.getLogger(__name__)


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("kuis", practice, filters=private))
    app.add_handler(CommandHandler("nilai", value_of_the_day, filters=private))
    app.add_handler(PollAnswerHandler(on_answer))


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


def _zone(*, session: Session, member_id: int) -> str:
    member = session.get(Member, member_id)
    return activity.member_zone(session, member) if member else "Asia/Jakarta"


async def practice(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    tz = await ctx.db.run(_zone, member_id=member.id)
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


async def on_answer(update: Update, ctx: BotContext) -> None:
    """Record the first vote of a poll we sent; everything else is logged and ignored."""
    answer = update.poll_answer
    if answer is None or answer.user is None:
        return  # an anonymous vote (from a channel chat): no poll of ours is anonymous
    if not answer.option_ids:
        log.info("a quiz vote was retracted; the first answer stays")
        return
    deps = ctx.deps

    async def record() -> activity.Recorded:
        return await ctx.db.run(
            activity.record_answer,
            poll_id=answer.poll_id,
            telegram_user_id=answer.user.id,  # type: ignore[union-attr]
            option=answer.option_ids[0],
            now=deps.clock.now(),
            rules=deps.rules,
            calendar=deps.calendar,
        )

    recorded = await record()
    if recorded.result == activity.AnswerResult.UNKNOWN_POLL and deps.sender is not None:
        # The poll may have left seconds ago with its mapping still in the sender's
        # buffer: write the buffer and look again before calling it unknown.
        await deps.sender.flush_now()
        recorded = await record()
    if recorded.result == activity.AnswerResult.CLOSED and recorded.chat_id is not None:
        text = ctx.renderer.text("quiz_closed", recorded.language)
        await ctx.bot.send_message(recorded.chat_id, text, parse_mode=HTML)
    if recorded.result != activity.AnswerResult.RECORDED:
        log.info("poll answer not recorded: %s", recorded.result)
        return
    if recorded.round_done is not None and recorded.chat_id is not None:
        text = ctx.renderer.text(
            "quiz_result", recorded.language, tally=recorded.round_done, closed=False
        )
        await ctx.bot.send_message(recorded.chat_id, text, parse_mode=HTML)


async def value_of_the_day(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    lang = member.language if member else user_language(update)
    tz = (
        await ctx.db.run(_zone, member_id=member.id)
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
