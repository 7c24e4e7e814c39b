"""Which value, guideline and reflection prompt belong to a day.

The seven values go round one per working day; each time a value comes back it brings its
next guideline (three per value), and each time a guideline comes back its next prompt. A
holiday shifts the rotation instead of skipping a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core.calendar import WorkCalendar
from content.loader import Content, Guideline, Prompt, Value


@dataclass(frozen=True)
class DailyValue:
    day: date
    value: Value
    guideline: Guideline
    prompt: Prompt | None


def daily_value(content: Content, calendar: WorkCalendar, day: date) -> DailyValue:
    """The value of `day`, or of the last working day before it when it is not one."""
    if not calendar.is_working_day(day):
        day = calendar.previous_working_day(day)
    index = calendar.working_day_index(day)
    values = content.values
    value = values[index % len(values)]
    turn = index // len(values)
    guideline = value.guidelines[turn % len(value.guidelines)]
    prompts = sorted(
        (p for p in content.prompts if p.guideline == guideline.code), key=lambda p: p.id
    )
    prompt = prompts[(turn // len(value.guidelines)) % len(prompts)] if prompts else None
    return DailyValue(day, value, guideline, prompt)


def calendar_of(content: Content) -> WorkCalendar:
    return WorkCalendar.of((h.date, h.name) for h in content.holidays)
