"""Working days and the clock.

A working day is Monday to Friday and not a holiday or cuti bersama from
content/holidays.yaml. The clock is injected so tests can move time; production reads
the system clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# The three Indonesian zones, and what members read for each.
ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def zone_label(tz: str) -> str:
    return ZONE_LABELS.get(tz, tz)


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    names: dict[date, str] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, holidays: Iterable[tuple[date, str]]) -> WorkCalendar:
        pairs = list(holidays)
        return cls(frozenset(d for d, _ in pairs), {d: n for d, n in pairs})

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def previous_working_day(self, day: date) -> date:
        current = day - timedelta(days=1)
        while not self.is_working_day(current):
            current -= timedelta(days=1)
        return current

    def working_day_index(self, day: date) -> int:
        """How many working days lie between a fixed epoch and `day`: drives the rotation of
        the seven values, so that holidays shift the rotation instead of skipping a value."""
        epoch = date(2024, 1, 1)
        if day < epoch:
            return 0
        weeks, rest = divmod((day - epoch).days, 7)
        count = weeks * 5 + min(rest, 5)
        count -= sum(1 for h in self.holidays if epoch <= h < day and h.weekday() < 5)
        return count


class Clock:
    """The system clock. Everything that asks "what time is it" asks this."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self, tz: str) -> date:
        return self.now().astimezone(ZoneInfo(tz)).date()


class FakeClock(Clock):
    """A clock that runs at real speed from a chosen instant and can jump: tests set it
    just before 07:30 WITA and watch the real job fire."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, moment: datetime) -> None:
        self._offset = moment - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        self._offset += delta
