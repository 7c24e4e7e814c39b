"""Questions and prompts in the database: the bank from content/, and HR's own items."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

from sqlmodel import Session, select

from content.loader import Prompt, Question
from db.models import PromptRow, QuestionRow, utcnow


@dataclass(frozen=True)
class SyncResult:
    added: int
    updated: int
    retired: int


class QuestionValues(TypedDict):
    """A question's stored fields other than its id, source and state."""

    value: str
    guideline: str
    difficulty: int
    kind: str
    scene: str | None
    question: str
    options: list[str]
    correct: int
    explanation: str
    follow_up: str | None


def _values(q: Question) -> QuestionValues:
    return {
        "value": q.value,
        "guideline": q.guideline,
        "difficulty": q.difficulty,
        "kind": q.kind,
        "scene": q.scene,
        "question": q.question,
        "options": list(q.options),
        "correct": q.correct,
        "explanation": q.explanation,
        "follow_up": q.follow_up,
    }


def _upsert(session: Session, items: Sequence[Question], source: str) -> tuple[int, int]:
    existing = {r.id: r for r in session.exec(select(QuestionRow)).all()}
    added = updated = 0
    now = utcnow()
    for q in items:
        row = existing.get(q.id)
        values = _values(q)
        if row is None:
            session.add(QuestionRow(id=q.id, source=source, **values))
            added += 1
        elif any(getattr(row, k) != v for k, v in values.items()) or not row.active:
            for key, value in values.items():
                setattr(row, key, value)
            row.active = True
            row.updated_at = now
            updated += 1
    return added, updated


def sync_bank(
    *, session: Session, questions: Sequence[Question], prompts: Sequence[Prompt]
) -> SyncResult:
    """Make the database match content/: add and update by id, retire what left the files.

    HR's imported items (source "hr") are never touched here.
    """
    added, updated = _upsert(session, questions, "bank")
    listed = {q.id for q in questions}
    retired = 0
    for row in session.exec(select(QuestionRow).where(QuestionRow.source == "bank")).all():
        if row.id not in listed and row.active:
            row.active = False
            row.updated_at = utcnow()
            retired += 1
    prompt_rows = {p.id: p for p in session.exec(select(PromptRow)).all()}
    for p in prompts:
        prompt = prompt_rows.get(p.id)
        if prompt is None:
            session.add(PromptRow(id=p.id, value=p.value, guideline=p.guideline, text=p.text))
        elif (prompt.value, prompt.guideline, prompt.text, prompt.active) != (
            p.value,
            p.guideline,
            p.text,
            True,
        ):
            prompt.value, prompt.guideline, prompt.text = p.value, p.guideline, p.text
            prompt.active = True
            prompt.updated_at = utcnow()
    listed_prompts = {p.id for p in prompts}
    for prompt in prompt_rows.values():
        if prompt.id not in listed_prompts and prompt.active:
            prompt.active = False
    return SyncResult(added, updated, retired)


def import_questions(*, session: Session, questions: Sequence[Question]) -> SyncResult:
    """HR's spreadsheet: add or update by id in one transaction."""
    added, updated = _upsert(session, questions, "hr")
    return SyncResult(added, updated, 0)


def bank_ids(*, session: Session) -> dict[str, str]:
    """Every id in use, with its source, so an import can refuse to overwrite the bank."""
    return {r.id: r.source for r in session.exec(select(QuestionRow)).all()}


def next_hr_numbers(*, session: Session) -> dict[str, int]:
    """The highest `<VALUE>-H<n>` number per value, for numbering new HR items."""
    highest: dict[str, int] = {}
    for qid in session.exec(select(QuestionRow.id)).all():
        match = re.fullmatch(r"([A-Z]{2})-H(\d+)", qid)
        if match:
            highest[match[1]] = max(highest.get(match[1], 0), int(match[2]))
    return highest


def active_questions(*, session: Session) -> list[Question]:
    rows = session.exec(
        select(QuestionRow).where(QuestionRow.active).order_by(QuestionRow.id)
    ).all()
    return [question_of(r) for r in rows]


def question_of(r: QuestionRow) -> Question:
    return Question(
        id=r.id,
        value=r.value,
        guideline=r.guideline,
        difficulty=r.difficulty,
        kind=r.kind,
        question=r.question,
        options=tuple(r.options),
        correct=r.correct,
        explanation=r.explanation,
        scene=r.scene,
        source=r.source,
        follow_up=r.follow_up,
    )


def question_links(*, session: Session) -> dict[str, str | None]:
    """Every active soal's follow-up (or None), to check a spreadsheet's links against."""
    return {
        qid: follow_up
        for qid, follow_up in session.exec(
            select(QuestionRow.id, QuestionRow.follow_up).where(QuestionRow.active)
        ).all()
    }
