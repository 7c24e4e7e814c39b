"""Recording quiz answers: the first vote of each poll we sent, at once and nothing more.

A round reaches thousands of members and they answer within seconds, so this is the hot
path. It writes only the answer row, which is the record; the points, the day's
activity, the streak bonus and the Leitner box follow moments later in a batch of their
own (`bot.scores.scorekeeping`), from the rows written here.

These functions take the caller's session (they run inside `Database.run`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, String, any_, bindparam, case, func
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from bot.quiz.shuffle import in_bank_terms
from bot.scores.scoring import PointRules, answer_points
from db import bulk
from db.models import Broadcast, Member, QuestionRow, QuizAnswer, QuizPoll, table_of, utcnow


class AnswerResult(StrEnum):
    RECORDED = "recorded"
    FORGED = "forged"  # an option the poll never had
    DUPLICATE = "duplicate"
    UNKNOWN_POLL = "unknown_poll"
    WRONG_USER = "wrong_user"
    CLOSED = "closed"
    FAILED = "failed"  # the database refused it (logged with the reason)


@dataclass(frozen=True)
class RoundTally:
    round_id: int
    total: int
    answered: int
    correct: int
    points: int


class Recorded(NamedTuple):
    # A tuple, not a dataclass: one is made per vote, thousands within seconds.
    result: AnswerResult
    correct: bool | None = None
    # The answer's own points; a streak bonus is added when it is scored.
    points: int = 0
    member_id: int | None = None
    chat_id: int | None = None
    language: str = "id"
    # Set when this answer completed the member's round.
    round_done: RoundTally | None = None
    # A first step of a two-step case, newly answered: the follow-up question to send now
    # (bot/quiz/followups.py). Never set for a duplicate, so it goes out once.
    follow_up: str | None = None


class Answer(NamedTuple):
    """A vote as the handler received it; the first option is the answer."""

    poll_id: str
    telegram_user_id: int
    option: int
    now: datetime


def record_answer(
    *,
    session: Session,
    poll_id: str,
    telegram_user_id: int,
    option: int,
    now: datetime,
    rules: PointRules,
) -> Recorded:
    """One answer: `record_answers` with a single vote."""
    [recorded] = record_answers(
        session=session, answers=[Answer(poll_id, telegram_user_id, option, now)], rules=rules
    )
    return recorded


@cache
def _polls_read(postgres: bool) -> Select[*tuple[Any, ...]]:
    """Everything a batch needs to know about its polls, in one joined read; built once, as
    building it for every batch costs a good part of what running it does. PostgreSQL
    takes the poll ids as one array: an IN list of hundreds of parameters costs psycopg
    more to prepare than the server to run."""
    match = (
        col(QuizPoll.poll_id) == any_(bindparam("poll_ids", type_=postgresql.ARRAY(String)))
        if postgres
        else col(QuizPoll.poll_id).in_(bindparam("poll_ids", expanding=True))
    )
    # SQLAlchemy's own select: SQLModel's is typed for four columns at most.
    return (
        select_columns(
            col(QuizPoll.poll_id),
            col(QuizPoll.member_id),
            col(QuizPoll.question_id),
            col(QuizPoll.practice),
            col(QuizPoll.round_id),
            col(QuizPoll.sent_at),
            col(QuizPoll.shown_order),
            col(QuizPoll.follow_up),
            col(Member.id).label("member_found"),
            col(Member.telegram_user_id),
            col(Member.chat_id),
            col(Member.language),
            col(Member.deleted_at),
            col(QuestionRow.value),
            col(QuestionRow.correct),
            col(QuizAnswer.id).label("answer_found"),
            col(QuizAnswer.option).label("answer_option"),
        )
        .select_from(QuizPoll)
        .outerjoin(Member, col(Member.id) == QuizPoll.member_id)
        .outerjoin(QuestionRow, col(QuestionRow.id) == QuizPoll.question_id)
        .outerjoin(QuizAnswer, col(QuizAnswer.poll_id) == QuizPoll.poll_id)
        .where(match)
    )


def record_answers(
    *, session: Session, answers: Sequence[Answer], rules: PointRules, again: bool = False
) -> list[Recorded]:
    """Record votes in one transaction, each with the outcome it would have had alone, one
    after another in this order: the first vote of a poll counts, and a round's tally
    grows with each answer (the one that completes it carries the member's result).

    A fixed handful of reads and one insert per batch, instead of statements per answer,
    is what keeps recording close to the rate Telegram delivers the answers.

    `again`: an earlier try of these same answers lost its connection, and its commit may
    have gone through. A poll already answered with the same option is then this vote,
    stored by that try: it counts as recorded (once), so the member still gets their
    result, and nothing is written twice.
    """
    if not answers:
        return []
    conn = session.connection()
    read = _polls_read(conn.dialect.name == "postgresql")
    found = conn.execute(read, {"poll_ids": list({a.poll_id for a in answers})}).all()
    polls = {row.poll_id: row for row in found}
    answered = {row.poll_id for row in found if row.answer_found is not None}
    stored = {row.poll_id: row.answer_option for row in found if row.answer_found is not None}
    # (round, member) pairs whose result this batch already carries.
    reported: set[tuple[int, int]] = set()
    closes = _round_closes(conn, {row.round_id for row in found if row.round_id is not None})
    tallies = _tallies(conn, {(p.round_id, p.member_id) for p in found if p.round_id is not None})
    rows: list[dict[str, Any]] = []
    results = []
    written = utcnow()  # real time, for how long the member took
    for vote in answers:
        poll = polls.get(vote.poll_id)
        if poll is None:
            results.append(Recorded(AnswerResult.UNKNOWN_POLL))
            continue
        # The member chose a shown position; it is stored and scored as the bank's option.
        option = in_bank_terms(poll.shown_order, vote.option)
        if option is None:
            results.append(Recorded(AnswerResult.FORGED))
            continue
        answer = vote._replace(option=option)
        if (
            poll.member_found is None
            or poll.telegram_user_id != answer.telegram_user_id
            or poll.deleted_at
        ):
            results.append(Recorded(AnswerResult.WRONG_USER))
            continue
        base: dict[str, Any] = {
            "member_id": poll.member_id,
            "chat_id": poll.chat_id,
            "language": poll.language,
        }
        if again and stored.get(answer.poll_id) == answer.option:
            del stored[answer.poll_id]  # a second vote on it in this batch is a duplicate
            results.append(_stored_before(poll, answer, rules, tallies, reported, base))
            continue
        if answer.poll_id in answered:
            results.append(Recorded(AnswerResult.DUPLICATE, **base))
            continue
        closes_at = closes.get(poll.round_id)
        if closes_at is not None and answer.now > closes_at:
            results.append(Recorded(AnswerResult.CLOSED, **base))
            continue
        correct = answer.option == poll.correct
        points = answer_points(rules, correct=correct, practice=poll.practice)
        answered.add(answer.poll_id)
        rows.append(
            {
                "poll_id": answer.poll_id,
                "member_id": poll.member_id,
                "question_id": poll.question_id,
                "value": poll.value,
                "option": answer.option,
                "correct": correct,
                "seconds": max(0, int((written - poll.sent_at).total_seconds())),
                "practice": poll.practice,
                "round_id": poll.round_id,
                "points": points,
                "answered_at": answer.now,
                "scored": False,
            }
        )
        done = None
        if poll.round_id is not None:
            tally = tallies[(poll.round_id, poll.member_id)]
            # An answered first step brings its follow-up into the round (see _tallies).
            tally[0] += int(poll.follow_up is not None)
            tally[1:] = [tally[1] + 1, tally[2] + int(correct), tally[3] + points]
            if tally[1] == tally[0]:
                done = RoundTally(poll.round_id, *tally)
                reported.add((poll.round_id, poll.member_id))
        results.append(
            Recorded(
                AnswerResult.RECORDED,
                correct,
                points,
                round_done=done,
                follow_up=poll.follow_up,
                **base,
            )
        )
    bulk.bulk_insert(session, table_of(QuizAnswer), rows)
    return results


def _stored_before(
    poll: Any,
    answer: Answer,
    rules: PointRules,
    tallies: dict[tuple[int, int], list[int]],
    reported: set[tuple[int, int]],
    base: dict[str, Any],
) -> Recorded:
    """A vote an earlier try already stored: recorded, and it carries the member's result
    if their round is complete (the stored tally counts it already) and not yet reported."""
    correct = answer.option == poll.correct
    points = answer_points(rules, correct=correct, practice=poll.practice)
    done = None
    if poll.round_id is not None:
        pair = (poll.round_id, poll.member_id)
        tally = tallies[pair]
        if tally[1] == tally[0] and pair not in reported:
            reported.add(pair)
            done = RoundTally(poll.round_id, *tally)
    # The earlier try's follow-up was never sent: it failed before anyone learnt the result.
    return Recorded(
        AnswerResult.RECORDED,
        correct,
        points,
        round_done=done,
        follow_up=poll.follow_up,
        **base,
    )


def _round_closes(conn: Connection, round_ids: set[int]) -> dict[int, datetime]:
    """When each round's answer window closes (rounds without a window are left out)."""
    if not round_ids:
        return {}
    out = {}
    for round_id, content in conn.execute(
        select(Broadcast.id, Broadcast.content).where(col(Broadcast.id).in_(round_ids))
    ):
        closes = (content or {}).get("closes_at")
        if closes:
            out[round_id] = datetime.fromisoformat(closes)
    return out


def _tallies(conn: Connection, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """Per round and member: [polls, answered, correct, points] before this batch.

    A follow-up (two-step case) is part of the round once its first step is answered: it
    counts from then on, before it has been sent, so the member's result waits for its
    answer; a follow-up that could not be sent has its plan cleared and counts no more.
    """
    if not pairs:
        return {}
    rounds, members = {r for r, _ in pairs}, {m for _, m in pairs}
    tallies = {pair: [0, 0, 0, 0] for pair in pairs}
    for round_id, member_id, total in conn.execute(
        select(QuizPoll.round_id, QuizPoll.member_id, func.count())
        .where(
            col(QuizPoll.round_id).in_(rounds),
            col(QuizPoll.member_id).in_(members),
            col(QuizPoll.follows).is_(None),
        )
        .group_by(col(QuizPoll.round_id), col(QuizPoll.member_id))
    ):
        if (round_id, member_id) in tallies:
            tallies[(round_id, member_id)][0] = total
    for round_id, member_id, answered, correct, points, follow_ups in conn.execute(
        select_columns(
            col(QuizAnswer.round_id),
            col(QuizAnswer.member_id),
            func.count(),
            func.coalesce(func.sum(case((col(QuizAnswer.correct), 1), else_=0)), 0),
            func.coalesce(func.sum(QuizAnswer.points), 0),
            func.coalesce(func.sum(case((col(QuizPoll.follow_up).is_not(None), 1), else_=0)), 0),
        )
        .select_from(QuizAnswer)
        .outerjoin(QuizPoll, col(QuizPoll.poll_id) == QuizAnswer.poll_id)
        .where(col(QuizAnswer.round_id).in_(rounds), col(QuizAnswer.member_id).in_(members))
        .group_by(col(QuizAnswer.round_id), col(QuizAnswer.member_id))
    ):
        if (round_id, member_id) in tallies:
            tally = tallies[(round_id, member_id)]
            tally[0] += int(follow_ups)
            tally[1:] = [answered, int(correct), int(points)]
    return tallies


def round_tally(*, session: Session, round_id: int, member_id: int) -> RoundTally:
    """One member's tally of one round as stored now."""
    tally = _tallies(session.connection(), {(round_id, member_id)})[(round_id, member_id)]
    return RoundTally(round_id, *tally)


def round_tallies(*, session: Session, round_id: int) -> list[tuple[Member, RoundTally]]:
    """Members of a round who answered some but not all of it (for the result at closing):
    a few statements for the whole round, however many members answered."""
    member_ids = session.exec(
        select(QuizAnswer.member_id).where(QuizAnswer.round_id == round_id).distinct()
    ).all()
    tallies = _tallies(session.connection(), {(round_id, m) for m in member_ids})
    members = session.exec(
        select(Member).where(col(Member.id).in_(member_ids), col(Member.deleted_at).is_(None))
    ).all()
    out = []
    for member in members:
        assert member.id is not None  # a stored row has its id
        tally = RoundTally(round_id, *tallies[(round_id, member.id)])
        if tally.answered < tally.total:
            out.append((member, tally))
    return out
