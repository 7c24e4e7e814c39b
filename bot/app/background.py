"""Background services of a running bot: the outbox sender, scheduled broadcasts, progress."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from telegram import Bot

from bot.boards.cards import post_weekly
from bot.core.deps import BotApp, BotContext, Deps
from bot.delivery.broadcasts import build_sender
from bot.delivery.progress import report_progress, start_broadcast
from bot.ideas.service import post_digest
from bot.members import privacy
from bot.programme.scheduler import Programme
from bot.quiz import followups
from bot.quiz.rounds import QUIZ_KIND, close_round, open_windows, record_round_polls
from bot.reports.scheduled import send_monthly, send_silent_alert
from db.queries import outbox

log = logging.getLogger(__name__)

PROGRESS_EVERY = 3.0  # seconds; well inside Telegram's limits for editing one message
RETENTION_JOB = "retention"
FOLLOW_UP_JOB = "follow-ups"
FOLLOW_UP_EVERY = 300.0  # seconds: owed follow-ups (bot/quiz/followups.py) are rare
# Seconds a stop waits for votes being recorded; the rest are in the vote journal.
VOTE_STOP_WAIT = 10.0
RETENTION_AT = time(2, 0)  # local time of the default zone: nobody is answering then


async def start_services(app: BotApp) -> None:
    deps: Deps = app.bot_data["deps"]
    sender = build_sender(deps.settings, deps.db, deps.pacer)
    await sender.bot.initialize()
    deps.sender = sender
    job_queue = app.job_queue
    assert job_queue is not None

    def watch(broadcast_id: int) -> None:
        name = f"broadcast-progress-{broadcast_id}"
        if not job_queue.get_jobs_by_name(name):
            job_queue.run_repeating(
                _progress_tick, PROGRESS_EVERY, first=PROGRESS_EVERY, name=name, data=broadcast_id
            )

    def schedule(broadcast_id: int, when: datetime) -> None:
        # A delay by the injected clock, not an instant on the system's.
        delay = max(0.0, (when - deps.clock.now()).total_seconds())
        job_queue.run_once(_launch_job, delay, name=f"broadcast-{broadcast_id}", data=broadcast_id)

    def unschedule(broadcast_id: int) -> None:
        for job in job_queue.get_jobs_by_name(f"broadcast-{broadcast_id}"):
            job.schedule_removal()

    def close_round_at(round_id: int, when: datetime) -> None:
        delay = max(0.0, (when - deps.clock.now()).total_seconds())
        job_queue.run_once(_close_round_job, delay, name=f"round-close-{round_id}", data=round_id)

    deps.watch_broadcast = watch
    deps.schedule_broadcast = schedule
    deps.unschedule_broadcast = unschedule
    deps.schedule_round_close = close_round_at
    sender.hooks[QUIZ_KIND] = record_round_polls
    await sender.start()
    # Broadcasts scheduled before a restart: the missed ones go now, the others wait.
    for info in await deps.db.run(outbox.list_broadcasts, limit=1000, statuses=["scheduled"]):
        if info.scheduled_at is None or info.scheduled_at <= deps.clock.now():
            await _launch(app.bot, deps, info.id)
        else:
            schedule(info.id, info.scheduled_at)
    for info in await deps.db.run(outbox.list_broadcasts, limit=100, statuses=["running"]):
        watch(info.id)
    # Answer windows that were open when the bot stopped: close them on time, or now.
    for round_id, closes_at in await deps.db.run(open_windows):
        close_round_at(round_id, closes_at)
    deps.programme = Programme(deps, job_queue)

    async def weekly(tz: str, day: date) -> None:
        await post_weekly(deps, app.bot, tz, day)
        await post_digest(deps, app.bot, tz, day)

    async def monthly(day: date) -> None:
        await send_monthly(deps, app.bot, day)

    async def silent(day: date) -> None:
        await send_silent_alert(deps, app.bot, day)

    deps.programme.on_leaderboard = weekly
    deps.programme.on_report = monthly
    deps.programme.on_silent = silent
    await deps.programme.start()
    # UU PDP retention, once a day at night by the injected clock (never the system's).
    job_queue.run_repeating(
        _retention_job,
        interval=timedelta(days=1),
        first=_until_retention(deps),
        name=RETENTION_JOB,
    )
    # Follow-ups of two-step cases owed since a stop or a failure: soon, then now and then.
    job_queue.run_repeating(_follow_up_job, FOLLOW_UP_EVERY, first=5.0, name=FOLLOW_UP_JOB)
    # Answers recorded but not scored when the bot last stopped.
    deps.scorekeeper.poke(delay=0)


async def stop_services(app: BotApp) -> None:
    deps: Deps = app.bot_data["deps"]
    # Votes already taken from Telegram are recorded before the bot stops, if the database
    # lets them within VOTE_STOP_WAIT; else they stay in the vote journal for the next start.
    if deps.vote_tasks:
        _, late = await asyncio.wait(set(deps.vote_tasks), timeout=VOTE_STOP_WAIT)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
    await deps.answers.stop()
    if deps.vote_journal is not None:
        await deps.vote_journal.close()
    if deps.sender is not None:
        await deps.sender.stop()
        await deps.sender.bot.shutdown()
    await deps.scorekeeper.stop()


def _job_id(ctx: BotContext) -> int:
    """The id (a broadcast's, a round's) a job below was scheduled with."""
    assert ctx.job is not None and isinstance(ctx.job.data, int)
    return ctx.job.data


async def _launch_job(ctx: BotContext) -> None:
    await _launch(ctx.bot, ctx.deps, _job_id(ctx))


async def _launch(bot: Bot, deps: Deps, broadcast_id: int) -> None:
    info = await deps.db.run(outbox.get_broadcast, broadcast_id=broadcast_id)
    # Cancelled, or started already (a restart found it due while its job was pending).
    if info is None or info.status != "scheduled":
        return
    await start_broadcast(bot, deps, broadcast_id)


async def _progress_tick(ctx: BotContext) -> None:
    finished = await report_progress(ctx.bot, ctx.deps, _job_id(ctx))
    if finished and ctx.job is not None:
        ctx.job.schedule_removal()


async def _close_round_job(ctx: BotContext) -> None:
    await close_round(ctx.deps, _job_id(ctx))


def _until_retention(deps: Deps) -> timedelta:
    now = deps.clock.now().astimezone(ZoneInfo(deps.settings.default_timezone))
    at = datetime.combine(now.date(), RETENTION_AT, tzinfo=now.tzinfo)
    if at <= now:
        at += timedelta(days=1)
    return at - now


async def _retention_job(ctx: BotContext) -> None:
    await privacy.enforce_retention(ctx.deps.db, ctx.deps.settings, now=ctx.deps.clock.now())


async def _follow_up_job(ctx: BotContext) -> None:
    try:
        await followups.resume(ctx.deps, ctx.bot)
    except Exception:  # the database, most likely: the next run tries again
        log.exception("owed follow-up questions could not be sent")
