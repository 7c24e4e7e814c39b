"""Sending a quiz item: the scene as an escaped message, then a native quiz poll."""

from __future__ import annotations

from telegram import InputPollOption, Message
from telegram.ext import ExtBot

from bot.core.render import Renderer
from bot.quiz.poll import QuizPayload


async def send_quiz(
    bot: ExtBot[None], chat_id: int, payload: QuizPayload, renderer: Renderer, lang: str
) -> Message:
    """Returns the poll message; its `poll.id` is what a later `poll_answer` names."""
    if payload.scene:
        await bot.send_message(
            chat_id, renderer.text("quiz_scene", lang, scene=payload.scene), parse_mode="HTML"
        )
    poll = dict(payload.poll)
    # Quiz texts are plain: no parse mode anywhere, so "<" and "&" stay literal.
    options = [InputPollOption(text, text_parse_mode=None) for text in poll.pop("options")]
    return await bot.send_poll(
        chat_id,
        options=options,
        question_parse_mode=None,
        explanation_parse_mode=None,
        **poll,
    )
