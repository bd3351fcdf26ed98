"""Read-only figures about orders for the console and the dashboard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.orders.models import Order, Refund


async def paid_figures(s: AsyncSession, *, since: datetime | None) -> tuple[int, int, int]:
    """(orders, paid GMV, refunded so far), in fen, of the orders paid since a moment, or ever."""
    q = select(
        func.count(), func.coalesce(func.sum(Order.paid_fen), 0), func.coalesce(func.sum(Order.refunded_fen), 0)
    ).where(Order.paid_at.is_not(None))
    if since is not None:
        q = q.where(Order.paid_at >= since)
    n, paid, refunded = (await s.execute(q)).one()
    return int(n), int(paid), int(refunded)


async def count_refunds(s: AsyncSession, *, status: str) -> int:
    """How many refunds are in this status."""
    return int(await s.scalar(select(func.count()).select_from(Refund).where(Refund.status == status)) or 0)


PAID_STATUSES = ("paid", "shipped", "received", "completed", "closed")


async def has_paid_order(s: AsyncSession, *, customer_id: int) -> bool:
    """Whether a shopper has ever paid an order."""
    q = select(Order.id).where(Order.customer_id == customer_id, Order.status.in_(PAID_STATUSES)).limit(1)
    return await s.scalar(q) is not None


async def is_new_customer(s: AsyncSession, *, customer_id: int) -> bool:
    """The one definition of a new shopper (新人) for every tool (老带新 groups, new-shoppers-only flash-sale
    items, …): never paid an order. An unpaid or cancelled order does not count, so a first-timer who
    abandoned a checkout still gets the first-timer offer."""
    return not await has_paid_order(s, customer_id=customer_id)
