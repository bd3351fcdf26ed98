"""The dashboard's figures over a date range (shop dates, both ends included), read from the rollups.

- `overview`: goods GMV on the payment date less refunds on the refund date, to the fen of the orders
  table; top-ups and paid-membership fees apart (a top-up is a liability until spent, not revenue).
- `tools`: per tool participants → orders → paid GMV → discount cost and commission → net, and the new
  shoppers each first brought. Net = GMV after refunds − commission (the discount is already out of
  what the shopper paid, so it is shown as the tool's cost, not taken off twice).
- `funnels`: viewed → participated → ordered → paid per tool, distinct people, the step losing most marked.
- `distributors`: each distributor's orders by tool (拼团, 秒杀, 砍价, other) with goods and commission.
- `repurchase`: of the shoppers first brought in the range, how many paid again, by that first tool.
- `attribution`: first touch and last touch side by side (analytics_attributions).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts import service as accounts
from fissionmall.analytics.kinds import NON_GOODS_SOURCES, TOOLS
from fissionmall.analytics.models import OrderAttribution
from fissionmall.analytics.rollup_models import (
    STEP_CODES,
    CustomerFirst,
    DailyOrders,
    DailyPerson,
    DailyRollup,
    LastDayCount,
)
from fissionmall.core.db import is_postgres
from fissionmall.distribution.ledger import EARNING_KINDS
from fissionmall.distribution.models import Commission, DistributionOrder
from fissionmall.orders.models import Order
from fissionmall.settings import get_settings

LABELS: dict[str, str] = {**TOOLS, "points": "积分抵扣", "wallet_topup": "储值充值"}
# The per-tool table's rows, in the console's order (a tool with nothing in the range still shows).
TOOL_ROWS = (
    "groupbuy",
    "seckill",
    "bargain",
    "coupons",
    "promotions",
    "distribution",
    "membership",
    "points_mall",
    "normal",
)
FUNNEL_STEPS = ("viewed", "participated", "ordered", "paid")
STEP_ZH = {"viewed": "浏览", "participated": "参与", "ordered": "下单", "paid": "支付"}
FUNNEL_TOOLS = ("groupbuy", "seckill", "bargain", "coupons", "distribution")
DISTRIBUTOR_TOOLS = ("groupbuy", "seckill", "bargain")


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(get_settings().timezone)
    return datetime.combine(start, time(), tz), datetime.combine(end + timedelta(days=1), time(), tz)


def _rate_bp(part: int, whole: int) -> int | None:
    return part * 10_000 // whole if whole else None


async def _order_rows(s: AsyncSession, *, start: date, end: date, via: str) -> dict[str, dict[str, int]]:
    d = DailyOrders
    q = (
        select(d.tool, func.sum(d.orders), func.sum(d.paid_fen), func.sum(d.refund_fen), func.sum(d.discount_fen))
        .where(d.day >= start, d.day <= end, d.via == via)
        .group_by(d.tool)
    )
    out: dict[str, dict[str, int]] = {}
    for tool, n, paid, refund, disc in (await s.execute(q)).all():
        out[tool] = {
            "orders": int(n or 0),
            "paid_fen": int(paid or 0),
            "refund_fen": int(refund or 0),
            "discount_fen": int(disc or 0),
        }
    return out


async def commissions(s: AsyncSession, *, start: date, end: date) -> dict[str, int]:
    """Commission earned in the range (accrued less reversed and voided, by the entry's time), by order source."""
    lo, hi = _bounds(start, end)
    q = (
        select(Order.source, func.sum(Commission.amount_fen))
        .join(Order, Order.id == Commission.order_id)
        .where(Commission.kind.in_(EARNING_KINDS), Commission.created_at >= lo, Commission.created_at < hi)
        .group_by(Order.source)
    )
    return {src: int(v or 0) for src, v in (await s.execute(q)).all()}


async def daily(s: AsyncSession, *, start: date, end: date) -> list[dict[str, Any]]:
    """Goods GMV per day (paid, refunded that day, net) and orders: the overview's chart."""
    d = DailyOrders
    q = (
        select(d.day, func.sum(d.orders), func.sum(d.paid_fen), func.sum(d.refund_fen))
        .where(d.day >= start, d.day <= end, d.via == "source", d.tool.not_in(NON_GOODS_SOURCES))
        .group_by(d.day)
    )
    got = {day: (int(n or 0), int(p or 0), int(r or 0)) for day, n, p, r in (await s.execute(q)).all()}
    out, day = [], start
    while day <= end:
        n, p, r = got.get(day, (0, 0, 0))
        out.append({"day": day.isoformat(), "orders": n, "paid_fen": p, "refund_fen": r, "gmv_fen": p - r})
        day += timedelta(days=1)
    return out


async def overview(s: AsyncSession, *, start: date, end: date) -> dict[str, Any]:
    """The overview figures: goods GMV net of refunds on their dates; top-ups and membership fees apart."""
    rows = await _order_rows(s, start=start, end=end, via="source")
    goods = {
        k: sum(v[k] for t, v in rows.items() if t not in NON_GOODS_SOURCES)
        for k in ("orders", "paid_fen", "refund_fen", "discount_fen")
    }
    steps = await _order_rows(s, start=start, end=end, via="step")
    discount = goods["discount_fen"] + sum(v["discount_fen"] for v in steps.values())
    commission = sum((await commissions(s, start=start, end=end)).values())
    new = await s.scalar(select(func.count()).where(CustomerFirst.first_day >= start, CustomerFirst.first_day <= end))
    apart = []
    for src in sorted(NON_GOODS_SOURCES):
        r = rows.get(src, {"orders": 0, "paid_fen": 0, "refund_fen": 0})
        apart.append(
            {
                "source": src,
                "label": LABELS.get(src, src),
                "orders": r["orders"],
                "paid_fen": r["paid_fen"],
                "refund_fen": r["refund_fen"],
                "net_fen": r["paid_fen"] - r["refund_fen"],
            }
        )
    return {
        "orders": goods["orders"],
        "paid_fen": goods["paid_fen"],
        "refund_fen": goods["refund_fen"],
        "gmv_fen": goods["paid_fen"] - goods["refund_fen"],
        "discount_fen": discount,
        "commission_fen": commission,
        "net_fen": goods["paid_fen"] - goods["refund_fen"] - commission,
        "new_customers": int(new or 0),
        "non_goods": apart,
    }


async def _people(s: AsyncSession, *, start: date, end: date, steps: tuple[str, ...]) -> dict[tuple[str, str], int]:
    """Distinct people per (tool, step) over the range: from the histogram of last days when the range
    reaches the newest day rolled up (近 7 / 30 天, today included), else by a distinct over the person-days."""
    p = DailyPerson
    names = {code: st for st, code in STEP_CODES.items()}
    codes = [STEP_CODES[st] for st in steps]
    newest = await s.scalar(select(func.max(p.day)))
    if newest is None:
        return {}
    if end >= newest:
        h = LastDayCount
        q = (
            select(h.tool, h.step, func.sum(h.persons))
            .where(h.last_day >= start, h.step.in_(codes))
            .group_by(h.tool, h.step)
        )
        return {(tool, names[code]): int(n or 0) for tool, code, n in (await s.execute(q)).all() if n}
    if is_postgres(s):
        # A month of a large shop is a few hundred thousand (tool, step, person) integer triples: hashed in
        # memory rather than spilled to disk at the default 4 MB (SET LOCAL: this transaction only).
        await s.execute(text("SET LOCAL work_mem = '128MB'"))
    # DISTINCT in a subquery, then a count: PostgreSQL hashes the triples (read from the primary key alone)
    # instead of sorting them per group.
    seen = (
        select(p.tool.label("tool"), p.step.label("step"), p.person)
        .where(p.day >= start, p.day <= end, p.step.in_(codes))
        .distinct()
        .subquery()
    )
    q = select(seen.c.tool, seen.c.step, func.count()).group_by(seen.c.tool, seen.c.step)
    return {(tool, names[code]): int(n) for tool, code, n in (await s.execute(q)).all()}


async def event_counts(s: AsyncSession, *, start: date, end: date, kinds: Any) -> dict[tuple[str, str], int]:
    """How many events of these kinds per (tool, kind) in the range (page views, shares: not distinct)."""
    d = DailyRollup
    q = (
        select(d.tool, d.kind, func.sum(d.events))
        .where(d.day >= start, d.day <= end, d.kind.in_(kinds))
        .group_by(d.tool, d.kind)
    )
    return {(tool, kind): int(n or 0) for tool, kind, n in (await s.execute(q)).all()}


async def tools(s: AsyncSession, *, start: date, end: date) -> list[dict[str, Any]]:
    """Per tool: views and shares, participants, orders, GMV, refunds, discount cost, commission, net, new shoppers."""
    src = await _order_rows(s, start=start, end=end, via="source")
    via_step = await _order_rows(s, start=start, end=end, via="step")
    comm = await commissions(s, start=start, end=end)
    people = await _people(s, start=start, end=end, steps=("participated",))
    q = (
        select(CustomerFirst.first_tool, func.count())
        .where(CustomerFirst.first_day >= start, CustomerFirst.first_day <= end)
        .group_by(CustomerFirst.first_tool)
    )
    new = {t: int(n) for t, n in (await s.execute(q)).all()}
    dist = await _distribution_orders(s, start=start, end=end)
    counted = await event_counts(s, start=start, end=end, kinds=("page_view", "share"))
    out = []
    for tool in TOOL_ROWS:
        if tool == "distribution":
            o = dist
            commission = sum(comm.values())
        else:
            o = src.get(tool) or via_step.get(tool) or {"orders": 0, "paid_fen": 0, "refund_fen": 0, "discount_fen": 0}
            commission = comm.get(tool, 0)
        gmv = o["paid_fen"] - o["refund_fen"]
        out.append(
            {
                "tool": tool,
                "label": LABELS[tool],
                "views": counted.get((tool, "page_view"), 0),
                "shares": counted.get((tool, "share"), 0),
                "participants": people.get((tool, "participated"), 0),
                "orders": o["orders"],
                "paid_fen": o["paid_fen"],
                "refund_fen": o["refund_fen"],
                "gmv_fen": gmv,
                "discount_fen": o["discount_fen"],
                "commission_fen": commission,
                "net_fen": gmv - commission,
                "new_customers": new.get(tool, 0),
            }
        )
    return out


async def _distribution_orders(s: AsyncSession, *, start: date, end: date) -> dict[str, int]:
    """Orders a distributor brought, paid in the range: their count and paid GMV (refunds on their dates)."""
    lo, hi = _bounds(start, end)
    q = (
        select(func.count(), func.coalesce(func.sum(Order.paid_fen), 0))
        .select_from(DistributionOrder)
        .join(Order, Order.id == DistributionOrder.order_id)
        .where(DistributionOrder.paid_at >= lo, DistributionOrder.paid_at < hi)
    )
    n, paid = (await s.execute(q)).one()
    return {"orders": int(n or 0), "paid_fen": int(paid or 0), "refund_fen": 0, "discount_fen": 0}


async def funnels(s: AsyncSession, *, start: date, end: date) -> list[dict[str, Any]]:
    """Per tool: viewed → participated → ordered → paid (distinct people), each step's rate, the worst marked."""
    people = await _people(s, start=start, end=end, steps=FUNNEL_STEPS)
    out = []
    for tool in FUNNEL_TOOLS:
        counts = [people.get((tool, st), 0) for st in FUNNEL_STEPS]
        steps = [
            {"step": st, "label": STEP_ZH[st], "people": n, "rate_bp": None, "worst": False}
            for st, n in zip(FUNNEL_STEPS, counts, strict=True)
        ]
        losses = []
        for i in range(1, len(steps)):
            steps[i]["rate_bp"] = _rate_bp(counts[i], counts[i - 1])
            if counts[i - 1]:
                losses.append((counts[i - 1] - counts[i]) * 10_000 // counts[i - 1])
            else:
                losses.append(-1)
        worst = max(range(len(losses)), key=lambda i: losses[i]) if any(x > 0 for x in losses) else None
        if worst is not None:
            steps[worst + 1]["worst"] = True
        out.append(
            {
                "tool": tool,
                "label": LABELS[tool],
                "steps": steps,
                "worst_step": steps[worst + 1]["step"] if worst is not None else None,
            }
        )
    return out


async def distributors(s: AsyncSession, *, start: date, end: date, limit: int = 200) -> list[dict[str, Any]]:
    """Each distributor's orders in the range by tool (拼团, 秒杀, 砍价, other), goods fen and commission."""
    lo, hi = _bounds(start, end)
    d = DistributionOrder
    q = (
        select(d.level1_customer_id, d.source, func.count(), func.sum(d.goods_fen), func.sum(d.commission_fen))
        .where(d.paid_at >= lo, d.paid_at < hi)
        .group_by(d.level1_customer_id, d.source)
    )
    per: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"by_tool": defaultdict(int), "orders": 0, "goods_fen": 0, "commission_fen": 0}
    )
    for cid, source, n, goods, comm in (await s.execute(q)).all():
        row = per[int(cid)]
        key = source if source in DISTRIBUTOR_TOOLS else "other"
        row["by_tool"][key] += int(n)
        row["orders"] += int(n)
        row["goods_fen"] += int(goods or 0)
        row["commission_fen"] += int(comm or 0)
    top = sorted(per.items(), key=lambda kv: (-kv[1]["orders"], kv[0]))[:limit]
    names = await accounts.nicknames_of(s, customer_ids=[cid for cid, _ in top])
    return [
        {
            "distributor_customer_id": cid,
            "nickname": names.get(cid, f"#{cid}"),
            **{t: r["by_tool"].get(t, 0) for t in (*DISTRIBUTOR_TOOLS, "other")},
            "orders": r["orders"],
            "goods_fen": r["goods_fen"],
            "commission_fen": r["commission_fen"],
        }
        for cid, r in top
    ]


