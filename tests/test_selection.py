import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from bot.quiz.selection import (
    Candidate,
    Seen,
    choose,
    current_cycle,
    next_box,
    round_cycles,
    target_difficulty,
)

VALUES = ("BP", "AK", "KO", "HA", "LO", "AD", "KL")
# Six questions per value, two of each difficulty: the shape of the real bank.
POOL = [Candidate(f"{v}-{i:03d}", v, (i + 1) // 2) for v in VALUES for i in range(1, 7)]
ALL_IDS = {c.id for c in POOL}
POOL_BY_ID = {c.id: c for c in POOL}
MONDAY = date(2026, 1, 5)


def value_of(question_id: str) -> str:
    return question_id.split("-")[0]


@dataclass
class Round:
    day: date
    picks: list[str]
    reviews: set[str]  # questions that were due for review when the round was chosen


@dataclass
class Member:
    """Plays rounds the way the bot does: choose, store the cycle of each pick, answer."""

    wrong: Callable[[str, int], bool] = lambda question_id, n: False
    member_id: int = 7
    accuracy: float | None = None
    answered: int = 0
    rows: dict[str, Seen] = field(default_factory=dict)
    rounds: list[Round] = field(default_factory=list)

    def play(self, day: date) -> None:
        n = len(self.rounds)
        seen = list(self.rows.values())
        picks = choose(
            POOL,
            seen,
            today=day,
            count=3,
            seed=f"round:{n}:member:{self.member_id}",
            accuracy=self.accuracy,
            answered=self.answered,
        )
        reviews = {
            q
            for q, r in self.rows.items()
            if r.box == 1 and r.due is not None and r.last_sent < r.due <= day
        }
        cycles = round_cycles(POOL, seen, picks)
        for q in picks:
            old = self.rows.get(q)
            box, due = next_box(old.box if old else 0, not self.wrong(q, n), day)
            self.rows[q] = Seen(q, value_of(q), day, box, due, cycles[q])
        self.rounds.append(Round(day, picks, reviews))


def twice_a_week(weeks: int) -> list[date]:
    return [MONDAY + timedelta(weeks=w, days=d) for w in range(weeks) for d in (0, 3)]


def sometimes_wrong(share: float) -> Callable[[str, int], bool]:
    def wrong(question_id: str, n: int) -> bool:
        return random.Random(f"{question_id}:{n}").random() < share

    return wrong


def history(weeks: int) -> list[Seen]:
    member = Member(wrong=sometimes_wrong(0.3))
    for day in twice_a_week(weeks):
        member.play(day)
    return list(member.rows.values())


# --- determinism --------------------------------------------------------------------------


def test_same_inputs_and_seed_give_the_same_round() -> None:
    seen = history(5)
    today = MONDAY + timedelta(weeks=5)
    first = choose(
        POOL, seen, today=today, count=3, seed="round:42:member:7", accuracy=0.7, answered=20
    )
    again = choose(
        POOL, seen, today=today, count=3, seed="round:42:member:7", accuracy=0.7, answered=20
    )
    assert first == again
    assert len(first) == 3


def test_input_order_does_not_matter() -> None:
    seen = history(5)
    today = MONDAY + timedelta(weeks=5)
    expected = choose(POOL, seen, today=today, count=3, seed="round:42:member:7")
    shuffler = random.Random(1)
    for _ in range(10):
        candidates, rows = POOL[:], seen[:]
        shuffler.shuffle(candidates)
        shuffler.shuffle(rows)
        assert choose(candidates, rows, today=today, count=3, seed="round:42:member:7") == expected


def test_different_seeds_give_different_rounds() -> None:
    rounds = {
        tuple(choose(POOL, [], today=MONDAY, count=3, seed=f"round:{n}:member:7"))
        for n in range(20)
    }
    assert len(rounds) > 5


# --- no repeats until the pool has been seen ------------------------------------------------


def test_a_member_who_is_always_right_sees_every_question_once_per_cycle() -> None:
    member = Member()
    for day in twice_a_week(21):  # 42 rounds of 3: three passes through 42 questions
        member.play(day)
    picks = [q for r in member.rounds for q in r.picks]
    for start in range(0, len(picks), len(POOL)):
        assert set(picks[start : start + len(POOL)]) == ALL_IDS
    assert {r.cycle for r in member.rows.values()} == {2}


@pytest.mark.parametrize("share_wrong", [0.2, 0.5])
def test_only_due_reviews_repeat_before_the_pool_is_seen(share_wrong: float) -> None:
    member = Member(wrong=sometimes_wrong(share_wrong))
    for day in twice_a_week(60):
        member.play(day)
    sent: set[str] = set()  # in the current pass
    repeats = 0
    for r in member.rounds:
        assert len(set(r.picks)) == 3
        fresh = [q for q in r.picks if q not in sent]
        sent.update(fresh)
        others = [q for q in r.picks if q not in fresh]
        if sent == ALL_IDS:  # the pass is over: this round's other picks open the next one
            sent = set(others)
            repeats += len(others)
        else:
            assert set(others) <= r.reviews, (r.day, others, len(ALL_IDS - sent))
    reviews = sum(len(set(r.picks) & r.reviews) for r in member.rounds)
    assert reviews > 10  # the reviews did happen, so the check above was not vacuous
    assert repeats > 0  # and so did rounds that straddle two passes


def test_a_round_that_ends_the_cycle_takes_the_leftovers_and_opens_the_next() -> None:
    pool = POOL[:7]  # BP-001..006 and AK-001
    leftovers = {"BP-004", "AK-001"}
    seen = [
        Seen(c.id, c.value, MONDAY, 2, MONDAY + timedelta(days=7), 0)
        for c in pool
        if c.id not in leftovers
    ]
    today = MONDAY + timedelta(days=30)
    picks = choose(pool, seen, today=today, count=3, seed="s")
    assert leftovers < set(picks)
    assert current_cycle(pool, seen) == 0
    stamps = round_cycles(pool, seen, picks)
    repeat = (set(picks) - leftovers).pop()
    assert stamps == {"BP-004": 0, "AK-001": 0, repeat: 1}


def test_current_cycle() -> None:
    pool = POOL[:3]
    assert current_cycle(pool, []) == 0

    def sent(question_id: str, cycle: int) -> Seen:
        return Seen(question_id, "BP", MONDAY, 2, None, cycle)

    part = [sent("BP-001", 0), sent("BP-002", 0)]
    assert current_cycle(pool, part) == 0
    done = [*part, sent("BP-003", 0)]
    assert current_cycle(pool, done) == 1
    assert current_cycle(pool, [*done, sent("BP-001", 1)]) == 1
    # A retired question neither holds a cycle open nor counts towards one.
    assert current_cycle(pool, [*done, sent("XX-999", 4)]) == 1
    assert current_cycle(pool[:2], part) == 1


# --- Leitner reviews ------------------------------------------------------------------------


def test_a_missed_question_comes_back_on_its_due_date_not_before() -> None:
    missed = "KO-003"
    seen = [
        Seen(c.id, c.value, MONDAY, 2, MONDAY + timedelta(days=7), 0)
        for c in POOL
        if c.value in ("BP", "AK", "KO")
    ]
    box, due = next_box(0, False, MONDAY)
    assert (box, due) == (1, MONDAY + timedelta(days=3))
    seen = [s for s in seen if s.question_id != missed]
    seen.append(Seen(missed, "KO", MONDAY, box, due, 0))
    for days in (0, 1, 2):
        today = MONDAY + timedelta(days=days)
        for n in range(20):
            assert missed not in choose(POOL, seen, today=today, count=3, seed=f"s{n}")
    for days in (3, 4, 10):
        today = MONDAY + timedelta(days=days)
        for n in range(20):
            picks = choose(POOL, seen, today=today, count=3, seed=f"s{n}")
            assert missed in picks
            assert len(set(picks)) == 3


def test_a_missed_question_waits_for_its_date_even_in_a_new_cycle() -> None:
    # Every question was sent in cycle 0, the KL one missed last. Without the wait the new
    # cycle would open with it, as the only other value a round of three can take.
    pool = [*POOL[:3], Candidate("KL-001", "KL", 1)]
    seen = [Seen(c.id, c.value, MONDAY, 3, MONDAY + timedelta(days=14), 0) for c in pool[:3]]
    seen.append(Seen("KL-001", "KL", MONDAY, 1, MONDAY + timedelta(days=3), 0))
    assert current_cycle(pool, seen) == 1
    for days, expected in ((1, False), (2, False), (3, True)):
        today = MONDAY + timedelta(days=days)
        for n in range(10):
            picks = choose(pool, seen, today=today, count=3, seed=f"s{n}")
            assert ("KL-001" in picks) is expected, (days, picks)


def test_at_most_one_review_per_round() -> None:
    wrong = {"BP-001", "AK-001", "KO-001"}
    seen = [
        Seen(c.id, c.value, MONDAY, 1 if c.id in wrong else 2, MONDAY + timedelta(days=3), 0)
        for c in POOL
        if c.value in ("BP", "AK", "KO")
    ]
    today = MONDAY + timedelta(days=5)
    for n in range(20):
        picks = choose(POOL, seen, today=today, count=3, seed=f"s{n}")
        assert len(wrong & set(picks)) == 1
    # A single-question round is all new.
    assert not wrong & set(choose(POOL, seen, today=today, count=1, seed="s"))


def test_a_review_that_went_unanswered_is_not_sent_every_round() -> None:
    due = MONDAY + timedelta(days=3)
    seen = [Seen(c.id, c.value, MONDAY, 2, MONDAY + timedelta(days=7), 0) for c in POOL[:20]]
    seen[0] = Seen(seen[0].question_id, seen[0].value, due, 1, due, 0)  # sent on its due date
    for n in range(20):
        picks = choose(POOL, seen, today=due + timedelta(days=4), count=3, seed=f"s{n}")
        assert seen[0].question_id not in picks


@pytest.mark.parametrize(
    ("box", "correct", "expected_box", "days"),
    [
        (0, False, 1, 3),
        (0, True, 2, 7),  # box 1 is kept for "last answer wrong"
        (1, True, 2, 7),
        (2, True, 3, 14),
        (3, True, 4, 30),
        (4, True, 5, 60),
        (5, True, 5, 60),
        (5, False, 1, 3),
        (3, False, 1, 3),
    ],
)
def test_next_box(box: int, correct: bool, expected_box: int, days: int) -> None:
    assert next_box(box, correct, MONDAY) == (expected_box, MONDAY + timedelta(days=days))


@pytest.mark.parametrize("box", [-1, 6])
def test_next_box_rejects_unknown_boxes(box: int) -> None:
    with pytest.raises(ValueError):
        next_box(box, True, MONDAY)


# --- values and difficulty ------------------------------------------------------------------


def test_a_new_member_gets_all_seven_values_within_a_fortnight() -> None:
    for member_id in range(20):
        member = Member(member_id=member_id)
        for days in (0, 3, 7, 10):
            member.play(MONDAY + timedelta(days=days))
        picks = [q for r in member.rounds for q in r.picks]
        assert len(picks) == 12
        assert {value_of(q) for q in picks} == set(VALUES)


def test_every_fortnight_covers_all_seven_values_and_rounds_do_not_repeat_a_value() -> None:
    member = Member()
    for day in twice_a_week(30):
        member.play(day)
    for r in member.rounds:
        assert len({value_of(q) for q in r.picks}) == 3, r
    for start in range(len(member.rounds) - 3):
        window = member.rounds[start : start + 4]
        assert window[-1].day - window[0].day < timedelta(days=14)
        assert {value_of(q) for r in window for q in r.picks} == set(VALUES)


def test_values_not_sent_for_a_fortnight_come_first() -> None:
    today = MONDAY + timedelta(days=30)
    seen = [
        Seen(c.id, c.value, today - timedelta(days=2), 2, today, 0)
        for c in POOL
        if c.value in ("BP", "AK", "KO", "HA") and c.difficulty == 1
    ]
    seen.append(Seen("LO-001", "LO", today - timedelta(days=20), 2, today, 0))
    for n in range(20):
        picks = choose(POOL, seen, today=today, count=3, seed=f"s{n}")
        assert {value_of(q) for q in picks} == {"LO", "AD", "KL"}


@pytest.mark.parametrize(
    ("accuracy", "answered", "expected"),
    [
        (None, 0, 1),
        (1.0, 4, 1),
        (0.49, 20, 1),
        (0.5, 20, 2),
        (0.79, 20, 2),
        (0.8, 20, 3),
        (1.0, 5, 3),
    ],
)
def test_target_difficulty(accuracy: float | None, answered: int, expected: int) -> None:
    assert target_difficulty(accuracy, answered) == expected


@pytest.mark.parametrize(("accuracy", "level"), [(0.95, 3), (0.65, 2), (0.3, 1)])
def test_difficulty_follows_accuracy(accuracy: float, level: int) -> None:
    member = Member(accuracy=accuracy, answered=40)
    for day in twice_a_week(2):
        member.play(day)
    levels = [POOL_BY_ID[q].difficulty for r in member.rounds for q in r.picks]
    assert levels.count(level) >= 10, levels


def test_difficulty_still_counts_in_later_cycles() -> None:
    long_ago = MONDAY - timedelta(days=60)
    seen = [Seen(c.id, c.value, long_ago, 2, long_ago + timedelta(days=7), 0) for c in POOL]
    for accuracy, level in ((0.95, 3), (0.3, 1)):
        picks = choose(POOL, seen, today=MONDAY, count=3, seed="s", accuracy=accuracy, answered=40)
        assert [POOL_BY_ID[q].difficulty for q in picks] == [level] * 3


def test_a_new_cycle_does_not_start_with_what_was_just_shown() -> None:
    # The last round of cycle 0 showed the two hard BP questions; a strong member would
    # otherwise get them straight back when cycle 1 begins.
    pool = [c for c in POOL if c.value == "BP"]
    recent = {"BP-005", "BP-006"}
    seen = [
        Seen(c.id, c.value, MONDAY - timedelta(days=3 if c.id in recent else 40), 2, MONDAY, 0)
        for c in pool
    ]
    assert current_cycle(pool, seen) == 1
    picks = choose(pool, seen, today=MONDAY, count=2, seed="s", accuracy=0.95, answered=40)
    assert sorted(picks) == ["BP-003", "BP-004"]


def test_a_newcomer_starts_easy() -> None:
    picks = choose(POOL, [], today=MONDAY, count=3, seed="s", accuracy=1.0, answered=2)
    assert all(POOL_BY_ID[q].difficulty == 1 for q in picks)


def test_difficulty_gives_way_to_what_is_left() -> None:
    # Only hard questions left in the cycle: a weak member still gets them, not repeats.
    easy_sent = [
        Seen(c.id, c.value, MONDAY, 2, MONDAY + timedelta(days=7), 0)
        for c in POOL
        if c.difficulty < 3
    ]
    picks = choose(
        POOL,
        easy_sent,
        today=MONDAY + timedelta(days=3),
        count=3,
        seed="s",
        accuracy=0.1,
        answered=30,
    )
    assert all(POOL_BY_ID[q].difficulty == 3 for q in picks)


# --- edges ----------------------------------------------------------------------------------


def test_no_candidates_no_questions() -> None:
    assert choose([], [], today=MONDAY, count=3, seed="s") == []
    assert choose(POOL, [], today=MONDAY, count=0, seed="s") == []


def test_count_larger_than_the_pool_returns_each_question_once() -> None:
    pool = POOL[:4]
    seen = [Seen("BP-001", "BP", MONDAY, 1, MONDAY + timedelta(days=3), 0)]  # not due yet
    picks = choose(pool, seen, today=MONDAY, count=10, seed="s")
    assert sorted(picks) == sorted(c.id for c in pool)


def test_duplicate_candidates_are_chosen_once() -> None:
    pool = POOL[:2] * 3
    assert sorted(choose(pool, [], today=MONDAY, count=3, seed="s")) == ["BP-001", "BP-002"]
