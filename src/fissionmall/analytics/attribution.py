"""Which tool and which distributor brought a paid order: first touch and last touch, side by side.

A touch is something the shopper did within the window (analytics/config.py, 7 days by default) before
the payment: a share link opened (a distributor's link counts for 分销 and that distributor; another share
page for its tool), a tool joined (a participation: a flash-sale attempt, a group opened or joined, a
bargain started or helped, a coupon claimed), and the order itself when a tool placed it (its `source`:
seckill, groupbuy, bargain …). The earliest touch is the first, the latest the last; without any the
order's own source stands for both, as it always does for a top-up or a membership fee (not goods). A
row's distributor is the touch's own (a distributor's link) or else the one the shopper was bound to when
paying. A link opened before logging in is the shopper's touch too: the anonymous events of the device
they last logged in from count as theirs. Two rows per paid order, written once (a unique key on order
and model, `ON CONFLICT DO NOTHING`), so a redelivered `OrderPaid` changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import Customer
from fissionmall.analytics.config import get_window_days
from fissionmall.analytics.kinds import NON_GOODS_SOURCES, PARTICIPATION_KINDS
from fissionmall.analytics.models import AnalyticsEvent, OrderAttribution
from fissionmall.analytics.recorder import shop_day
from fissionmall.core.db import is_postgres

# A distributor's application is not a reason to buy: it is no touch.
TOUCH_KINDS = frozenset({"share_open"} | (PARTICIPATION_KINDS - {"distributor_apply"}))
# An order of these sources was placed by a tool, so the order is itself a touch of that tool.
PLAIN_SOURCES = frozenset({"normal", "wallet_topup", "vip"})


@dataclass(frozen=True)
class Touch:
    at: datetime
    tool: str
    distributor_id: int | None
    event_id: int | None


def touch_of(kind: str, tool: str | None, distributor_id: int | None) -> str | None:
    """The tool a stored event counts for as a touch (None: it counts for none)."""
    if kind == "share_open" and distributor_id is not None:
        return "distribution"
    return tool


async def touches(s: AsyncSession, *, customer_id: int, since: datetime, until: datetime, order_id: int) -> list[Touch]:
    """The shopper's touches from `since` to `until`, oldest first: their own, and those their phone made
    before they logged in (anonymous events of their device); participations of other orders excluded."""
    cols = (
        AnalyticsEvent.id,
        AnalyticsEvent.at,
        AnalyticsEvent.kind,
        AnalyticsEvent.tool,
        AnalyticsEvent.distributor_id,
        AnalyticsEvent.order_id,
    )
    span = (AnalyticsEvent.at >= since, AnalyticsEvent.at <= until, AnalyticsEvent.kind.in_(TOUCH_KINDS))
    found = list((await s.execute(select(*cols).where(AnalyticsEvent.customer_id == customer_id, *span))).all())
    device = await s.scalar(select(Customer.last_device_id).where(Customer.id == customer_id))
    if device:
        anonymous = AnalyticsEvent.customer_id.is_(None), AnalyticsEvent.device_id == device[:64]
        found += (await s.execute(select(*cols).where(*anonymous, *span))).all()
    out = []
    for r in sorted(found, key=lambda r: (r.at, r.id)):
        if r.order_id is not None and r.order_id != order_id:
            continue  # e.g. the flash-sale attempt that became another order
        tool = touch_of(r.kind, r.tool, r.distributor_id)
        if tool is not None:
            out.append(Touch(at=r.at, tool=tool, distributor_id=r.distributor_id, event_id=r.id))
    return out


async def attribute(
    s: AsyncSession,
    *,
    order_id: int,
    customer_id: int,
    source: str,
    created_at: datetime,
    paid_at: datetime,
    paid_fen: int,
    distributor_id: int | None,
) -> int:
    """Write the order's first- and last-touch rows (once); how many were new (0 on a redelivery)."""
    window = timedelta(days=await get_window_days(s))
    found: list[Touch] = []
    if source not in NON_GOODS_SOURCES:  # a top-up or a membership fee is its own tool's, whatever came before
        found = await touches(s, customer_id=customer_id, since=paid_at - window, until=paid_at, order_id=order_id)
    if source not in PLAIN_SOURCES:
        found.append(Touch(at=created_at, tool=source, distributor_id=None, event_id=None))
        found.sort(key=lambda t: (t.at, t.event_id is None, t.event_id or 0))
    own = Touch(at=created_at, tool=source, distributor_id=None, event_id=None)
    first, last = (found[0], found[-1]) if found else (own, own)
    day = shop_day(paid_at)
    rows = [
        {
            "order_id": order_id,
            "model": model,
            "day": day,
            "tool": t.tool,
            "distributor_id": t.distributor_id if t.distributor_id is not None else distributor_id,
            "paid_fen": paid_fen,
            "touch_event_id": t.event_id,
        }
        for model, t in (("first", first), ("last", last))
    ]
    ins = pg_insert(OrderAttribution) if is_postgres(s) else sqlite_insert(OrderAttribution)
    stmt = ins.values(rows).on_conflict_do_nothing(index_elements=["order_id", "model"])
    return len((await s.execute(stmt.returning(OrderAttribution.id))).all())


async def summary(s: AsyncSession, *, start: date, end: date) -> list[dict[str, Any]]:
    """Paid orders by model, tool and distributor for the payment days `start`..`end` (both included)."""
    rows = await s.execute(
        select(
            OrderAttribution.model,
            OrderAttribution.tool,
            OrderAttribution.distributor_id,
            func.count().label("orders"),
            func.coalesce(func.sum(OrderAttribution.paid_fen), 0).label("paid_fen"),
        )
        .where(OrderAttribution.day >= start, OrderAttribution.day <= end)
        .group_by(OrderAttribution.model, OrderAttribution.tool, OrderAttribution.distributor_id)
        .order_by(OrderAttribution.model, OrderAttribution.tool, OrderAttribution.distributor_id)
    )
    return [
        {
            "model": r.model,
            "tool": r.tool,
            "distributor_id": r.distributor_id,
            "orders": int(r.orders),
            "paid_fen": int(r.paid_fen),
        }
        for r in rows.all()
    ]
