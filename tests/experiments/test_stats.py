"""The statistics against references computed by hand (formulas written out here, numbers checked)."""

from __future__ import annotations

import math

import pytest

from fissionmall.experiments import stats
from fissionmall.experiments.models import Experiment, ExperimentArm
from fissionmall.experiments.results import ArmFigures, analyse


def test_two_proportion_z_test_and_intervals_match_the_hand_computation():
    # Control 100 of 1000 (10%), arm 130 of 1000 (13%).
    c = stats.two_proportion(130, 1000, 100, 1000)
    pooled = 230 / 2000  # 0.115
    se = math.sqrt(0.115 * 0.885 * (2 / 1000))  # 0.014267...
    assert se == pytest.approx(0.0142670, abs=1e-6)
    assert c.statistic == pytest.approx(0.03 / se, rel=1e-12)
    assert c.statistic == pytest.approx(2.10275, abs=1e-4)
    assert c.p_value == pytest.approx(0.035485, abs=1e-5)  # 2·(1 − Φ(2.10275))
    half = 1.959964 * math.sqrt(0.13 * 0.87 / 1000 + 0.10 * 0.90 / 1000)  # √0.0002031 = 0.0142513 → 0.0279321
    assert (c.low, c.high) == (pytest.approx(0.03 - half, abs=1e-6), pytest.approx(0.03 + half, abs=1e-6))
    assert c.low == pytest.approx(0.0020679, abs=1e-6) and c.high == pytest.approx(0.0579321, abs=1e-6)
    assert pooled == 0.115
    rate, low, high = stats.rate_interval(100, 1000)
    assert (rate, low, high) == (0.1, pytest.approx(0.0814058, abs=1e-6), pytest.approx(0.1185942, abs=1e-6))


def test_welch_matches_the_hand_computation():
    # Means 10 and 12, variances 25 and 36, 50 and 40 shoppers.
    w = stats.welch(12, 36, 40, 10, 25, 50)
    a, b = 36 / 40, 25 / 50  # 0.9 and 0.5
    se = math.sqrt(a + b)  # 1.183216
    df = (a + b) ** 2 / (a * a / 39 + b * b / 49)  # 1.96 / (0.0207692 + 0.0051020) = 75.7597
    assert df == pytest.approx(75.7597, abs=1e-3)
    assert w.statistic == pytest.approx(2 / se, rel=1e-12) and w.statistic == pytest.approx(1.690309, abs=1e-6)
    assert w.p_value == pytest.approx(0.09508, abs=2e-4)
    half = 1.991775 * se  # t(0.975, 75.76) · se (tables: 1.9918)
    assert (w.low, w.high) == (pytest.approx(2 - half, abs=1e-3), pytest.approx(2 + half, abs=1e-3))
    mean, var = stats.moments(total=6.0, squares=14.0, n=3)  # values 1, 2, 3
    assert (mean, var) == (2.0, 1.0)


def _exp(min_sample: int) -> Experiment:
    e = Experiment(id=1, min_sample=min_sample, max_cost_bp=3000, ends_at=None, ended_at=None)
    e.arms = [
        ExperimentArm(id=10, name="A", weight=1, control=True, plan={}),
        ExperimentArm(id=11, name="B", weight=1, control=False, plan={}),
    ]
    return e


def _figs(n0: int, c0: int, n1: int, c1: int) -> dict[int, ArmFigures]:
    def one(n: int, c: int) -> ArmFigures:
        return ArmFigures(
            visitors=n,
            conversions=c,
            revenue_fen=c * 10_000,
            revenue_squares=c * 100.0**2,
            paid_fen=c * 10_000,
            goods_fen=c * 12_000,
            discount_fen=c * 2000,
        )

    return {10: one(n0, c0), 11: one(n1, c1)}


def test_no_verdict_below_the_minimum_sample_even_with_a_big_difference():
    res = analyse(_exp(1000), _figs(999, 50, 999, 300))
    assert res["verdict"] == "insufficient_sample" and res["winner_arm_id"] is None
    assert "1000" in res["verdict_text"]
    # The same rates with enough visitors: B wins, and the page names its methods.
    res = analyse(_exp(1000), _figs(1000, 50, 1000, 300))
    assert res["verdict"] == "winner" and res["winner_arm_id"] == 11
    assert "z 检验" in res["methods"]["conversion"] and "Welch" in res["methods"]["revenue"]


def test_srm_blocks_the_verdict_and_guardrails_block_a_winner():
    res = analyse(_exp(100), _figs(1000, 50, 1300, 300))
    assert res["srm"]["mismatch"] and res["verdict"] == "srm"
    figs = _figs(1000, 50, 1000, 300)
    figs[11].discount_fen = figs[11].goods_fen // 2  # 50% of GMV given away
    res = analyse(_exp(100), figs)
    b = next(r for r in res["arms"] if r["id"] == 11)
    assert b["promotion_cost_bp"] == 5000 and b["guardrails"] and res["verdict"] == "no_difference"
