"""Assignment: the same shopper gets the same arm in another process; 10,000 shoppers split within SRM
bounds; widening the coverage adds shoppers and moves none."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from fissionmall.experiments import rules, stats

WEIGHTS = [1, 1, 2]


def test_the_same_shopper_gets_the_same_arm_in_another_process():
    ids = list(range(1, 2001))
    here = [rules.assign(7, c, weights=WEIGHTS, coverage_bp=5000) for c in ids]
    code = (
        "import json, sys\n"
        "from fissionmall.experiments import rules\n"
        "print(json.dumps([rules.assign(7, c, weights=[1, 1, 2], coverage_bp=5000) for c in range(1, 2001)]))\n"
    )
    # A fresh interpreter with another hash seed: Python's own hash() would differ, SHA-256 does not.
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) == here
    assert {None, 0, 1, 2} == set(here)


def test_ten_thousand_shoppers_split_by_the_weights_within_srm_bounds():
    arms = [rules.assign(42, c, weights=WEIGHTS, coverage_bp=10_000) for c in range(1, 10_001)]
    counts = [arms.count(i) for i in range(len(WEIGHTS))]
    assert sum(counts) == 10_000
    check = stats.srm(counts, WEIGHTS)
    assert not check.mismatch and check.p_value > 0.001, (counts, check)
    # And the check does see a real mismatch: the same counts against equal weights.
    assert stats.srm(counts, [1, 1, 1]).mismatch


def test_widening_the_coverage_adds_shoppers_and_moves_none():
    before = {c: rules.assign(3, c, weights=WEIGHTS, coverage_bp=2000) for c in range(1, 5001)}
    after = {c: rules.assign(3, c, weights=WEIGHTS, coverage_bp=6000) for c in range(1, 5001)}
    inside = [c for c, a in before.items() if a is not None]
    assert 800 < len(inside) < 1200
    assert all(after[c] == before[c] for c in inside)
    assert 2700 < sum(a is not None for a in after.values()) < 3300


def test_cumulative_buckets():
    assert [rules.pick([1, 3], u) for u in (0.0, 0.2499, 0.25, 0.9999)] == [0, 0, 1, 1]
