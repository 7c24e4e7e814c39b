"""/kuis: a practice question at any time, chosen as a round would choose one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from bot.quiz.pool import pool
from bot.quiz.rounds import note_sent
from bot.quiz.selection import Seen, choose, round_cycles
from bot.quiz.shuffle import option_order
from content.loader import Question
from db.engine import Database
from db.queries import quiz as quiz_db


@dataclass(frozen=True)
class PracticePick:
    question: Question
    cycle: int  # the member's pass through the pool this question belongs to
    order: list[int]  # the options as this member sees them this time (bot/quiz/shuffle.py)
    # A first step's follow-up, sent once this is answered (bot/quiz/followups.py).
    follow_up: str | None = None


def _pick(*, session: Session, member_id: int, today: date, seed: str) -> PracticePick | None:
    # Never a follow-up on its own: it comes after its first step is answered.
    play = pool(session=session)
    bank, candidates = play.bank, play.candidates
    boxes = quiz_db.question_boxes(session=session, member_id=member_id)
    seen = [Seen(b.question_id, b.value, b.last_sent, b.box, b.due, b.cycle) for b in boxes]
    picks = choose(candidates, seen, today=today, count=1, seed=seed)
    if not picks:
        return None
    question = bank[picks[0]]
    sent = quiz_db.times_sent(session=session, member_id=member_id, question_id=question.id)
    order = option_order(member_id, question.id, len(question.options), sent)
    cycle = round_cycles(candidates, seen, picks)[picks[0]]
    return PracticePick(question, cycle, order, play.follow_ups.get(question.id))


async def pick(db: Database, *, member_id: int, today: date, seed: str) -> PracticePick | None:
    """The question to practise now, or None when the bank is empty."""
    return await db.run(_pick, member_id=member_id, today=today, seed=seed)


def _sent(
    *,
    session: Session,
    poll_id: str,
    member_id: int,
    question: Question,
    chat_id: int,
    message_id: int,
    day: date,
    cycle: int,
    order: list[int],
    follow_up: str | None,
) -> None:
    quiz_db.record_poll(
        session=session,
        poll_id=poll_id,
        member_id=member_id,
        question_id=question.id,
        chat_id=chat_id,
        message_id=message_id,
        practice=True,
        shown_order=order,
        follow_up=follow_up,
    )
    note_sent(
        session,
        member_id=member_id,
        question_id=question.id,
        value=question.value,
        day=day,
        cycle=cycle,
    )


async def note_practice_sent(
    db: Database,
    *,
    poll_id: str,
    member_id: int,
    pick: PracticePick,
    chat_id: int,
    message_id: int,
    day: date,
) -> None:
    """Remember the practice poll (so its answer is scored) and that the question was seen."""
    await db.run(
        _sent,
        poll_id=poll_id,
        member_id=member_id,
        question=pick.question,
        chat_id=chat_id,
        message_id=message_id,
        day=day,
        cycle=pick.cycle,
        order=pick.order,
        follow_up=pick.follow_up,
    )
