"""Fair team ranking: small units are pooled and shrunk toward the mean, so size does
not decide who tops the board."""

from __future__ import annotations

import pytest

from bot.boards.ranking import (
    VALUE_ORDER,
    Ranking,
    UnitStats,
    most_improved,
    rank,
    strongest_and_weakest,
)
from content.loader import load_content

PERFECT_WEEK = 5 * 12  # five round questions, all correct


def unit(
    unit_id: int,
    members: int,
    *,
    points_each: float,
    participants: int | None = None,
    opd_id: int | None = None,
    name: str | None = None,
    accuracy: float = 1.0,
) -> UnitStats:
    answered = 5 * members
    return UnitStats(
        unit_id=unit_id,
        name=name or f"Unit {unit_id}",
        opd_id=opd_id if opd_id is not None else unit_id,
        opd_name=f"OPD {opd_id if opd_id is not None else unit_id}",
        active_members=members,
        participants=members if participants is None else participants,
        points=round(points_each * members),
        answered=answered,
        correct=round(answered * accuracy),
        values={},
    )


def keys(ranking: Ranking) -> list[str]:
    return [s.key for s in ranking.units]


def test_a_four_member_unit_is_pooled_and_flagged_not_ranked_alone() -> None:
    tiny = unit(1, 4, points_each=PERFECT_WEEK, opd_id=10)
    big = unit(2, 80, points_each=30, participants=60, opd_id=20, accuracy=0.6)
    ranking = rank([tiny, big])

    assert "unit:1" not in keys(ranking)
    pool = next(s for s in ranking.units if s.key == "pool:10")
    assert pool.pooled and pool.small
    assert pool.name == "OPD 10 (gabungan unit kecil)"
    assert pool.members == 4 and pool.participation == 1.0 and pool.accuracy == 1.0
    big_standing = next(s for s in ranking.units if s.key == "unit:2")
    assert not big_standing.pooled and not big_standing.small


def test_small_units_of_one_opd_share_one_pool_that_may_be_big_enough() -> None:
    ranking = rank(
        [
            unit(1, 4, points_each=20, opd_id=10),
            unit(2, 3, points_each=40, opd_id=10),
            unit(3, 2, points_each=10, opd_id=30),
            unit(4, 12, points_each=30, opd_id=10),
        ]
    )
    by_key = {s.key: s for s in ranking.units}
    assert set(by_key) == {"pool:10", "pool:30", "unit:4"}
    assert by_key["pool:10"].members == 7 and not by_key["pool:10"].small
    assert by_key["pool:10"].raw_average == pytest.approx((80 + 120) / 7)
    assert by_key["pool:30"].small


def test_shrinkage_keeps_a_perfect_six_member_unit_below_a_strong_large_one() -> None:
    lucky = unit(1, 6, points_each=PERFECT_WEEK, name="Seksi Beruntung")
    strong = unit(2, 80, points_each=50, participants=75, name="Bidang Kuat")
    rest = unit(3, 200, points_each=20, participants=120, name="Dinas Lain")
    ranking = rank([lucky, strong, rest])

    assert keys(ranking) == ["unit:2", "unit:1", "unit:3"]
    small = ranking.units[1]
    assert small.raw_average == PERFECT_WEEK > ranking.units[0].raw_average
    # Pulled toward the mean, not past it: the score lies between the two.
    assert ranking.overall_average < small.score < small.raw_average
    # Ranked on raw averages alone (no prior), luck of size would have won.
    assert keys(rank([lucky, strong, rest], prior=0))[0] == "unit:1"


def test_equal_performance_per_member_does_not_favour_the_small_unit() -> None:
    small = unit(1, 6, points_each=40, name="A Kecil")
    large = unit(2, 80, points_each=40, name="Z Besar")
    weaker = unit(3, 100, points_each=10, participants=50)
    assert keys(rank([small, large, weaker]))[:2] == ["unit:2", "unit:1"]

    # When both sit at the overall mean, they tie exactly and size plays no part: only
    # the name separates them, whichever unit carries the earlier one.
    tied = rank([small, large])
    assert tied.units[0].score == tied.units[1].score == tied.overall_average
    assert keys(tied) == ["unit:1", "unit:2"]
    renamed = rank(
        [
            unit(1, 6, points_each=40, name="Z Kecil"),
            unit(2, 80, points_each=40, name="A Besar"),
        ]
    )
    assert keys(renamed) == ["unit:2", "unit:1"]


