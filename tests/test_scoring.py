"""Points, streaks across weekends and holidays, and /cuti shields."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core.calendar import WorkCalendar
from bot.scores.scoring import PointRules, answer_points, shields_left, streak, streak_bonus

RULES = PointRules()
PLAIN = WorkCalendar()
# Monday 2026-03-09 .. Friday 2026-03-13, then the weekend and Monday 2026-03-16.
MON = date(2026, 3, 9)
TUE, WED, THU, FRI = (MON + timedelta(days=n) for n in range(1, 5))
SAT, SUN = FRI + timedelta(days=1), FRI + timedelta(days=2)
NEXT_MON, NEXT_TUE = MON + timedelta(days=7), MON + timedelta(days=8)


def test_round_answers_reward_taking_part_and_practice_is_apart() -> None:
    assert answer_points(RULES, correct=True, practice=False) == 12
    assert answer_points(RULES, correct=False, practice=False) == 2
    assert answer_points(RULES, correct=True, practice=True) == 1
    assert answer_points(RULES, correct=False, practice=True) == 0


def test_streak_counts_consecutive_working_days_ending_today() -> None:
    assert streak({MON, TUE, WED, THU, FRI}, set(), PLAIN, FRI) == 5


def test_today_not_yet_active_does_not_break_the_streak() -> None:
    assert streak({MON, TUE, WED, THU}, set(), PLAIN, FRI) == 4


def test_a_missed_working_day_breaks_it() -> None:
    assert streak({MON, WED, THU}, set(), PLAIN, THU) == 2
    assert streak({MON, TUE, WED}, set(), PLAIN, FRI + timedelta(days=3)) == 0
    assert streak(set(), set(), PLAIN, FRI) == 0


def test_a_weekend_neither_breaks_nor_adds() -> None:
    assert streak({THU, FRI, NEXT_MON, NEXT_TUE}, set(), PLAIN, NEXT_TUE) == 4
    # Read on the weekend itself, the streak is the one that ended on Friday.
    assert streak({THU, FRI}, set(), PLAIN, SAT) == 2
    assert streak({THU, FRI}, set(), PLAIN, SUN) == 2
    # Answering a practice question on Saturday is not a working day of the streak.
    assert streak({THU, FRI, SAT, NEXT_MON}, set(), PLAIN, NEXT_MON) == 3


def test_a_holiday_neither_breaks_nor_adds() -> None:
    nyepi = WorkCalendar.of([(WED, "Hari Suci Nyepi")])
    assert streak({MON, TUE, THU}, set(), nyepi, THU) == 3
    assert streak({MON, TUE}, set(), nyepi, THU) == 2
    # A long weekend: a holiday on Monday, right after Saturday and Sunday.
    long_weekend = WorkCalendar.of([(NEXT_MON, "Cuti bersama")])
    assert streak({THU, FRI, NEXT_TUE}, set(), long_weekend, NEXT_TUE) == 3
    assert streak({THU, FRI}, set(), long_weekend, NEXT_TUE) == 2


def test_a_shield_keeps_the_streak_alive_without_adding_to_it() -> None:
    assert streak({MON, TUE, THU}, {WED}, PLAIN, THU) == 3
    assert streak({MON, TUE, THU}, set(), PLAIN, THU) == 1
    # Shielded today and not active: the streak so far stands.
    assert streak({MON, TUE}, {WED}, PLAIN, WED) == 2
    # Shields across a weekend, two in a row.
    assert streak({MON, TUE, NEXT_MON}, {WED, THU, FRI}, PLAIN, NEXT_MON) == 3
    assert streak(set(), {MON, TUE}, PLAIN, TUE) == 0
    # Activity on a shielded day counts: the member worked after all.
    assert streak({MON, TUE}, {TUE}, PLAIN, TUE) == 2


def test_streak_bonus_on_each_multiple_of_streak_every() -> None:
    assert [streak_bonus(RULES, n) for n in range(12)] == [0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 5, 0]
    assert streak_bonus(PointRules(streak_bonus=7, streak_every=3), 6) == 7
    assert streak_bonus(PointRules(streak_every=0), 5) == 0


def test_shields_left_in_a_month() -> None:
    assert [shields_left(RULES, used) for used in range(5)] == [3, 2, 1, 0, 0]
