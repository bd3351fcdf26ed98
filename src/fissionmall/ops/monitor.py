"""实时监控: the figures of a big day, read in a few cheap queries every few seconds (docs/monitor.md).

Orders placed and paid per minute over the last hour (the `ix_orders_created` range), the payment success
rate of that hour's orders, flash-sale attempts and refusals by reason (seckill's own counters), the queue
(due outbox deliveries and timers, how late the oldest is, the flash-sale stream) and the 5xx rate of the
HTTP answers (core/metrics.py's per-minute counts, every process's when Redis is configured).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, metrics
from fissionmall.core.db import Database, is_postgres
from fissionmall.orders.models import Order
from fissionmall.payments.models import Payment
from fissionmall.seckill import live

WINDOW_MINUTES = 60
ERROR_MINUTES = 5  # the error rate is over the last five minutes: one bad minute shows, an old one fades


def window_start(now: datetime, *, minutes: int = WINDOW_MINUTES) -> datetime:
    """The first minute of the window: `minutes` whole minutes, the current one last."""
    return now.replace(second=0, microsecond=0) - timedelta(minutes=minutes - 1)


def _minute_key(s: AsyncSession) -> Any:
    # The minute an order was placed in, as text: stored naive UTC on both (SQLite as ISO text).
    if is_postgres(s):
        return func.to_char(Order.created_at, "YYYY-MM-DD HH24:MI")
    return func.substr(Order.created_at, 1, 16)


async def order_minutes(s: AsyncSession, *, now: datetime, minutes: int = WINDOW_MINUTES) -> list[dict[str, Any]]:
    """Orders placed and (of those) paid in each of the last `minutes` minutes, oldest first, UTC minutes."""
    start = window_start(now, minutes=minutes)
    key = _minute_key(s).label("m")
    rows = await s.execute(
        select(key, func.count(), func.count(Order.paid_at)).where(Order.created_at >= start).group_by(key)
    )
    got = {str(m).replace("T", " ")[:16]: (int(n), int(p)) for m, n, p in rows.all()}
    out = []
    for i in range(minutes):
        t = start + timedelta(minutes=i)
        placed, paid = got.get(t.astimezone(UTC).strftime("%Y-%m-%d %H:%M"), (0, 0))
        out.append({"at": t, "placed": placed, "paid": paid})
    return out


async def payment_figures(s: AsyncSession, *, now: datetime, minutes: int = WINDOW_MINUTES) -> dict[str, Any]:
    """Of the window's orders: placed, paid, and started paying without success yet; the success rate is
    paid / (paid + started-unpaid), in basis points (None before any payment)."""
    start = window_start(now, minutes=minutes)
    in_window = Order.created_at >= start
    placed, paid = (await s.execute(select(func.count(), func.count(Order.paid_at)).where(in_window))).one()
    started = exists().where(Payment.order_id == Order.id)
    unpaid = int(await s.scalar(select(func.count()).where(in_window, Order.paid_at.is_(None), started)) or 0)
    tried = int(paid) + unpaid
    return {
        "placed": int(placed),
        "paid": int(paid),
        "unpaid_started": unpaid,
        "success_bp": (int(paid) * 10000 // tried) if tried else None,
    }


async def http_figures(*, minutes: int = WINDOW_MINUTES) -> dict[str, Any]:
    """Requests and 5xx per minute, and the 5xx share of the last ERROR_MINUTES minutes (basis points)."""
    counts = await metrics.minute_counts(minutes=minutes)
    recent = [counts[m] for m in sorted(counts)[-ERROR_MINUTES:]]
    n, e = sum(r[0] for r in recent), sum(r[1] for r in recent)
    return {
        "minutes": [{"minute": m, "requests": c[0], "errors": c[1]} for m, c in sorted(counts.items())],
        "requests": n,
        "errors": e,
        "error_bp": (e * 10000 // n) if n else None,
    }


async def figures(db: Database) -> dict[str, Any]:
    """Everything the 实时监控 page shows, read now."""
    now = clock.now()
    async with db.read() as s:
        orders = await order_minutes(s, now=now)
        pays = await payment_figures(s, now=now)
        queue = await metrics.job_figures(s)
    last = orders[-1]
    return {
        "now": now,
        "orders": orders,
        "orders_last_minute": last["placed"],
        "orders_peak": max(o["placed"] for o in orders),
        "payments": pays,
        "seckill": await live.recent_totals(db, within=timedelta(minutes=WINDOW_MINUTES)),
        "queue": queue,
        "stream": await live.stream_figures(),
        "http": await http_figures(),
    }
