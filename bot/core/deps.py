"""What handlers and jobs need, injected through the Application instead of imported globals."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot, Job, JobQueue

from bot.core.calendar import Clock, WorkCalendar
from bot.core.config import Settings
from bot.core.limits import Limits
from bot.core.render import Renderer
from content.loader import Content, Question
from db.engine import Database
from db.queries.members import MemberInfo

if TYPE_CHECKING:
    # Types only: the kernel imports no feature and not the composition root at run time
    # (import-linter leaves type-checking imports out of its contracts).
    from bot.app.vote_journal import VoteJournal
    from bot.app.votes import VoteSplittingRequest
    from bot.delivery.pacer import Pacer
    from bot.delivery.sender import Sender
    from bot.programme.scheduler import Programme
    from bot.quiz.recording import AnswerBatcher, Scorekeeper
    from bot.scores.scoring import PointRules

# Jobs that the running services set up, handed to handlers and features as plain callables.
ScheduleAt = Callable[[int, datetime], None]  # an id (broadcast, round) and when
BroadcastHook = Callable[[int], None]  # a broadcast id
RefreshCommands = Callable[[MemberInfo], Awaitable[None]]


@dataclass(frozen=True)
class PendingImport:
    """A spreadsheet of questions validated and previewed, waiting for the admin's yes."""

    file_unique_id: str
    questions: list[Question]


@dataclass
class Deps:
    settings: Settings
    db: Database
    renderer: Renderer
    rules: PointRules
    # The pacer shared by the sender and the replies.
    pacer: Pacer
    # Quiz answers, written in batches, and scored moments later.
    answers: AnswerBatcher
    scorekeeper: Scorekeeper
    bot_username: str = ""
    # Recently answered callback query ids, so the error handler never answers twice.
    answered_queries: deque[str] = field(default_factory=lambda: deque(maxlen=1024))
    # Spreadsheets validated and previewed, waiting for the admin's confirmation, by admin.
    pending_imports: dict[int, PendingImport] = field(default_factory=dict)
    content: Content = field(default_factory=Content)
    progress_text: dict[int, str] = field(default_factory=dict)
    # Broadcasts whose list of unconfirmed recipients has gone to the admin.
    reports_filed: set[int] = field(default_factory=set)
    clock: Clock = field(default_factory=Clock)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    # Set by bot.app.background.start_services when the application starts.
    sender: Sender | None = None
    schedule_broadcast: ScheduleAt | None = None
    unschedule_broadcast: BroadcastHook | None = None
    watch_broadcast: BroadcastHook | None = None
    schedule_round_close: ScheduleAt | None = None
    programme: Programme | None = None
    # Set by bot.app.wiring: a new member's menu and programme jobs.
    refresh_commands: RefreshCommands | None = None
    # The getUpdates request that hands votes to the fast lane (bot/app/votes.py).
    votes_request: VoteSplittingRequest | None = None
    # Per-person limits on costly requests (/peringkat per chat, /skor, /kuis, reflections,
    # refused admin attempts), so that one person cannot load the bot for everyone.
    limits: Limits = field(default_factory=Limits)
    # Where votes wait on disk until committed (bot/app/vote_journal.py); set at start.
    vote_journal: VoteJournal | None = None
    # Votes taken from getUpdates responses and still being recorded (bot/app/votes.py).
    vote_tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Practice polls (/kuis) sent but not yet recorded, by chat: a quick vote arriving in
    # between waits for the record instead of being taken for a vote on an unknown poll.
    practice_sending: dict[int, asyncio.Event] = field(default_factory=dict)
    # First steps of two-step cases whose follow-up is being sent (bot/quiz/followups.py).
    follow_ups_sending: set[str] = field(default_factory=set)


# Per-user and per-chat state PTB keeps for the handlers (a broadcast being composed,
# programme edits awaiting confirmation): free-form, as PTB hands them over.
UserData = dict[Any, Any]
ChatData = dict[Any, Any]


class BotData(dict[str, Deps]):
    """The application's bot_data: the injected dependencies, under "deps"."""


class BotContext(CallbackContext[ExtBot[Any], UserData, ChatData, BotData]):
    """CallbackContext with typed access to the injected dependencies.

    The bot is ExtBot[Any] as in PTB's own default context: its rate limiter's argument
    type depends on whether one is set (see bot.app.wiring)."""

    @property
    def deps(self) -> Deps:
        return self.application.bot_data["deps"]

    @property
    def db(self) -> Database:
        return self.deps.db

    @property
    def renderer(self) -> Renderer:
        return self.deps.renderer


BotJobQueue = JobQueue[BotContext]
BotJob = Job[BotContext]
BotApp = Application[ExtBot[Any], BotContext, UserData, ChatData, BotData, BotJobQueue]
