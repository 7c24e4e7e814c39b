"""Bench: N members answer a quiz poll within seconds through the sandbox. Answers durably
recorded per second by our application on SQLite and on PostgreSQL, against a bare PTB
application whose only handler is an empty PollAnswerHandler on the same sandbox (the
framework's ceiling). Target: at least 0.8 of the ceiling, with every answer in the table.

    python -m bench.quiz_answers [MEMBERS] [TRIALS]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import insert, text
from sqlmodel import Session
from telegram import Bot, InputPollOption, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, PollAnswerHandler
from telegram.request import HTTPXRequest

from bench.common import (
    FIRST_USER_ID,
    PG_URL,
    add_members,
    emit,
    fresh_database,
    now,
    postgres_available,
    sandbox_process,
    settings_for,
)
from bench.sandbox_proc import TOKEN
from bot.app import startup
from bot.app.wiring import build_application, polling
from content.loader import Question, shipped_content
from db.engine import Database
from db.models import QuestionBox, QuizPoll
from db.queries.content import sync_bank
from db.queries.programme import ensure_defaults, set_paused

IN_FLIGHT = 16
POLL_EVERY = 0.01  # seconds between two counts of the answer table: the finish is seen this late
# No new row for this long after every answer was cast: the rest are not coming.
STALL = 15.0


@dataclass(frozen=True)
class Sent:
    chat_id: int
    message_id: int
    poll_id: str


def bank_question() -> Question:
    """A real question of the shipped bank (the first without a scene: one message each)."""
    questions = shipped_content().questions
    return next((q for q in questions if not q.scene), questions[0])


async def send_polls(port: int, members: int, question: Question) -> list[Sent]:
    """One quiz poll to each simulated user, as a paid broadcast would send them; the
    updates the users' /start left queued are dropped so only the answers reach the bot."""
    request = HTTPXRequest(connection_pool_size=IN_FLIGHT + 4)
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=request)
    await bot.initialize()
    slots = asyncio.Semaphore(IN_FLIGHT)
    options = [InputPollOption(option, text_parse_mode=None) for option in question.options]

    async def one(chat_id: int) -> Sent:
        async with slots:
            message = await bot.send_poll(
                chat_id,
                question.question,
                options,
                type="quiz",
                is_anonymous=False,
                correct_option_ids=[question.correct],
                explanation=question.explanation,
                # Quiz texts are plain, as `bot.quiz.message.send_quiz` sends them.
                question_parse_mode=None,
                explanation_parse_mode=None,
                allow_paid_broadcast=True,
            )
        assert message.poll is not None
        return Sent(message.chat_id, message.message_id, message.poll.id)

    sent = await asyncio.gather(*(one(FIRST_USER_ID + i) for i in range(members)))
    await bot.delete_webhook(drop_pending_updates=True)
    await bot.shutdown()
    return list(sent)


async def answer_all(port: int, option: int) -> int:
    """Every user answers the poll; returns once all answers were cast (the sandbox serves
    getUpdates in between, so the bot sees them while they arrive)."""
    async with httpx.AsyncClient(timeout=600) as client:
        response = await client.post(
            f"http://127.0.0.1:{port + 1}/answer_all", json={"option": option}
        )
        response.raise_for_status()
        return int(response.json()["answered"])


