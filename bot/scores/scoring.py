"""Points, streaks and /cuti shields: pure rules, no database and no Telegram.

Points
    A round question answered earns `answered` whether right or wrong, plus `correct` when
    right, so a correct round answer is worth `answered + correct` (12 by default): taking
    part is rewarded, knowing is rewarded more. Practice (/kuis) earns `practice_correct`
    for a correct answer only and is kept apart from team points, so grinding practice
    cannot buy a unit its place on a board.

Streak
    The number of consecutive working days with activity. Weekends, libur nasional and
    cuti bersama are skipped: they neither add to a streak nor break it, and activity on
    them does not count. Today only adds once the member is active today; until then the
    streak ends at the previous working day, so nobody sees their streak drop to zero
    over breakfast. A day shielded with /cuti keeps the streak alive without adding to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core.calendar import WorkCalendar


@dataclass(frozen=True)
class PointRules:
    correct: int = 10
    answered: int = 2
    reflection: int = 5
    # Awarded on the day a streak reaches a multiple of `streak_every` working days.
    streak_bonus: int = 5
    streak_every: int = 5
    # Practice (/kuis) is scored apart and never enters team boards.
    practice_correct: int = 1
    # /cuti days a member may shield per calendar month.
    shields_per_month: int = 3


def answer_points(rules: PointRules, *, correct: bool, practice: bool) -> int:
    if practice:
        return rules.practice_correct if correct else 0
    return rules.answered + (rules.correct if correct else 0)


def streak(active: set[date], shields: set[date], calendar: WorkCalendar, today: date) -> int:
    """Consecutive working days with activity, ending today or at the previous working day."""
    day = today if calendar.is_working_day(today) else calendar.previous_working_day(today)
    length = 0
    while True:
        if day in active:
            length += 1
        elif day not in shields and day != today:
            # Today is still open (the member may yet answer), so only a past working day
            # with neither activity nor a shield ends the streak.
            return length
        day = calendar.previous_working_day(day)


def streak_bonus(rules: PointRules, streak_length: int) -> int:
    if rules.streak_every > 0 and streak_length > 0 and streak_length % rules.streak_every == 0:
        return rules.streak_bonus
    return 0


def shields_left(rules: PointRules, used_this_month: int) -> int:
    return max(0, rules.shields_per_month - used_this_month)
