"""How a quiz item looks in Telegram: an optional scene message, then a native quiz poll."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from content.loader import Question


@dataclass(frozen=True)
class QuizPayload:
    scene: str | None
    poll: dict[str, Any]


def quiz_payload(q: Question) -> QuizPayload:
    """Keyword arguments for `send_poll`; the scene, if any, goes first as a message.

    Poll texts are sent without a parse mode (see `send_quiz`), so a `<` or `&` in HR's
    text stays literal.
    """
    return QuizPayload(
        scene=q.scene,
        poll={
            "question": q.question,
            "options": list(q.options),
            "type": "quiz",
            "correct_option_ids": [q.correct],
            "explanation": q.explanation,
            "is_anonymous": False,
        },
    )
