"""Two-step cases: a scene and its soal, then a follow-up soal that continues the case.

A soal may name a follow-up (`then` in content/questions, `question.follow_up`). The
follow-up is never chosen on its own, by rounds or by /kuis (`bot/quiz/pool.py`): it reads
as the next step of a case the member has just seen. When a member answers the first step, and only
when that answer is newly recorded (a duplicate vote sends nothing), the follow-up goes to
their private chat at once: a short intro that says the case continues, with its scene,
then its own quiz poll with the member's own option order. It is recorded as a `QuizPoll`
like any other, with the first step's practice flag and round, so points, Leitner boxes,
the boards and item analysis count it as an ordinary answer.

A follow-up owed but not sent (the bot stopped, or the database failed, between the first
step's answer and the follow-up) is sent by `resume`, at start-up and every few minutes,
for answers of the last day. A follow-up written to Telegram just before a kill, and not
yet recorded, would then go a second time: a second poll of the same case is a smaller
harm than a round whose result never comes.

In a round the follow-up is part of the round from the moment its first step is answered
(`bot/quiz/answers._tallies`): the member's result ("4 dari 4 benar") comes after the
follow-up's answer. The plan is kept on the first step's poll (`quiz_poll.follow_up`);
a follow-up that cannot be sent (retired since, or Telegram refused it) has its plan
cleared, is logged, and no longer counts.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from telegram import Bot, InputPollOption
from telegram.error import TelegramError

from bot.core.deps import Deps
from bot.members import accounts
from bot.quiz.answers import RoundTally, round_tally
from bot.quiz.poll import quiz_payload
from bot.quiz.rounds import note_sent
from bot.quiz.shuffle import option_order
from content.loader import Question
from db.models import Broadcast, Member, QuestionBox, QuestionRow, QuizAnswer, QuizPoll
from db.queries import content as content_db
from db.queries import quiz as quiz_db

log = logging.getLogger(__name__)

# Follow-ups owed for answers this recent are sent by `resume`; older ones are let go.
RESUME_WITHIN = timedelta(days=1)
# An answer younger than this is still in the hands of the path that recorded it.
RESUME_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class Plan:
    """A follow-up to send now, for the first step's poll `first_poll`."""

    first_poll: str
    member_id: int
    chat_id: int
    language: str
    question: Question
    order: list[int]
    practice: bool
    round_id: int | None
    cycle: int


@dataclass(frozen=True)
class Dropped:
    """The planned follow-up cannot go out; `result` is the member's round result when the
    round is complete without it."""

    result: RoundTally | None


def _plan(*, session: Session, poll_id: str) -> Plan | Dropped | None:
    """The follow-up due after this poll's answer; None when there is none or it went out
    already. A follow-up retired since the round was built is dropped here."""
    first = session.get(QuizPoll, poll_id)
    if first is None or first.follow_up is None:
        return None
    sent = session.exec(select(QuizPoll.poll_id).where(col(QuizPoll.follows) == poll_id)).first()
    if sent is not None:
        return None
    row = session.get(QuestionRow, first.follow_up)
    member = session.get(Member, first.member_id)
    if row is None or not row.active or member is None or member.deleted_at is not None:
        log.info("a follow-up question is no longer available; not sent")
        return Dropped(_clear(session, first))
    question = content_db.question_of(row)
    box = session.get(QuestionBox, (first.member_id, first.question_id))
    times = quiz_db.times_sent(session=session, member_id=first.member_id, question_id=row.id)
    return Plan(
        first_poll=poll_id,
        member_id=first.member_id,
        chat_id=member.chat_id,
        language=member.language,
        question=question,
        order=option_order(first.member_id, row.id, len(question.options), times),
        practice=first.practice,
        round_id=first.round_id,
        cycle=box.cycle if box is not None else 0,
    )


def _record(
    *, session: Session, plan: Plan, poll_id: str, chat_id: int, message_id: int, day: date
) -> None:
    quiz_db.record_poll(
        session=session,
        poll_id=poll_id,
        member_id=plan.member_id,
        question_id=plan.question.id,
        chat_id=chat_id,
        message_id=message_id,
        practice=plan.practice,
        shown_order=plan.order,
        round_id=plan.round_id,
        follows=plan.first_poll,
    )
    note_sent(
        session,
        member_id=plan.member_id,
        question_id=plan.question.id,
        value=plan.question.value,
        day=day,
        cycle=plan.cycle,
    )


