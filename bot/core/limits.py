"""Per-person limits on costly requests: a few at once, then one every so often.

One small rule for everything a single person could repeat to load the bot for everyone
else: a chart drawn (/skor), a practice poll sent and stored (/kuis), a reflection stored,
a refused admin attempt written to the audit log, the ranking posted in a chat
(/peringkat). Each is a `Limiter` keyed by a Telegram id; each key costs one float, and keys
whose allowance is full again are forgotten, so a stream of new senders cannot grow it.

The rule is the generic cell rate algorithm: a key may go ahead when its "theoretical
arrival time" is no further ahead of now than the burst allows; each request moves it one
interval further. Time is monotonic (not the wall clock that `deps.clock` gives): a limit
is about the seconds between requests, not about the time of day."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.config import Settings

# Forgotten keys are swept out once the table has grown past this (then past twice what
# survived the sweep), so a sweep's cost is spread over as many requests as it looks at.
SWEEP_FROM = 1024


@dataclass(frozen=True)
class Rate:
    """`burst` requests at once, then one every `interval` seconds."""

    burst: int
    interval: float

    @classmethod
    def per_minute(cls, count: int) -> Rate:
        """`count` at once, and `count` a minute after that (one every 60/count s)."""
        return cls(max(1, count), 60.0 / max(1, count))


class Limiter:
    def __init__(self, rate: Rate, *, now: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._now = now
        self._due: dict[int, float] = {}  # key -> when its allowance is full again
        self._sweep_at = SWEEP_FROM

    def take(self, key: int) -> float:
        """0.0 when `key` may go ahead now (and counts it), else the seconds until it may."""
        now = self._now()
        due = max(self._due.get(key, now), now)
        wait = due - now - (self.rate.burst - 1) * self.rate.interval
        if wait > 0:
            return wait
        self._due[key] = due + self.rate.interval
        if len(self._due) >= self._sweep_at:
            self._sweep(now)
        return 0.0

    def __len__(self) -> int:
        return len(self._due)

    def _sweep(self, now: float) -> None:
        self._due = {key: due for key, due in self._due.items() if due > now}
        self._sweep_at = max(SWEEP_FROM, 2 * len(self._due))


@dataclass
class Limits:
    """The bot's per-person limits (README "Registration, and odd input": Floods)."""

    ranking: Limiter = field(default_factory=lambda: Limiter(Rate(1, 60.0)))  # per chat
    score: Limiter = field(default_factory=lambda: Limiter(Rate.per_minute(3)))
    practice: Limiter = field(default_factory=lambda: Limiter(Rate.per_minute(6)))
    reflection: Limiter = field(default_factory=lambda: Limiter(Rate.per_minute(6)))
    refused: Limiter = field(default_factory=lambda: Limiter(Rate.per_minute(10)))

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            ranking=Limiter(Rate(1, float(settings.ranking_cooldown))),
            score=Limiter(Rate.per_minute(settings.score_per_minute)),
            practice=Limiter(Rate.per_minute(settings.practice_per_minute)),
            reflection=Limiter(Rate.per_minute(settings.reflections_per_minute)),
            refused=Limiter(Rate.per_minute(settings.refused_per_minute)),
        )