async def ceiling(members: int, question: Question) -> float:
    """A bare PTB application: an empty PollAnswerHandler, polled like ours is polled."""
    with sandbox_process(members, limits=False) as port:
        await send_polls(port, members, question)
        handled = 0
        done = asyncio.Event()

        async def on_answer(_update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
            nonlocal handled
            handled += 1
            if handled >= members:
                done.set()

        app: Application = (  # type: ignore[type-arg]
            ApplicationBuilder().token(TOKEN).base_url(f"http://127.0.0.1:{port}/bot").build()
        )
        app.add_handler(PollAnswerHandler(on_answer))
        async with polling(app):
            started = now()
            casting = asyncio.create_task(answer_all(port, question.correct))
            await asyncio.wait_for(done.wait(), timeout=600)
            elapsed = now() - started
            cast = await casting
        if cast != members:
            raise RuntimeError(f"the sandbox cast {cast} answers, not {members}")
    return members / elapsed


def prepare(db: Database, members: int, sent: list[Sent], question: Question) -> None:
    """Members, the bank, a paused programme (no scheduled send interferes) and the
    polls as the round's sender would have recorded them (poll and Leitner box rows)."""
    add_members(db, members)
    content = shipped_content()
    today = date.today()
    stamp = datetime.now(UTC)

    def setup(*, session: Session) -> None:
        sync_bank(session=session, questions=content.questions, prompts=content.prompts)
        ensure_defaults(session=session)
        set_paused(session=session, on=True, by=None)

    db.run_sync(setup)
    with db.engine.begin() as conn:
        ids = dict(conn.execute(text("SELECT chat_id, id FROM member")).all())
        conn.execute(
            insert(QuizPoll),
            [
                {
                    "poll_id": s.poll_id,
                    "member_id": ids[s.chat_id],
                    "question_id": question.id,
                    "chat_id": s.chat_id,
                    "message_id": s.message_id,
                    "practice": False,
                    "sent_at": stamp,
                }
                for s in sent
            ],
        )
        conn.execute(
            insert(QuestionBox),
            [
                {
                    "member_id": ids[s.chat_id],
                    "question_id": question.id,
                    "value": question.value,
                    "box": 0,
                    "cycle": 0,
                    "last_sent": today,
                }
                for s in sent
            ],
        )


def count_answers(db: Database, where: str = "true") -> int:
    with db.engine.connect() as conn:
        sql = f"SELECT count(*) FROM quiz_answer WHERE {where}"
        return int(conn.execute(text(sql)).scalar_one())


async def wait_for_scores(db: Database, rows: int) -> None:
    """Until the scorekeeper has scored every recorded answer (it starts a moment after
    the answers stop coming: bot/quiz/recording.py), or STALL seconds."""
    started = now()
    while await asyncio.to_thread(count_answers, db, "scored") < rows:
        if now() - started > STALL:
            return
        await asyncio.sleep(POLL_EVERY)


def last_answer_id(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM quiz_answer")).scalar())


async def wait_for_rows(
    db: Database, members: int, casting: asyncio.Task[int]
) -> tuple[int, float]:
    """Watch the table every POLL_EVERY seconds until it holds every answer, or nothing
    more arrives for STALL seconds after the last answer was cast. Returns the rows and
    when the last of them was seen (so a stall does not count as recording time).

    While the answers come, the watch reads the highest id: one index probe, where a
    count every 10 ms would take a share of the machine from the bot it measures. Ids
    grow with each commit; once the highest reaches the number of members, the rows are
    counted.
    """
    last, last_change = 0, now()
    while True:
        rows = await asyncio.to_thread(last_answer_id, db)
        if rows >= members:
            rows = await asyncio.to_thread(count_answers, db)
        if rows != last:
            last, last_change = rows, now()
        if rows >= members or (casting.done() and now() - last_change > STALL):
            return await asyncio.to_thread(count_answers, db), last_change
        await asyncio.sleep(POLL_EVERY)


@dataclass(frozen=True)
class Outcome:
    per_s: float
    rows: int
    distinct_polls: int
    scored: int  # answers counted in the members' all-time scores
    scored_after: float  # seconds from the last answer recorded to the last one scored


async def ours(members: int, url: str, question: Question) -> Outcome:
    with sandbox_process(members, limits=False) as port:
        sent = await send_polls(port, members, question)
        db = fresh_database(url)
        prepare(db, members, sent, question)
        prepared = await asyncio.to_thread(startup.prepare, settings_for(port, url))
        app = build_application(prepared, db)
        async with polling(app):
            started = now()
            casting = asyncio.create_task(answer_all(port, question.correct))
            rows, finished = await wait_for_rows(db, members, casting)
            elapsed = finished - started
            await wait_for_scores(db, rows)
            scored_after = now() - finished
            cast = await casting
        if cast != members:
            raise RuntimeError(f"the sandbox cast {cast} answers, not {members}")
        with db.engine.connect() as conn:
            rows, distinct = conn.execute(
                text("SELECT count(*), count(DISTINCT poll_id) FROM quiz_answer")
            ).one()
            scored = conn.execute(
                text("SELECT coalesce(sum(answered), 0) FROM score WHERE period = 'all'")
            ).scalar_one()
        db.close()
    # Recorded answers, not cast ones: a lost answer must not raise the rate.
    per_s = int(rows) / elapsed if rows else 0.0
    return Outcome(per_s, int(rows), int(distinct), int(scored), scored_after)


async def run(members: int, trials: int) -> dict[str, object]:
    figures: dict[str, object] = {"bench": "quiz_answers", "members": members, "trials": trials}
    question = bank_question()
    targets = [("sqlite", "")]
    if postgres_available():
        targets.append(("postgresql", PG_URL))
    else:
        print("PostgreSQL not reachable: skipped", flush=True)
    # The machine is shared by the sandbox, the bot and the database, and is noisy (a
    # run can lose a tenth of a second to another process): each side is measured in
    # every trial, in turn, and each side's best run counts.
    ceilings: list[float] = []
    results: dict[str, list[Outcome]] = {name: [] for name, _ in targets}
    for trial in range(1, trials + 1):
        ceilings.append(await ceiling(members, question))
        print(f"trial {trial}: bare PTB application {ceilings[-1]:.0f} answers/s", flush=True)
        for name, url in targets:
            with tempfile.TemporaryDirectory() as tmp:
                url = url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
                outcome = await ours(members, url, question)
            results[name].append(outcome)
            print(
                f"trial {trial}: recorded on {name} {outcome.per_s:.0f} answers/s, "
                f"all scored {outcome.scored_after:.1f} s after the last",
                flush=True,
            )
    top = max(ceilings)
    figures["ceiling_per_s"] = round(top, 1)
    print(f"ceiling (best of {trials}): {top:.0f} answers/s")
    for name, outcomes in results.items():
        best = max(outcomes, key=lambda o: o.per_s)
        lost = max(members - o.rows for o in outcomes)
        duplicates = max(o.rows - o.distinct_polls for o in outcomes)
        unscored = max(o.rows - o.scored for o in outcomes)
        figures[f"{name}_per_s"] = round(best.per_s, 1)
        figures[f"{name}_ratio"] = round(best.per_s / top, 3)
        figures[f"{name}_lost"] = lost
        figures[f"{name}_duplicates"] = duplicates
        figures[f"{name}_unscored"] = unscored
        figures[f"{name}_scored_after_s"] = round(max(o.scored_after for o in outcomes), 2)
        print(
            f"answers on {name} (best of {trials}): {best.per_s:.0f}/s = "
            f"{best.per_s / top:.2f} of the ceiling; in every trial: lost {lost}, "
            f"duplicated {duplicates}, left unscored {unscored}"
        )
    return figures


def main() -> None:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    trials = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    started = now()
    figures = asyncio.run(run(members, trials))
    print(f"bench took {now() - started:.0f} s")
    emit(figures)


if __name__ == "__main__":
    main()
