"""The statistics of a result page (pure, scipy): SRM chi-squared, two-proportion z-test, Welch's t-test.

Every function names its method in `METHOD`, and the page prints it:
- sample-ratio mismatch: Pearson's chi-squared goodness of fit of the visitors per arm against the arms'
  weights (`scipy.stats.chisquare`); p < 0.001 is a warning that assignment or exposure is broken;
- conversion: each arm's rate with a Wald interval p ± z·√(p(1−p)/n); each arm against the control with a
  two-sided two-proportion z-test (pooled standard error) and a Wald interval of the difference (unpooled);
- revenue per visitor: Welch's t-test (unequal variances, Welch–Satterthwaite degrees of freedom) from each
  arm's mean and variance over all its visitors (those who bought nothing count as 0), and its interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

ALPHA = 0.05
SRM_ALPHA = 0.001


def _scipy() -> ModuleType:
    """scipy.stats, imported on first use: it costs the app's start-up about a second otherwise."""
    from scipy import stats

    return stats


METHOD = {
    "srm": "样本比例检验（SRM）：皮尔逊卡方拟合优度检验，p < 0.001 报警",
    "conversion": "转化率：双比例 z 检验（合并标准误），95% Wald 置信区间",
    "revenue": "人均收入：Welch t 检验（方差不等），95% 置信区间",
}


@dataclass(frozen=True)
class Srm:
    chi2: float
    p_value: float
    mismatch: bool


def srm(observed: Sequence[int], weights: Sequence[int]) -> Srm:
    """Chi-squared of the visitors per arm against what the weights expect."""
    n = sum(observed)
    if n == 0 or len(observed) < 2:
        return Srm(0.0, 1.0, False)
    total = sum(weights)
    expected = [n * w / total for w in weights]
    chi2, p = _scipy().chisquare(list(observed), expected)
    return Srm(float(chi2), float(p), bool(p < SRM_ALPHA))


def z_crit(alpha: float = ALPHA) -> float:
    """The two-sided normal quantile (1.959964… at 5%)."""
    return float(_scipy().norm.ppf(1 - alpha / 2))


def rate_interval(conversions: int, n: int, alpha: float = ALPHA) -> tuple[float, float, float]:
    """(rate, low, high): the Wald interval of one arm's conversion rate, clipped to [0, 1]."""
    if n == 0:
        return 0.0, 0.0, 0.0
    p = conversions / n
    half = z_crit(alpha) * math.sqrt(p * (1 - p) / n)
    return p, max(0.0, p - half), min(1.0, p + half)


@dataclass(frozen=True)
class Comparison:
    diff: float  # arm − control
    low: float
    high: float
    statistic: float
    p_value: float


def two_proportion(c1: int, n1: int, c0: int, n0: int, alpha: float = ALPHA) -> Comparison:
    """The arm (c1 of n1) against the control (c0 of n0): z with the pooled SE, interval with the unpooled."""
    if n1 == 0 or n0 == 0:
        return Comparison(0.0, 0.0, 0.0, 0.0, 1.0)
    p1, p0 = c1 / n1, c0 / n0
    pooled = (c1 + c0) / (n1 + n0)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    z = (p1 - p0) / se_pooled if se_pooled > 0 else 0.0
    p_value = float(2 * _scipy().norm.sf(abs(z))) if se_pooled > 0 else 1.0
    half = z_crit(alpha) * math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return Comparison(p1 - p0, p1 - p0 - half, p1 - p0 + half, z, p_value)


def moments(total: float, squares: float, n: int) -> tuple[float, float]:
    """(mean, sample variance) of n values from their sum and sum of squares."""
    if n == 0:
        return 0.0, 0.0
    mean = total / n
    var = max(0.0, (squares - n * mean * mean) / (n - 1)) if n > 1 else 0.0
    return mean, var


def welch(m1: float, v1: float, n1: int, m0: float, v0: float, n0: int, alpha: float = ALPHA) -> Comparison:
    """Welch's t-test of mean 1 against mean 0 (sample variances), with the interval of the difference."""
    if n1 < 2 or n0 < 2:
        return Comparison(m1 - m0, 0.0, 0.0, 0.0, 1.0)
    a, b = v1 / n1, v0 / n0
    se = math.sqrt(a + b)
    if se == 0:
        return Comparison(m1 - m0, m1 - m0, m1 - m0, 0.0, 1.0)
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n0 - 1))
    t = (m1 - m0) / se
    p_value = float(_scipy().ttest_ind_from_stats(m1, math.sqrt(v1), n1, m0, math.sqrt(v0), n0, equal_var=False).pvalue)
    half = float(_scipy().t.ppf(1 - alpha / 2, df)) * se
    return Comparison(m1 - m0, m1 - m0 - half, m1 - m0 + half, t, p_value)
