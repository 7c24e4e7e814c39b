"""Wiring: build the PTB Application with its dependencies and handlers."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from telegram import LinkPreviewOptions
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults, ExtBot

from bot.app.background import start_services, stop_services
from bot.app.startup import Prepared
from bot.app.updates import PerUserUpdateProcessor
from bot.app.vote_journal import VoteJournal
from bot.app.votes import CommitFirstQueue, VoteSplittingRequest
from bot.core.calendar import Clock
from bot.core.deps import BotApp, BotContext, BotData, BotJobQueue, ChatData, Deps, UserData
from bot.core.limits import Limits
from bot.core.render import Renderer, renderer_for
from bot.delivery.broadcasts import limits_from
from bot.delivery.pacer import Pacer
from bot.delivery.replies import PoliteRateLimiter
from bot.programme.activity import rules_from
from bot.programme.daily import calendar_of
from bot.quiz.recording import AnswerBatcher, Scorekeeper
from db.engine import Database
from db.queries.members import MemberInfo, list_admins
from handlers import (
    admins,
    appreciation,
    broadcast,
    content_admin,
    errors,
    floods,
    groups,
    help,
    ideas,
    identity,
    membership,
    messages,
    profile,
    programme,
    quiz,
    quiz_analysis,
    registration,
    reports,
    scores,
    statistics,
    stories,
    unit_heads,
)

log = logging.getLogger(__name__)

# Not "poll": every vote would bring a second update (the poll's new totals) nobody reads.
ALLOWED_UPDATES = ["message", "callback_query", "poll_answer", "my_chat_member"]


def build_application(
    prepared: Prepared,
    db: Database,
    *,
    renderer: Renderer | None = None,
    clock: Clock | None = None,
    rate_limiter: bool = True,
) -> BotApp:
    """The bot for a database that `bot.app.startup.prepare` made ready: the one way to build it,
    for `berakhlak run`, the demo and the tests alike."""
    settings = prepared.settings
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to build the application")
    calendar = calendar_of(prepared.content)
    rules = rules_from(settings)
    scorekeeper = Scorekeeper(db, rules, calendar)
    deps = Deps(
        settings=settings,
        db=db,
        renderer=renderer or renderer_for(settings.instansi_name),
        rules=rules,
        pacer=Pacer(limits_from(settings)),
        answers=AnswerBatcher(db, rules, scorekeeper),
        scorekeeper=scorekeeper,
        content=prepared.content,
        clock=clock or Clock(),
        calendar=calendar,
        limits=Limits.from_settings(settings),
    )
    db.outage_wait = settings.db_outage_wait
    votes = VoteSplittingRequest(connection_pool_size=1)
    votes.gate = db.until_clear
    queue = CommitFirstQueue()
    queue.gate = db.until_clear
    deps.votes_request = votes
    processor = PerUserUpdateProcessor(db, per_person=settings.queued_updates_per_person)
    context_types = ContextTypes(
        context=BotContext, user_data=UserData, chat_data=ChatData, bot_data=BotData
    )
    # The builder is typed as the application it builds: ExtBot[Any] whether or not the
    # rate limiter (whose argument type the bot's type carries) is set.
    builder: ApplicationBuilder[
        ExtBot[Any], BotContext, UserData, ChatData, BotData, BotJobQueue
    ] = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.file_url)
        .context_types(context_types)
        # The default job queue, typed with our context (PTB's default keeps its own).
        .job_queue(BotJobQueue())
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .concurrent_updates(processor)
        .get_updates_request(votes)
        .update_queue(queue)
        .post_init(_post_init)
        .post_stop(stop_services)
    )
    if rate_limiter:
        builder = builder.rate_limiter(PoliteRateLimiter(deps.pacer))
    app = builder.build()
    app.bot_data["deps"] = deps
    processor.rerun = app.process_update

    async def on_dropped(update: object, first: bool) -> None:
        await floods.on_dropped(app, update, first)

    processor.on_dropped = on_dropped

    async def refresh_commands(member: MemberInfo) -> None:
        # Called when someone registers: their menu, and their zone's programme jobs.
        await help.set_member_menu(app.bot, deps, member)
        if deps.programme is not None:
            await deps.programme.member_joined()

    deps.refresh_commands = refresh_commands
    registration.register(app)
    identity.register(app)
    profile.register(app)
    help.register(app)
    statistics.register(app)
    reports.register(app)
    ideas.register(app)
    appreciation.register(app)
    stories.register(app)
    quiz_analysis.register(app)
    content_admin.register(app)
    broadcast.register(app)
    quiz.register(app)
    scores.register(app)
    admins.register(app)
    unit_heads.register(app)
    programme.register(app)
    groups.register(app)
    membership.register(app)
    # Last: catches what no feature handled (handlers in one group match first-come).
    messages.register(app)
    app.add_error_handler(errors.on_error)
    return app


async def _post_init(app: BotApp) -> None:
    deps: Deps = app.bot_data["deps"]
    deps.bot_username = app.bot.username
    await help.set_default_menus(app.bot, deps)
    for admin in await deps.db.run(list_admins):
        await help.set_member_menu(app.bot, deps, admin)
    # Locked first: a second bot on the same journal must not start at all.
    journal = deps.vote_journal = VoteJournal(deps.settings.vote_journal_path())
    left = await journal.open()
    await start_services(app)
    for entry in left:  # votes confirmed to Telegram before a stop, not yet committed
        if await quiz.handle_raw_votes(
            deps, app.bot, entry.votes, received=entry.received, again=True
        ):
            await journal.done(entry.number)

    # Votes take the fast lane (bot/app/votes.py) from now on: in getUpdates responses
    # (long polling), and as they are queued (webhook mode). Kept on disk first, then
    # confirmed, and committed meanwhile (bot/app/vote_journal.py).
    async def record(number: int, received: datetime, votes: list[dict[str, object]]) -> None:
        if await quiz.handle_raw_votes(deps, app.bot, votes, received=received):
            await journal.done(number)

    async def sink(votes: list[dict[str, object]]) -> None:
        received = deps.clock.now()
        number = await journal.keep(received, votes)
        task = asyncio.create_task(record(number, received, votes))
        deps.vote_tasks.add(task)
        task.add_done_callback(deps.vote_tasks.discard)

    if deps.votes_request is not None:
        deps.votes_request.sink = sink
    if isinstance(app.update_queue, CommitFirstQueue):
        app.update_queue.sink = sink
    # What start-up built (modules, content, templates, the bot's own objects) lives as long
    # as the process: out of the collector's sight, a full collection no longer walks it and
    # no longer stops the bot for a tenth of a second in the middle of a quiz round.
    gc.freeze()
    # The event loop shares the interpreter lock with the database threads, and by default
    # a thread keeps it up to 5 ms at a time, while no update is read and no reply sent:
    # 1 ms keeps the loop responsive while a batch of answers is being written.
    sys.setswitchinterval(0.001)


async def start_polling(app: BotApp, *, long_poll: int = 1) -> None:
    """What `run_polling` does before it waits, without taking over the event loop; a
    getUpdates that fails at first (Telegram not reachable yet) is tried again."""
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0.0,
            timeout=long_poll,
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=-1,
        )
    except BaseException:
        await stop_polling(app)
        raise


async def stop_polling(app: BotApp) -> None:
    """What `run_polling` does after a stop signal: updates first, then the services."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
    await app.shutdown()


@asynccontextmanager
async def polling(app: BotApp) -> AsyncIterator[BotApp]:
    """Run an application inside the caller's event loop (the demo, tests)."""
    await start_polling(app)
    try:
        yield app
    finally:
        await stop_polling(app)
