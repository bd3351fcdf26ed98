from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fissionmall.core.money import apply_bp, split, yuan


@given(st.integers(0, 10**10), st.lists(st.integers(0, 10**7), min_size=1, max_size=40))
def test_split_parts_sum_to_the_whole_and_follow_the_weights(total, weights):
    parts = split(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    assert all(p >= 0 for p in parts)
    wsum = sum(weights)
    if wsum:
        for p, w in zip(parts, weights, strict=True):
            # Largest remainder: each part is its exact share rounded down or up, never further.
            exact_floor = total * w // wsum
            assert exact_floor <= p <= exact_floor + 1
            if w == 0:
                assert p == 0


def test_split_gives_the_leftover_fen_to_the_largest_remainders_first():
    assert split(100, [1, 1, 1]) == [34, 33, 33]
    assert split(10, [3, 3, 4]) == [3, 3, 4]
    assert split(5, [0, 0]) == [3, 2]  # all-zero weights split evenly
    assert split(0, []) == []


def test_split_refuses_negative_input():
    with pytest.raises(ValueError):
        split(-1, [1])
    with pytest.raises(ValueError):
        split(10, [1, -1])
    with pytest.raises(ValueError):
        split(1, [])


def test_apply_bp_rounds_half_up_in_integer_fen():
    assert apply_bp(1000, 1500) == 150
    assert apply_bp(333, 5000) == 167  # 166.5 → 167
    assert apply_bp(1, 4999) == 0
    assert apply_bp(99, 10_000) == 99


def test_yuan_formats_fen_without_floats():
    assert yuan(1990) == "19.90"
    assert yuan(5) == "0.05"
    assert yuan(-120) == "-1.20"
