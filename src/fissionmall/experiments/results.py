"""An experiment's results: visitors, conversions and revenue per visitor per arm, with the tests.

A **visitor** is a shopper exposed to the arm before the test ended. A **conversion** is a visitor with
at least one paid order created after their exposure and before the end (holding the experiment's
product, for a product test). **Revenue** is what those orders paid net of refunds. Guardrails: the
refund rate (refunded / paid) and the promotion cost (discounts / goods GMV) of the arm's orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.experiments import stats
from fissionmall.experiments.models import Experiment, Exposure
from fissionmall.orders.models import Order, OrderLine

REFUND_MARGIN_BP = 500  # an arm refunding 5 points more than the control breaks the guardrail


@dataclass
class ArmFigures:
    visitors: int = 0
    conversions: int = 0
    revenue_fen: int = 0
    revenue_squares: float = 0.0  # Σ (a visitor's revenue in yuan)² for the variance
    paid_fen: int = 0
    refunded_fen: int = 0
    discount_fen: int = 0
    goods_fen: int = 0


async def figures(s: AsyncSession, *, e: Experiment) -> dict[int, ArmFigures]:
    """Per arm id: visitors and the per-visitor sums of their orders (one grouped query each)."""
    cutoff = e.ended_at or e.ends_at
    out = {a.id: ArmFigures() for a in e.arms}
    seen = select(Exposure.arm_id, func.count()).where(Exposure.experiment_id == e.id, Exposure.at < cutoff)
    for arm_id, n in (await s.execute(seen.group_by(Exposure.arm_id))).all():
        if arm_id in out:
            out[arm_id].visitors = int(n)
    cond = [
        Exposure.experiment_id == e.id,
        Exposure.at < cutoff,
        Order.customer_id == Exposure.customer_id,
        Order.paid_at.is_not(None),
        Order.created_at >= Exposure.at,
        Order.created_at < cutoff,
    ]
    if e.product_id is not None:
        cond.append(exists().where(OrderLine.order_id == Order.id, OrderLine.product_id == e.product_id))
    rows = await s.execute(
        select(
            Exposure.arm_id,
            Exposure.customer_id,
            func.sum(Order.paid_fen),
            func.sum(Order.refunded_fen),
            func.sum(Order.discount_fen),
            func.sum(Order.goods_fen),
        )
        .select_from(Exposure)
        .join(Order, and_(*cond))
        .group_by(Exposure.arm_id, Exposure.customer_id)
    )
    for arm_id, _cid, paid, refunded, discount, goods in rows.all():
        f = out.get(arm_id)
        if f is None:
            continue
        net = int(paid or 0) - int(refunded or 0)
        f.conversions += 1
        f.revenue_fen += net
        f.revenue_squares += (net / 100) ** 2
        f.paid_fen += int(paid or 0)
        f.refunded_fen += int(refunded or 0)
        f.discount_fen += int(discount or 0)
        f.goods_fen += int(goods or 0)
    return out


def _bp(part: int, whole: int) -> int:
    return round(part * 10_000 / whole) if whole else 0


def _cmp(c: stats.Comparison) -> dict[str, float]:
    return {"diff": c.diff, "low": c.low, "high": c.high, "statistic": c.statistic, "p_value": c.p_value}


def analyse(e: Experiment, figs: dict[int, ArmFigures]) -> dict[str, Any]:
    """The result page's figures and verdict from the arms' figures (pure)."""
    arms = list(e.arms)
    control = next((a for a in arms if a.control), arms[0])
    c = figs[control.id]
    c_mean, c_var = stats.moments(c.revenue_fen / 100, c.revenue_squares, c.visitors)
    c_refund = _bp(c.refunded_fen, c.paid_fen)
    srm = stats.srm([figs[a.id].visitors for a in arms], [a.weight for a in arms])
    rows: list[dict[str, Any]] = []
    for a in arms:
        f = figs[a.id]
        rate, low, high = stats.rate_interval(f.conversions, f.visitors)
        mean, var = stats.moments(f.revenue_fen / 100, f.revenue_squares, f.visitors)
        refund_bp, cost_bp = _bp(f.refunded_fen, f.paid_fen), _bp(f.discount_fen, f.goods_fen)
        alarms = []
        if cost_bp > e.max_cost_bp:
            alarms.append(f"优惠成本占 GMV {cost_bp / 100:.1f}%，超过上限 {e.max_cost_bp / 100:.1f}%")
        if a.id != control.id and refund_bp > c_refund + REFUND_MARGIN_BP:
            alarms.append(f"退款率 {refund_bp / 100:.1f}%，比对照组高 {(refund_bp - c_refund) / 100:.1f} 个百分点")
        row: dict[str, Any] = {
            "id": a.id,
            "name": a.name,
            "weight": a.weight,
            "control": a.id == control.id,
            "plan": a.plan,
            "visitors": f.visitors,
            "conversions": f.conversions,
            "conversion_rate": rate,
            "conversion_ci": [low, high],
            "revenue_fen": f.revenue_fen,
            "revenue_per_visitor_fen": round(mean * 100, 2),
            "refund_rate_bp": refund_bp,
            "promotion_cost_bp": cost_bp,
            "guardrails": alarms,
            "conversion_vs_control": None,
            "revenue_vs_control": None,
        }
        if a.id != control.id:
            row["conversion_vs_control"] = _cmp(
                stats.two_proportion(f.conversions, f.visitors, c.conversions, c.visitors)
            )
            w = stats.welch(mean, var, f.visitors, c_mean, c_var, c.visitors)
            row["revenue_vs_control"] = {
                k: (v * 100 if k in ("diff", "low", "high") else v) for k, v in _cmp(w).items()
            }  # fen per visitor
        rows.append(row)
    verdict, text, winner = _verdict(e, rows, srm)
    return {
        "experiment_id": e.id,
        "verdict": verdict,
        "verdict_text": text,
        "winner_arm_id": winner,
        "control_arm_id": control.id,
        "methods": stats.METHOD,
        "srm": {"chi2": srm.chi2, "p_value": srm.p_value, "mismatch": srm.mismatch},
        "arms": rows,
    }


def _verdict(e: Experiment, rows: list[dict[str, Any]], srm: stats.Srm) -> tuple[str, str, int | None]:
    least = min(r["visitors"] for r in rows)
    if least < e.min_sample:
        return (
            "insufficient_sample",
            f"样本不足：每组至少 {e.min_sample} 位访客才下结论（目前最少的一组 {least} 位）",
            None,
        )
    if srm.mismatch:
        return "srm", f"样本比例异常（SRM 卡方 p = {srm.p_value:.2g}）：分流或曝光记录有问题，暂不下结论", None
    better = [
        r
        for r in rows
        if not r["control"]
        and not r["guardrails"]
        and r["conversion_vs_control"]["p_value"] < stats.ALPHA
        and r["conversion_vs_control"]["diff"] > 0
        and not (r["revenue_vs_control"]["p_value"] < stats.ALPHA and r["revenue_vs_control"]["diff"] < 0)
    ]
    if not better:
        return "no_difference", "各组与对照组相比没有显著更好的（或触发了护栏指标）", None
    best = max(better, key=lambda r: r["conversion_vs_control"]["diff"])
    p = best["conversion_vs_control"]["p_value"]
    return "winner", f"「{best['name']}」转化率显著高于对照组（p = {p:.2g}），护栏指标正常", best["id"]
