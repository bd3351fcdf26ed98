"""Flash-sale attempts as `seckill_attempt` events, copied in batches from seckill's own attempt rows.

The hot path (one Lua call per attempt, the consumer's batch transaction) writes nothing for the
dashboard: every reservation that reached the database already has a `seckill_attempts` row (won, with
its order, or lost, with the reason). A worker loop copies the rows past the watermark every few seconds
in one multi-row insert keyed `seckill_attempt:<attempt id>`, re-reading a margin below the watermark
so a row whose transaction committed late (a lower id after a higher one) is still copied, once.
Attempts that Redis refused before any reservation (sold out, over a limit) are not copied: the live
board (seckill/live.py) counts those.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.analytics.config import ensure_row
from fissionmall.analytics.models import AnalyticsConfig
from fissionmall.analytics.recorder import record_many, row
from fissionmall.catalog.models import Sku
from fissionmall.core import jobs
from fissionmall.core.db import Database
from fissionmall.seckill.models import SeckillAttempt, SeckillItem

log = logging.getLogger("fissionmall.analytics")
BATCH = 1000
MARGIN = 200  # ids re-read below the watermark: rows committed out of id order
POLL_SECONDS = 5.0


async def copy_attempts(s: AsyncSession, *, limit: int = BATCH) -> int:
    """Copy up to `limit` attempt rows past the watermark; how many events were new."""
    mark = await s.scalar(select(AnalyticsConfig.seckill_watermark).where(AnalyticsConfig.id == 1))
    if mark is None:
        await ensure_row(s)
        mark = 0
    found = (
        await s.execute(
            select(SeckillAttempt, SeckillItem.sku_id, Sku.product_id)
            .join(SeckillItem, SeckillItem.id == SeckillAttempt.item_id)
            .join(Sku, Sku.id == SeckillItem.sku_id)
            .where(SeckillAttempt.id > max(0, mark - MARGIN))
            .order_by(SeckillAttempt.id)
            .limit(limit)
        )
    ).all()
    if not found:
        return 0
    rows = [
        row(
            kind="seckill_attempt",
            at=a.created_at,
            key=f"seckill_attempt:{a.attempt_id}",
            customer_id=a.customer_id,
            product_id=product_id,
            tool="seckill",
            campaign=f"seckill:{a.item_id}",
            order_id=a.order_id,
            ref=a.status if a.status == "succeeded" else (a.reason or a.status)[:64],
        )
        for a, _sku_id, product_id in found
    ]
    new = await record_many(s, rows=rows)
    top = max(a.id for a, _sku, _p in found)
    await s.execute(
        update(AnalyticsConfig)
        .where(AnalyticsConfig.id == 1, AnalyticsConfig.seckill_watermark < top)
        .values(seckill_watermark=top)
    )
    return new


@jobs.background("analytics.seckill_attempts")
async def _copy_forever(db: Database, stop: asyncio.Event) -> None:
    """The worker's loop: copy new attempts every few seconds until `stop` is set."""
    while not stop.is_set():
        try:
            async with db.tx() as s:
                n = await copy_attempts(s)
        except Exception:  # a bad moment (the database restarting): try again next time
            log.exception("copying flash-sale attempts failed")
            n = 0
        if n < BATCH:
            try:
                await asyncio.wait_for(stop.wait(), timeout=POLL_SECONDS)
            except TimeoutError:
                pass
