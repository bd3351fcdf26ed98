"""Telling the shoppers who asked to hear about an item (notify-me): on a restock, or a next session.

The requests are recorded from the sold-out page (shop.py); this module marks them notified and publishes
one `SeckillNotify` event per occasion for the messaging side to deliver.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.seckill.models import SeckillNotify, SeckillSession


async def notify_waiting(
    s: AsyncSession, *, item_id: int | None = None, sku_id: int | None = None, why: str, session_id: int | None = None
) -> None:
    """Tell those still waiting on an item (or, by `sku_id`, on any session of that SKU), once each."""
    q = select(SeckillNotify).where(SeckillNotify.notified_at.is_(None))
    q = q.where(SeckillNotify.item_id == item_id) if item_id else q.where(SeckillNotify.sku_id == sku_id)
    waiting = list((await s.scalars(q.limit(1000))).all())
    if not waiting:
        return
    now = clock.now()
    for n in waiting:
        n.notified_at = now
    await jobs.publish(
        s,
        "SeckillNotify",
        {
            "why": why,
            "item_id": item_id,
            "sku_id": sku_id,
            "session_id": session_id,
            "customer_ids": sorted({n.customer_id for n in waiting}),
        },
    )


async def announce(s: AsyncSession, *, sess: SeckillSession) -> None:
    """A new session: tell those waiting on any of its SKUs."""
    for it in sess.items:
        await notify_waiting(s, sku_id=it.sku_id, why="next_session", session_id=sess.id)
