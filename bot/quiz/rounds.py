"""Quiz rounds through the outbox, their polls as sent, and their answer windows.

A quiz round is a broadcast of kind "kuis". Each recipient's delivery carries an intro, then
for every question its scene and a native quiz poll; when the sender records the delivery,
`record_round_polls` stores which poll went to whom in the same transaction.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.calendar import zone_label
from bot.core.deps import Deps
from bot.core.render import Renderer
from bot.delivery.broadcasts import allow_paid
from bot.quiz.answers import round_tallies
from bot.quiz.pool import pool
from bot.quiz.selection import Seen, choose, round_cycles
from bot.quiz.shuffle import option_order, poll_params
from content.loader import Question
from db.models import Broadcast, QuestionBox, QuizPoll, Score
from db.queries import outbox
from db.queries.outbox import DueRow, Recipient
from db.queries.scores import ALL

log = logging.getLogger(__name__)

QUIZ_KIND = "kuis"


def quiz_messages(
    renderer: Renderer,
    lang: str,
    questions: list[Question],
    intro: str | None,
    orders: dict[str, list[int]],
) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if intro:
        messages.append({"method": "sendMessage", "params": {"text": intro, "parse_mode": "HTML"}})
    for q in questions:
        if q.scene:
            text = renderer.text("quiz_scene", lang, scene=q.scene)
            messages.append(
                {"method": "sendMessage", "params": {"text": text, "parse_mode": "HTML"}}
            )
        messages.append({"method": "sendPoll", "params": poll_params(q, orders[q.id])})
    return messages


def _build_round(
    *,
    session: Session,
    recipients: list[Recipient],
    round_id: int,
    day: date,
    count: int,
    seed: str,
    renderer: Renderer,
    intro: dict[str, str],
) -> list[tuple[int | None, int, dict[str, Any]]]:
    """Choose each member's questions and write their delivery payloads (in the db thread:
    thousands of members' histories and renders would stall the event loop)."""
    # Never a follow-up on its own: it comes after its first step is answered.
    play = pool(session=session)
    bank, candidates = play.bank, play.candidates
    ids = [r.member_id for r in recipients]
    seen: dict[int, list[Seen]] = defaultdict(list)
    accuracy: dict[int, tuple[int, int]] = {}
    times_sent: dict[tuple[int, str], int] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for member_id, question_id, n in session.exec(
            select(QuizPoll.member_id, QuizPoll.question_id, func.count())
            .where(col(QuizPoll.member_id).in_(chunk))
            .group_by(col(QuizPoll.member_id), col(QuizPoll.question_id))
        ).all():
            times_sent[(member_id, question_id)] = int(n)
        for box in session.exec(
            select(QuestionBox).where(col(QuestionBox.member_id).in_(chunk))
        ).all():
            seen[box.member_id].append(
                Seen(box.question_id, box.value, box.last_sent, box.box, box.due, box.cycle)
            )
        for score in session.exec(
            select(Score).where(col(Score.member_id).in_(chunk), Score.period == ALL)
        ).all():
            accuracy[score.member_id] = (score.answered, score.correct)
    rows: list[tuple[int | None, int, dict[str, Any]]] = []
    for r in recipients:
        history = seen.get(r.member_id, [])
        answered, correct = accuracy.get(r.member_id, (0, 0))
        picks = choose(
            candidates,
            history,
            today=day,
            count=count,
            seed=f"{seed}:{round_id}:{r.member_id}",
            accuracy=correct / answered if answered else None,
            answered=answered,
        )
        if not picks:
            continue
        chosen = [bank[i] for i in picks]
        orders = {
            q.id: option_order(
                r.member_id, q.id, len(q.options), times_sent.get((r.member_id, q.id), 0)
            )
            for q in chosen
        }
        lang = r.language if r.language in intro else "id"
        rows.append(
            (
                r.member_id,
                r.chat_id,
                {
                    "messages": quiz_messages(renderer, lang, chosen, intro[lang], orders),
                    "quiz": picks,
                    "orders": orders,
                    # First step -> follow-up, planned on the poll when it is recorded.
                    "follow_ups": {p: play.follow_ups[p] for p in picks if p in play.follow_ups},
                    "values": [q.value for q in chosen],
                    "cycles": round_cycles(candidates, history, picks),
                    "day": day.isoformat(),
                },
            )
        )
    return rows


