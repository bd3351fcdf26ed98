"""Bargaining's timers, registered at import (models.load_handlers imports this module): an activity's
end (its stock back to the SKU) and a bargain's expiry. Importing buying.py here registers the `bargain`
order source with orders, so its hooks run from start-up."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.bargain import buying as _buying  # noqa: F401  (registers the order source)
from fissionmall.bargain.activities import END_HANDLER, end_activity_stock
from fissionmall.bargain.bargains import EXPIRE_HANDLER, expire
from fissionmall.core import jobs


@jobs.handler(END_HANDLER)
async def _on_end(s: AsyncSession, job: jobs.Job) -> None:
    await end_activity_stock(s, activity_id=job.payload["activity_id"])


@jobs.handler(EXPIRE_HANDLER)
async def _on_expire(s: AsyncSession, job: jobs.Job) -> None:
    await expire(s, bargain_id=job.payload["bargain_id"])
