"""The jobs and events flash sales answer; `models.load_handlers` imports this module.

Here: tomorrow's copy of a repeating session, and a cancelled order's unit given back in Redis. Importing
it also registers the "seckill" order source (source.py) and the stream consumer loop (consumer.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import jobs
from fissionmall.core.errors import AppError

# consumer, live and source are imported for what importing them registers: the stream loop, the stream's
# Prometheus gauges, the order source.
from fissionmall.seckill import consumer, live, sessions, source  # noqa: F401
from fissionmall.seckill.hot import get_hot
from fissionmall.seckill.models import SeckillAttempt, SeckillSession

log = logging.getLogger("fissionmall.seckill")


@jobs.handler("seckill.repeat_session")
async def _repeat_session(s: AsyncSession, job: jobs.Job) -> None:
    """When a repeating session starts, make tomorrow's: same items, same pool sizes, same limits."""
    sess = await s.get(SeckillSession, job.payload["session_id"])
    if sess is None or sess.status != "active" or sess.repeat_left < 1:
        return
    day = timedelta(days=1)
    specs = [
        sessions.ItemSpec(it.sku_id, it.price_fen, it.pool, it.per_user_limit, it.new_users_only) for it in sess.items
    ]
    try:
        async with s.begin_nested():
            await sessions.create_session(
                s,
                title=sess.title,
                starts_at=sess.starts_at + day,
                ends_at=sess.ends_at + day,
                items=specs,
                repeat_days=sess.repeat_left - 1,
            )
    except AppError as exc:  # e.g. not enough stock left for tomorrow's pool: tell the operator, stop repeating
        log.warning("seckill session %s not repeated: %s", sess.id, exc.code)
        await jobs.publish(s, "SeckillRepeatFailed", {"session_id": sess.id, "code": exc.code})


@jobs.on("OrderCancelled", "seckill.release_to_redis")
async def _release_on_cancel(s: AsyncSession, job: jobs.Job) -> None:
    """The database gave the unit back (SeckillSource.cancelled); Redis's pool and the shopper's count follow."""
    if job.payload.get("source") != "seckill":
        return
    hot = get_hot()
    if hot is None:
        return
    att = await s.scalar(select(SeckillAttempt).where(SeckillAttempt.order_id == job.payload["order_id"]))
    if att is None:
        return
    await hot.release(
        marker=f"order:{att.order_id}", item_id=att.item_id, customer_id=att.customer_id, qty=att.qty, give_pool=True
    )
