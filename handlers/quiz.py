"""/kuis (a practice question at any time), /nilai (today's value), and quiz poll answers."""

from __future__ import annotations

import logging
import random
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CommandHandler, PollAnswerHandler, filters

from bot.deps import BotContext
from bot.quiz_message import send_quiz
from bot.services.quiz import quiz_payload
from content.loader import Question
from db.queries import content as content_db
from db.queries import quiz as quiz_db
from handlers.common import current_member, send, user_language

log = logging.getLogger(__name__)


def register(app: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("kuis", practice, filters=private))
    app.add_handler(CommandHandler("nilai", value_of_the_day, filters=private))
    app.add_handler(PollAnswerHandler(on_answer))


async def practice(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    candidates = await ctx.db.run(quiz_db.unseen_question_ids, member_id=member.id)
    questions = {q.id: q for q in await ctx.db.run(content_db.active_questions)}
    pool = [questions[i] for i in candidates if i in questions]
    if not pool:
        await send(update, ctx, "quiz_empty", member.language)
        return
    question: Question = random.choice(pool)
    assert update.effective_chat is not None
    message = await send_quiz(
        ctx.bot, update.effective_chat.id, quiz_payload(question), ctx.renderer, member.language
    )
    assert message.poll is not None
    await ctx.db.run(
        quiz_db.record_poll,
        poll_id=message.poll.id,
        member_id=member.id,
        question_id=question.id,
        chat_id=message.chat_id,
        message_id=message.message_id,
        practice=True,
    )


async def on_answer(update: Update, ctx: BotContext) -> None:
    """Record the first vote of a poll we sent; everything else is logged and ignored."""
    answer = update.poll_answer
    if answer is None or answer.user is None:
        return
    if not answer.option_ids:
        log.info("a quiz vote was retracted; the first answer stays")
        return
    recorded = await ctx.db.run(
        quiz_db.record_answer,
        poll_id=answer.poll_id,
        telegram_user_id=answer.user.id,
        option=answer.option_ids[0],
    )
    if recorded.result != quiz_db.AnswerResult.RECORDED:
        log.info("poll answer ignored: %s", recorded.result)


async def value_of_the_day(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    lang = member.language if member else user_language(update)
    content = ctx.deps.content
    today = datetime.now(ZoneInfo(ctx.deps.settings.default_timezone)).date()
    # The seven values in turn, one a day; within a value, its three guidelines in turn.
    day = today.toordinal()
    value = content.values[day % len(content.values)]
    guideline = value.guidelines[(day // len(content.values)) % len(value.guidelines)]
    prompts = [p for p in content.prompts if p.guideline == guideline.code]
    prompt = prompts[(day // 21) % len(prompts)] if prompts else None
    await send(
        update, ctx, "value_of_the_day", lang, value=value, guideline=guideline, prompt=prompt
    )