async def repurchase(s: AsyncSession, *, start: date, end: date) -> list[dict[str, Any]]:
    """Of the shoppers whose first paid order fell in the range, how many paid again, by that order's tool."""
    c = CustomerFirst
    q = (
        select(c.first_tool, func.count(), func.sum(case((c.paid_orders >= 2, 1), else_=0)))
        .where(c.first_day >= start, c.first_day <= end)
        .group_by(c.first_tool)
        .order_by(func.count().desc(), c.first_tool)
    )
    return [
        {
            "tool": t,
            "label": LABELS.get(t, t),
            "shoppers": int(n),
            "repurchased": int(r or 0),
            "rate_bp": _rate_bp(int(r or 0), int(n)),
        }
        for t, n, r in (await s.execute(q)).all()
    ]


async def attribution(s: AsyncSession, *, start: date, end: date) -> list[dict[str, Any]]:
    """Orders and paid fen per tool by first touch and by last touch, side by side."""
    a = OrderAttribution
    q = (
        select(a.tool, a.model, func.count(), func.sum(a.paid_fen))
        .where(a.day >= start, a.day <= end, and_(a.model.in_(("first", "last"))))
        .group_by(a.tool, a.model)
    )
    rows: dict[str, dict[str, Any]] = {}
    for tool, model, n, paid in (await s.execute(q)).all():
        r = rows.setdefault(
            tool,
            {
                "tool": tool,
                "label": LABELS.get(tool, tool),
                "first_orders": 0,
                "first_paid_fen": 0,
                "last_orders": 0,
                "last_paid_fen": 0,
            },
        )
        r[f"{model}_orders"] = int(n)
        r[f"{model}_paid_fen"] = int(paid or 0)
    return sorted(rows.values(), key=lambda r: (-(r["first_orders"] + r["last_orders"]), r["tool"]))