def test_score_formula_ties_and_ranks() -> None:
    a = unit(1, 10, points_each=30, participants=5)
    b = unit(2, 10, points_each=30, participants=10)
    c = unit(3, 20, points_each=0, participants=0)
    ranking = rank([a, b, c], prior=10)
    mean_a = 600 / 40
    mean_p = 15 / 40
    assert ranking.overall_average == mean_a and ranking.overall_participation == mean_p
    # a and b have the same points: b's higher participation breaks the tie.
    assert keys(ranking) == ["unit:2", "unit:1", "unit:3"]
    assert [s.rank for s in ranking.units] == [1, 2, 3]
    assert ranking.units[0].score == pytest.approx((300 + 10 * mean_a) / 20)
    assert ranking.units[2].score == pytest.approx(10 * mean_a / 30)
    assert ranking.units[2].participation == 0.0


def test_empty_units_are_skipped_and_no_answers_means_no_accuracy() -> None:
    empty = unit(1, 0, points_each=0)
    quiet = unit(2, 8, points_each=0, participants=0, accuracy=0.0)
    quiet = UnitStats(**{**quiet.__dict__, "answered": 0, "correct": 0})
    ranking = rank([empty, quiet])
    assert keys(ranking) == ["unit:2"]
    assert ranking.units[0].accuracy is None
    assert ranking.overall_average == 0.0

    nothing = rank([])
    assert nothing.units == [] and nothing.opds == [] and nothing.overall_average == 0.0


def test_opd_standings_add_up_all_their_units_small_ones_included() -> None:
    ranking = rank(
        [
            unit(1, 30, points_each=20, opd_id=1),
            unit(2, 3, points_each=60, opd_id=1),
            unit(3, 20, points_each=25, opd_id=3),
            unit(4, 2, points_each=60, opd_id=4),
        ]
    )
    by_key = {s.key: s for s in ranking.opds}
    assert set(by_key) == {"opd:1", "opd:3", "opd:4"}
    assert by_key["opd:1"].members == 33
    assert by_key["opd:1"].raw_average == pytest.approx((600 + 180) / 33)
    assert by_key["opd:4"].small and not by_key["opd:1"].small
    assert not any(s.pooled for s in ranking.opds)
    assert [s.key for s in ranking.opds] == ["opd:4", "opd:3", "opd:1"]
    assert [s.rank for s in ranking.opds] == [1, 2, 3]


def test_most_improved_counts_only_gains_of_units_in_both_periods() -> None:
    base = [unit(n, 10, points_each=30) for n in range(1, 6)]
    before = rank(base)
    after = rank(
        [
            unit(1, 10, points_each=60),  # big gain
            unit(2, 10, points_each=40),  # small gain
            unit(3, 10, points_each=10),  # a drop
            unit(4, 10, points_each=45),  # middle gain
            unit(5, 10, points_each=30),  # unchanged
            unit(6, 10, points_each=90),  # new this period
        ]
    )
    # The overall mean moved too, so compare with the scores as ranked.
    gains = {s.key: s.score for s in after.units}
    olds = {s.key: s.score for s in before.units}
    expected = sorted((k for k in olds if gains[k] > olds[k]), key=lambda k: olds[k] - gains[k])
    improved = most_improved(after, before, top=3)
    assert [s.key for s, _ in improved] == expected[:3]
    assert improved[0][0].key == "unit:1"
    assert all(gain > 0 for _, gain in improved)
    assert improved[0][1] == pytest.approx(gains["unit:1"] - olds["unit:1"])
    assert "unit:6" not in [s.key for s, _ in most_improved(after, before, top=10)]
    assert most_improved(before, before) == []
    assert most_improved(after, before, top=1) == improved[:1]


def test_strongest_and_weakest_values() -> None:
    values = {"BP": (10, 9), "AK": (10, 4), "KO": (2, 0), "HA": (8, 6)}
    # KO has too few answers to judge.
    assert strongest_and_weakest(values) == ("BP", "AK")
    assert strongest_and_weakest(values, min_answers=1) == ("BP", "KO")
    assert strongest_and_weakest({}) == (None, None)
    assert strongest_and_weakest({"BP": (2, 2)}) == (None, None)
    # One value, or all alike, leaves nothing weaker to point at.
    assert strongest_and_weakest({"LO": (5, 3)}) == ("LO", None)
    assert strongest_and_weakest({"LO": (5, 5), "AD": (4, 4)}) == ("LO", None)


def test_value_ties_are_broken_by_the_official_order() -> None:
    values = {"KL": (4, 4), "BP": (4, 4), "HA": (4, 0), "AK": (4, 0), "LO": (4, 2)}
    assert strongest_and_weakest(values) == ("BP", "AK")
    assert tuple(v.code for v in load_content().values) == VALUE_ORDER
