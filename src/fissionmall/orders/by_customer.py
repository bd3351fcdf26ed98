"""A shopper's orders as the console's customer pages see them: spend, last order, the recent orders.

Spend is what the shopper paid less what was refunded, over orders that were paid, top-ups left out (their
money is counted when an order spends it). The list's filters are
conditions on `Customer.id` (customers/admin.py adds them to its query), so a filter is one SQL query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import Customer
from fissionmall.orders.models import Order
from fissionmall.orders.sources import not_spend_sources


def _spent() -> ColumnElement[int]:
    return func.coalesce(func.sum(Order.paid_fen - Order.refunded_fen), 0)


def _spending() -> ColumnElement[bool]:
    """Paid orders that bought something (a top-up is spent later by the orders it pays)."""
    return Order.paid_at.is_not(None) & Order.source.not_in(not_spend_sources())


def _spenders() -> Select[Any]:
    return select(Order.customer_id).where(_spending()).group_by(Order.customer_id)


def spend_where(*, min_fen: int | None, max_fen: int | None) -> ColumnElement[bool] | None:
    """Shoppers whose spend lies in [min_fen, max_fen] (a shopper who never paid has spent 0)."""
    clauses = []
    if min_fen:
        clauses.append(Customer.id.in_(_spenders().having(_spent() >= min_fen)))
    if max_fen is not None:
        clauses.append(not_(Customer.id.in_(_spenders().having(_spent() > max_fen))))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else clauses[0] & clauses[1]


def last_order_where(*, start: datetime | None, end: datetime | None) -> ColumnElement[bool] | None:
    """Shoppers whose latest order was placed in [start, end)."""
    if start is None and end is None:
        return None
    last = select(Order.customer_id).group_by(Order.customer_id)
    if start is not None:
        last = last.having(func.max(Order.created_at) >= start)
    if end is not None:
        last = last.having(func.max(Order.created_at) < end)
    return Customer.id.in_(last)


async def figures_of(s: AsyncSession, *, customer_ids: list[int]) -> dict[int, tuple[int, int, datetime | None]]:
    """(paid orders, spend in fen, latest order's time) per shopper who has ordered."""
    if not customer_ids:
        return {}
    rows = await s.execute(
        select(Order.customer_id, func.max(Order.created_at))
        .where(Order.customer_id.in_(set(customer_ids)))
        .group_by(Order.customer_id)
    )
    last = {int(cid): at for cid, at in rows.all()}
    paid_rows = await s.execute(
        select(Order.customer_id, func.count(), _spent())
        .where(Order.customer_id.in_(set(customer_ids)), _spending())
        .group_by(Order.customer_id)
    )
    spend = {int(cid): (int(n), int(fen)) for cid, n, fen in paid_rows.all()}
    return {cid: (*spend.get(cid, (0, 0)), at) for cid, at in last.items()}


async def recent_orders(s: AsyncSession, *, customer_id: int, limit: int = 10) -> list[Order]:
    """The shopper's latest orders, newest first."""
    q = select(Order).where(Order.customer_id == customer_id).order_by(Order.id.desc()).limit(limit)
    return list((await s.scalars(q)).all())


async def order_count(s: AsyncSession, *, customer_id: int) -> int:
    """How many orders the shopper has placed (any status)."""
    return int(await s.scalar(select(func.count()).where(Order.customer_id == customer_id)) or 0)
