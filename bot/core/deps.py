"""What handlers and jobs need, injected through the Application instead of imported globals."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import CallbackContext, ExtBot

from bot.core.calendar import Clock, WorkCalendar
from bot.core.config import Settings
from bot.core.render import Renderer
from content.loader import Content
from db.engine import Database


@dataclass
class Deps:
    settings: Settings
    db: Database
    renderer: Renderer
    bot_username: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    # Recently answered callback query ids, so the error handler never answers twice.
    answered_queries: deque[str] = field(default_factory=lambda: deque(maxlen=1024))
    # Spreadsheets validated and previewed, waiting for the admin's confirmation.
    pending_imports: dict[int, Any] = field(default_factory=dict)
    content: Content = field(default_factory=Content)
    # Set by bot.services_runtime.start_services when the application starts.
    sender: Any = None
    progress_text: dict[int, str] = field(default_factory=dict)
    schedule_broadcast: Any = None
    unschedule_broadcast: Any = None
    watch_broadcast: Any = None
    schedule_round_close: Any = None
    clock: Clock = field(default_factory=Clock)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    rules: Any = None  # bot.scores.scoring.PointRules
    programme: Any = None  # bot.programme.scheduler.Programme, set at start
    pacer: Any = None  # bot.delivery.pacer.Pacer shared by the sender and the replies
    answers: Any = None  # bot.quiz.recording.AnswerBatcher: quiz answers, written in batches
    scorekeeper: Any = None  # bot.quiz.recording.Scorekeeper: scores them moments later
    # Votes taken from getUpdates responses and still being recorded (bot/app/votes.py).
    vote_tasks: set[asyncio.Task[None]] = field(default_factory=set)


class BotContext(CallbackContext[ExtBot[None], dict, dict, dict]):  # type: ignore[type-arg]
    """CallbackContext with typed access to the injected dependencies."""

    @property
    def deps(self) -> Deps:
        return self.application.bot_data["deps"]  # type: ignore[no-any-return]

    @property
    def db(self) -> Database:
        return self.deps.db

    @property
    def renderer(self) -> Renderer:
        return self.deps.renderer
