"""The cut algorithm: the N cuts sum exactly to start − target, each within the bounds and above zero,
the target reached on the N-th help and never before; a configuration that cannot do so is refused."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fissionmall.bargain import rules
from fissionmall.bargain.errors import BargainError


@st.composite
def configs(draw: st.DrawFn) -> dict:
    target = draw(st.integers(0, 10_000_000))
    total = draw(st.integers(1, 2_000_000))
    n = draw(st.integers(1, rules.MAX_HELPERS))
    lo = draw(st.none() | st.integers(1, max(1, total)))
    hi = draw(st.none() | st.integers(1, max(1, total * 2)))
    return {"start_fen": target + total, "target_fen": target, "helpers": n, "min_cut": lo, "max_cut": hi}


@settings(max_examples=400, deadline=None)
@given(cfg=configs(), seed=st.integers(0, 2**62), boosts=st.lists(st.integers(10_000, 50_000), max_size=100))
def test_cuts_sum_exactly_to_the_discount_each_within_bounds_and_never_zero(cfg, seed, boosts):
    refusal = rules.config_refusal(**cfg)
    if refusal is not None:
        return
    cuts = rules.plan_cuts(**cfg, seed=seed, boosts=tuple(boosts))
    total = cfg["start_fen"] - cfg["target_fen"]
    b = rules.bounds(total, cfg["min_cut"], cfg["max_cut"])
    assert len(cuts) == cfg["helpers"]
    assert sum(cuts) == total
    assert all(c > 0 and b.lo <= c <= b.hi for c in cuts)
    # The target is reached on the last help and not before.
    assert all(sum(cuts[: i + 1]) < total for i in range(len(cuts) - 1))


@settings(max_examples=300, deadline=None)
@given(cfg=configs())
def test_a_configuration_is_refused_exactly_when_no_n_cuts_within_bounds_can_sum_to_the_discount(cfg):
    total = cfg["start_fen"] - cfg["target_fen"]
    lo = cfg["min_cut"] or 1
    hi = cfg["max_cut"] or total
    feasible = lo <= hi and cfg["helpers"] * lo <= total <= cfg["helpers"] * hi
    assert (rules.config_refusal(**cfg) is None) == feasible


@given(cfg=configs(), seed=st.integers(0, 2**62))
def test_the_same_seed_gives_the_same_cuts(cfg, seed):
    assume(rules.config_refusal(**cfg) is None)
    assert rules.plan_cuts(**cfg, seed=seed) == rules.plan_cuts(**cfg, seed=seed)


def test_refusals_name_the_reason():
    base = {"start_fen": 9900, "target_fen": 3900, "helpers": 10}
    assert rules.config_refusal(**base, min_cut=None, max_cut=None) is None
    assert rules.config_refusal(**base, min_cut=None, max_cut=500) == BargainError.CUT_BOUNDS_UNREACHABLE
    assert rules.config_refusal(**base, min_cut=700, max_cut=None) == BargainError.CUT_BOUNDS_TOO_LARGE
    assert rules.config_refusal(**base, min_cut=0, max_cut=None) == BargainError.CUT_BOUNDS_INVALID
    assert rules.config_refusal(**base, min_cut=-5, max_cut=None) == BargainError.CUT_BOUNDS_INVALID
    assert rules.config_refusal(**base, min_cut=900, max_cut=800) == BargainError.CUT_BOUNDS_INVALID
    assert rules.config_refusal(start_fen=3900, target_fen=3900, helpers=5, min_cut=None, max_cut=None) == (
        BargainError.TARGET_NOT_BELOW_START
    )
    assert rules.config_refusal(start_fen=9900, target_fen=0, helpers=0, min_cut=None, max_cut=None) == (
        BargainError.HELPERS_OUT_OF_RANGE
    )
    assert rules.config_refusal(start_fen=9900, target_fen=0, helpers=101, min_cut=None, max_cut=None) == (
        BargainError.HELPERS_OUT_OF_RANGE
    )
    text = rules.refusal_text(BargainError.CUT_BOUNDS_UNREACHABLE, **base, min_cut=None, max_cut=500)
    assert text == "10 人每人最多砍 ¥5.00，合计 ¥50.00，不够砍掉 ¥60.00：请调高每刀上限或增加助力人数"


def test_the_last_help_takes_exactly_what_is_left():
    b = rules.Bounds(lo=1, hi=1000)
    assert rules.cut_range(37, 1, b) == (37, 37)
    assert rules.next_cut(remaining=37, helps_left=1, b=b, seed=1, index=9) == 37


def test_a_new_shoppers_boost_stays_inside_the_range_that_keeps_the_rest_reachable():
    b = rules.Bounds(lo=100, hi=2000)
    low, high = rules.cut_range(6000, 5, b)
    assert (low, high) == (100, 2000)
    assert rules.next_cut(remaining=6000, helps_left=5, b=b, seed=7, index=0, boost_bp=50_000) == 2000
