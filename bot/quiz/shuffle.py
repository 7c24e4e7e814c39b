"""Options in a different order for each member, so that a question that comes back is not
answered by remembering a letter.

The order is deterministic (seeded by the member and the question) and turns by one place
each time the same member gets the same question again, so the key never sits at the same
letter twice in a row for them. The order is stored with the poll; answers are mapped back
and scored against the key in the file, so scores, Leitner boxes and item statistics count
in the bank's own terms."""

from __future__ import annotations

import random
from typing import Any

from content.loader import Question

# Not a secret: the order only has to differ between members and questions, and be the same
# in rounds and in practice so that it turns from one to the next.
SEED = "berakhlak-options"


def option_order(member_id: int, question_id: str, n: int, times_sent: int) -> list[int]:
    """Shown position -> the option's index in the bank."""
    base = list(range(n))
    random.Random(f"{SEED}:{member_id}:{question_id}").shuffle(base)
    turn = times_sent % n
    return base[turn:] + base[:turn]


def shown(q: Question, order: list[int]) -> tuple[list[str], int]:
    """The options as the member sees them, and the key's shown position."""
    return [q.options[i] for i in order], order.index(q.correct)


def poll_params(q: Question, order: list[int]) -> dict[str, Any]:
    """`sendPoll` parameters. Quiz texts are plain (no parse mode anywhere), so "<" and "&"
    from HR's spreadsheet stay literal."""
    options, key = shown(q, order)
    return {
        "question": q.question,
        "options": [{"text": text} for text in options],
        "type": "quiz",
        "correct_option_ids": [key],
        "explanation": q.explanation,
        "is_anonymous": False,
    }


def in_bank_terms(order: list[int] | None, option: int) -> int | None:
    """The bank's index of the option a member chose; None when the poll had no such option
    (a forged vote). Polls sent before options were shuffled carry no order."""
    if order is None:
        return option
    return order[option] if 0 <= option < len(order) else None
