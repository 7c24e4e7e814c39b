"""How a quiz item looks in Telegram: an optional scene message, then a native quiz poll."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.quiz.shuffle import shown
from content.loader import Question


@dataclass(frozen=True)
class QuizPayload:
    scene: str | None
    poll: dict[str, Any]


def quiz_payload(q: Question, order: list[int] | None = None) -> QuizPayload:
    """Keyword arguments for `send_poll`, with the options in `order` (the bank's order
    when None, as in HR's preview); the scene, if any, goes first as a message.

    Poll texts are sent without a parse mode (see `send_quiz`), so a `<` or `&` in HR's
    text stays literal.
    """
    options, key = shown(q, order if order is not None else list(range(len(q.options))))
    return QuizPayload(
        scene=q.scene,
        poll={
            "question": q.question,
            "options": options,
            "type": "quiz",
            "correct_option_ids": [key],
            "explanation": q.explanation,
            "is_anonymous": False,
        },
    )
