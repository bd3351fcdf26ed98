"""Group buying's job and event handlers, registered at import (models.load_handlers imports this module).

The timers (an activity's end, a group's expiry) and the subscribers to the order events. Importing
source.py here registers the `groupbuy` order source with orders, so its hooks run from start-up.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import jobs
from fissionmall.groupbuy import source as _source  # noqa: F401  (registers the order source)
from fissionmall.groupbuy.activities import END_HANDLER, end_activity_stock
from fissionmall.groupbuy.lifecycle import EXPIRE_HANDLER, expire_group, member_paid, member_refunded
from fissionmall.groupbuy.seats import SOURCE, release_member


@jobs.handler(END_HANDLER)
async def _on_end(s: AsyncSession, job: jobs.Job) -> None:
    await end_activity_stock(s, activity_id=job.payload["activity_id"])


def _ours(payload: dict[str, Any]) -> bool:
    """Only group-buy orders queue these deliveries (their handlers check the source again)."""
    return payload.get("source") == SOURCE


@jobs.on("OrderPaid", "groupbuy.member_paid", when=_ours)
async def _on_paid(s: AsyncSession, job: jobs.Job) -> None:
    # The paid() hook already paid the seat in the confirming transaction; this finds it done. It stays
    # for OrderPaid events confirmed before the hook existed, still queued when the release went out.
    if job.payload.get("source") == SOURCE:
        await member_paid(s, order_id=job.payload["order_id"])


@jobs.on("OrderCancelled", "groupbuy.member_cancelled", when=_ours)
async def _on_cancelled(s: AsyncSession, job: jobs.Job) -> None:
    # The cancelled() hook already released the seat in the cancelling transaction; this is a second wall.
    if job.payload.get("source") == SOURCE:
        await release_member(s, order_id=job.payload["order_id"])


@jobs.on("OrderLineRefunded", "groupbuy.member_refunded", when=_ours)
async def _on_refunded(s: AsyncSession, job: jobs.Job) -> None:
    if job.payload.get("source") == SOURCE:
        await member_refunded(s, order_id=job.payload["order_id"], amount_fen=job.payload["amount_fen"])


@jobs.handler(EXPIRE_HANDLER)
async def _on_expire(s: AsyncSession, job: jobs.Job) -> None:
    await expire_group(s, group_id=job.payload["group_id"])
