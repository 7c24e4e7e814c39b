"""Item analysis from real answers: per question and option, how often it was chosen, in
all and among the strongest and weakest members; and the questions HR has yet to review."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, text
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from content.loader import Question
from db.models import QuizAnswer, Setting
from db.queries.content import active_questions

RETIRED = "retired_items"
UPPER, LOWER = 1, 2


@dataclass
class ItemCounts:
    """One question's answers: option -> count, in all and in each group."""

    options: dict[int, int] = field(default_factory=dict)
    upper: dict[int, int] = field(default_factory=dict)
    lower: dict[int, int] = field(default_factory=dict)


def member_accuracy(*, session: Session, minimum: int) -> list[tuple[int, float]]:
    """(member id, share correct) of members with at least `minimum` round answers."""
    answered = func.count()
    right = func.sum(case((col(QuizAnswer.correct), 1), else_=0))
    rows = session.execute(
        select_columns(col(QuizAnswer.member_id), answered, right)
        .where(col(QuizAnswer.practice).is_(False))
        .group_by(col(QuizAnswer.member_id))
        .having(answered >= minimum)
    ).all()
    return [(int(m), int(r or 0) / int(n)) for m, n, r in rows]


def item_counts(*, session: Session, upper: list[int], lower: list[int]) -> dict[str, ItemCounts]:
    """Option counts per question for round answers, split by group. The groups travel in
    a temporary table, not as thousands of parameters."""
    session.execute(
        text("CREATE TEMPORARY TABLE analysis_group (member_id INTEGER PRIMARY KEY, grp INTEGER)")
    )
    try:
        rows = [{"m": m, "g": UPPER} for m in upper] + [{"m": m, "g": LOWER} for m in lower]
        if rows:
            session.execute(text("INSERT INTO analysis_group VALUES (:m, :g)"), rows)
        out: dict[str, ItemCounts] = defaultdict(ItemCounts)
        for question_id, option, group, n in session.execute(
            text(
                "SELECT a.question_id, a.option, g.grp, COUNT(*) FROM quiz_answer a "
                "LEFT JOIN analysis_group g ON g.member_id = a.member_id "
                "WHERE NOT a.practice GROUP BY a.question_id, a.option, g.grp"
            )
        ).all():
            counts = out[str(question_id)]
            counts.options[int(option)] = counts.options.get(int(option), 0) + int(n)
            if group == UPPER:
                counts.upper[int(option)] = int(n)
            elif group == LOWER:
                counts.lower[int(option)] = int(n)
        return dict(out)
    finally:
        session.execute(text("DROP TABLE analysis_group"))


def retired(*, session: Session) -> dict[str, Any]:
    """Question id -> when it was set aside for review."""
    row = session.get(Setting, RETIRED)
    return dict(row.value) if row is not None else {}


def set_retired(*, session: Session, items: dict[str, Any], now: datetime) -> None:
    row = session.get(Setting, RETIRED) or Setting(key=RETIRED)
    row.value = items
    row.updated_at = now
    session.add(row)


def questions_in_play(*, session: Session) -> list[Question]:
    """The active questions less those set aside for HR's review: what rounds and practice
    choose from."""
    aside = retired(session=session)
    return [q for q in active_questions(session=session) if q.id not in aside]
