"""What question choice may use: the soal in play, less the follow-ups of two-step cases.

A follow-up (`then` in content/questions) reads as the next step of a case the member has
just seen, so it is never chosen on its own; it goes out after its first step is answered
(bot/quiz/followups.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from bot.quiz.selection import Candidate
from content.loader import Question
from db.queries import analysis as analysis_db
from db.queries import content as content_db


@dataclass(frozen=True)
class Pool:
    """What question choice may use: the soal in play, by id; the ones it may choose on
    their own; and, for a first step whose follow-up is in play too, that follow-up."""

    bank: dict[str, Question]
    candidates: list[Candidate]
    follow_ups: dict[str, str]


def pool_of(active: Sequence[Question], aside: Collection[str]) -> Pool:
    """Pure: the active soal less those set aside for review (item analysis); a soal an
    active soal names as its follow-up is never a candidate, even when that first step is
    set aside, since its scene continues a case."""
    bank = {q.id: q for q in active if q.id not in aside}
    followers = {q.follow_up for q in active if q.follow_up}
    candidates = [
        Candidate(q.id, q.value, q.difficulty) for q in bank.values() if q.id not in followers
    ]
    follow_ups = {q.id: q.follow_up for q in bank.values() if q.follow_up and q.follow_up in bank}
    return Pool(bank, candidates, follow_ups)


def pool(*, session: Session) -> Pool:
    """The pool as stored now (runs in the database thread)."""
    aside = set(analysis_db.retired(session=session))
    return pool_of(content_db.active_questions(session=session), aside)