def _clear(session: Session, first: QuizPoll) -> RoundTally | None:
    """Clear a plan that cannot be carried out; the member's round result if that
    completes the round."""
    first.follow_up = None
    session.add(first)
    session.flush()
    if first.round_id is None:
        return None
    round_ = session.get(Broadcast, first.round_id)
    if round_ is None or round_.content.get("closed"):
        return None  # the closing result went out already
    tally = round_tally(session=session, round_id=first.round_id, member_id=first.member_id)
    return tally if tally.total and tally.answered == tally.total else None


def _drop(*, session: Session, poll_id: str) -> RoundTally | None:
    first = session.get(QuizPoll, poll_id)
    return _clear(session, first) if first is not None else None


@dataclass(frozen=True)
class Owed:
    """A first step answered whose follow-up never went out."""

    poll_id: str
    chat_id: int
    language: str


def _owed(*, session: Session, since: datetime, until: datetime) -> list[Owed]:
    sent = aliased(QuizPoll)
    rows = session.exec(
        select(QuizPoll.poll_id, Member.chat_id, Member.language)
        .join(QuizAnswer, col(QuizAnswer.poll_id) == QuizPoll.poll_id)
        .join(Member, col(Member.id) == QuizPoll.member_id)
        .outerjoin(sent, col(sent.follows) == QuizPoll.poll_id)
        .where(
            col(QuizPoll.follow_up).is_not(None),
            col(sent.poll_id).is_(None),
            col(QuizAnswer.answered_at) >= since,
            col(QuizAnswer.answered_at) < until,
            col(Member.deleted_at).is_(None),
        )
    ).all()
    return [Owed(poll_id, chat_id, language) for poll_id, chat_id, language in rows]


async def resume(deps: Deps, bot: Bot) -> int:
    """Send the follow-ups owed for recent answers; how many went out (or were settled)."""
    now = deps.clock.now()
    owed = await deps.db.run(_owed, since=now - RESUME_WITHIN, until=now - RESUME_AFTER)
    for item in owed:
        if item.poll_id in deps.follow_ups_sending:
            continue
        due = await send_follow_up(deps, bot, poll_id=item.poll_id)
        if due is not None:
            text = deps.renderer.text("quiz_result", item.language, tally=due, closed=False)
            try:
                await bot.send_message(item.chat_id, text, parse_mode="HTML")
            except TelegramError as exc:
                log.info("a round result could not be sent: %s", type(exc).__name__)
    if owed:
        log.warning("%d follow-up questions owed since a stop or a failure were settled", len(owed))
    return len(owed)


async def send_follow_up(deps: Deps, bot: Bot, *, poll_id: str) -> RoundTally | None:
    """Send the follow-up planned on this (just answered) poll, if any, and record it.

    Returns the member's round result when the follow-up could not be sent and the round
    is complete without it (the caller sends it); None otherwise. A Telegram error is
    logged, never raised.
    """
    if poll_id in deps.follow_ups_sending:
        return None  # the other caller sends it
    deps.follow_ups_sending.add(poll_id)
    try:
        return await _send(deps, bot, poll_id)
    finally:
        deps.follow_ups_sending.discard(poll_id)


async def _send(deps: Deps, bot: Bot, poll_id: str) -> RoundTally | None:
    plan = await deps.db.run(_plan, poll_id=poll_id)
    if plan is None or isinstance(plan, Dropped):
        return plan.result if plan is not None else None
    tz = await accounts.zone(deps.db, member_id=plan.member_id)
    day = deps.clock.today(tz)
    payload = quiz_payload(plan.question, plan.order)
    intro = deps.renderer.text("quiz_follow_up", plan.language, scene=plan.question.scene)
    # A quick vote on the follow-up waits for its record instead of being taken for a vote
    # on an unknown poll (handlers/quiz.py looks these up by chat).
    recording = deps.practice_sending[plan.chat_id] = asyncio.Event()
    try:
        try:
            await bot.send_message(plan.chat_id, intro, parse_mode="HTML")
            poll = dict(payload.poll)
            options = [InputPollOption(text, text_parse_mode=None) for text in poll.pop("options")]
            message = await bot.send_poll(
                plan.chat_id,
                options=options,
                question_parse_mode=None,
                explanation_parse_mode=None,
                **poll,
            )
        except TelegramError as exc:
            log.warning("a follow-up question could not be sent: %s", type(exc).__name__)
            return await deps.db.run(_drop, poll_id=poll_id)
        assert message.poll is not None
        await deps.db.run(
            _record,
            plan=plan,
            poll_id=message.poll.id,
            chat_id=message.chat_id,
            message_id=message.message_id,
            day=day,
        )
        return None
    finally:
        recording.set()
        if deps.practice_sending.get(plan.chat_id) is recording:
            del deps.practice_sending[plan.chat_id]
