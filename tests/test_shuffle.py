"""Options in each member's own order: a permutation, the same every time it is asked for,
turning so that the key never sits at the same letter twice in a row, spread evenly over
members, and mapped back to the bank's option for scoring."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from bot.quiz.shuffle import in_bank_terms, option_order, poll_params, shown
from content.loader import load_content

QUESTIONS = load_content().questions


def test_an_order_is_a_permutation_and_the_same_each_time() -> None:
    for n in (2, 3, 4):
        order = option_order(7, "BP-001", n, 0)
        assert sorted(order) == list(range(n))
        assert option_order(7, "BP-001", n, 0) == order


def test_the_key_never_sits_at_the_same_letter_twice_in_a_row() -> None:
    for q in QUESTIONS[:60]:
        for member in range(30):
            keys = [shown(q, option_order(member, q.id, len(q.options), k))[1] for k in range(8)]
            assert all(a != b for a, b in pairwise(keys)), (q.id, keys)


def test_the_key_is_spread_over_the_letters_across_members() -> None:
    q = next(q for q in QUESTIONS if len(q.options) == 4)
    letters = Counter(shown(q, option_order(m, q.id, 4, 0))[1] for m in range(2000))
    # 500 each expected; a fixed letter for everyone would put 2,000 on one.
    assert all(380 <= n <= 620 for n in letters.values()) and len(letters) == 4


def test_the_poll_shows_the_key_where_the_order_puts_it_and_answers_map_back() -> None:
    q = next(q for q in QUESTIONS if len(q.options) == 4)
    order = option_order(3, q.id, 4, 1)
    params = poll_params(q, order)
    [key] = params["correct_option_ids"]
    assert params["options"][key]["text"] == q.options[q.correct]
    assert in_bank_terms(order, key) == q.correct
    assert in_bank_terms(order, 4) is None and in_bank_terms(order, -1) is None
    assert in_bank_terms(None, 2) == 2  # a poll sent before shuffling: the bank's order