async def send_quiz_round(
    deps: Deps,
    audience: dict[str, Any],
    *,
    day: date,
    questions: int,
    window_minutes: int | None,
    created_by: int | None = None,
) -> tuple[int | None, int]:
    """A round for everyone in the audience; (round id, recipients), (None, 0) for nobody."""
    recipients = await deps.db.run(outbox.audience_members, audience=audience)
    if not recipients:
        return None, 0
    now = deps.clock.now()
    closes_at = now + timedelta(minutes=window_minutes) if window_minutes else None
    info = await deps.db.run(
        outbox.create_broadcast,
        kind=QUIZ_KIND,
        created_by=created_by,
        audience=audience,
        content={
            "day": day.isoformat(),
            "questions": questions,
            "closes_at": closes_at.isoformat() if closes_at else None,
        },
        paid=deps.settings.paid_broadcast,
    )
    tz = audience.get("timezone", deps.settings.default_timezone)
    intro = {
        lang: deps.renderer.text(
            "quiz_round_intro",
            lang,
            count=questions,
            closes_at=closes_at,
            tz=tz,
            tz_label=zone_label(tz),
        )
        for lang in ("id", "en")
    }
    rows = await deps.db.run(
        _build_round,
        recipients=recipients,
        round_id=info.id,
        day=day,
        count=questions,
        seed=deps.settings.quiz_seed,
        renderer=deps.renderer,
        intro=intro,
    )
    for _, _, body in rows:
        allow_paid(body["messages"], on=deps.settings.paid_broadcast)
    count = await deps.db.run(outbox.enqueue, broadcast_id=info.id, rows=rows)
    if deps.sender is not None:
        deps.sender.wake()
    if closes_at is not None and deps.schedule_round_close is not None:
        deps.schedule_round_close(info.id, closes_at)
    log.info("quiz round %s for %s: %d members", info.id, day, count)
    return info.id, count


def record_round_polls(session: Session, sent: list[tuple[DueRow, list[dict[str, Any]]]]) -> None:
    """Sender hook for kind "kuis": which poll went to whom, committed with the send."""
    for row, results in sent:
        if row.member_id is None:
            continue
        polls = [r for r in results if isinstance(r.get("poll"), dict)]
        picks = row.payload.get("quiz", [])
        values = row.payload.get("values", [])
        day = date.fromisoformat(row.payload["day"])
        cycles = row.payload.get("cycles", {})
        # Rows queued before options were shuffled carry no orders: shown in bank order.
        orders = row.payload.get("orders", {})
        follow_ups = row.payload.get("follow_ups", {})
        for index, (message, question_id) in enumerate(zip(polls, picks, strict=False)):
            session.add(
                QuizPoll(
                    poll_id=str(message["poll"]["id"]),
                    member_id=row.member_id,
                    question_id=question_id,
                    round_id=row.broadcast_id,
                    chat_id=row.chat_id,
                    message_id=int(message["message_id"]),
                    practice=False,
                    sent_at=_sent_at(message),
                    shown_order=orders.get(question_id),
                    follow_up=follow_ups.get(question_id),
                )
            )
            note_sent(
                session,
                member_id=row.member_id,
                question_id=question_id,
                value=values[index] if index < len(values) else "",
                day=day,
                cycle=int(cycles.get(question_id, 0)),
            )


def _sent_at(message: dict[str, Any]) -> datetime:
    stamp = message.get("date")
    return datetime.fromtimestamp(int(stamp), UTC) if stamp else datetime.now(UTC)


def note_sent(
    session: Session, *, member_id: int, question_id: str, value: str, day: date, cycle: int
) -> None:
    """The question's box row: when it was last sent and in which pass through the pool."""
    box = session.get(QuestionBox, (member_id, question_id))
    if box is None:
        box = QuestionBox(member_id=member_id, question_id=question_id, value=value, last_sent=day)
    box.last_sent = day
    box.cycle = cycle
    session.add(box)


async def close_round(deps: Deps, round_id: int) -> int:
    """At the end of a round's answer window: a result to each member who answered part of
    it (those who finished got theirs at once; those who answered nothing get nothing)."""
    if not await deps.db.run(_mark_closed, round_id=round_id):
        return 0  # closed before (e.g. just before a restart)
    partial = await deps.db.run(round_tallies, round_id=round_id)
    if not partial:
        return 0
    info = await deps.db.run(
        outbox.create_broadcast,
        kind="hasil",
        created_by=None,
        audience={"type": "members", "member_ids": [m.id for m, _ in partial]},
        content={"round_id": round_id},
    )
    rows = []
    for member, tally in partial:
        text = deps.renderer.text("quiz_result", member.language, tally=tally, closed=True)
        rows.append(
            (
                member.id,
                member.chat_id,
                {
                    "messages": [
                        {"method": "sendMessage", "params": {"text": text, "parse_mode": "HTML"}}
                    ]
                },
            )
        )
    count = await deps.db.run(outbox.enqueue, broadcast_id=info.id, rows=rows)
    if deps.sender is not None:
        deps.sender.wake()
    return count


def _mark_closed(*, session: Session, round_id: int) -> bool:
    round_ = session.get(Broadcast, round_id)
    if round_ is None or round_.content.get("closed"):
        return False
    round_.content = {**round_.content, "closed": True}
    session.add(round_)
    return True


def open_windows(*, session: Session) -> list[tuple[int, datetime]]:
    """Quiz rounds with an answer window whose results have not gone out yet."""
    rounds = session.exec(select(Broadcast).where(Broadcast.kind == QUIZ_KIND)).all()
    return [
        (r.id, datetime.fromisoformat(r.content["closes_at"]))
        for r in rounds
        if r.id is not None and r.content.get("closes_at") and not r.content.get("closed")
    ]
