"""The shop's events (`POST /events`): what only a client knows, checked, resolved and stored once.

Only client kinds (kinds.CLIENT_KINDS) are taken; a server kind (an order, a payment, a participation)
is refused with EVENT_KIND_SERVER_ONLY and an unknown type with EVENT_TYPE_UNKNOWN, and then nothing of
the batch is stored. A batch holds at most MAX_BATCH events. A share code resolves to its distributor
(an unknown code is kept as `ref` with no distributor); `page` names the tool and campaign. An event
with the shop's own `id` is keyed by the sender and that id, so a batch sent again adds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.analytics.errors import AnalyticsError
from fissionmall.analytics.kinds import CLIENT_KINDS, SERVER_KINDS, TOOLS
from fissionmall.analytics.recorder import record_many, row
from fissionmall.analytics.schemas import EventIn
from fissionmall.core import clock
from fissionmall.core.errors import AppError
from fissionmall.distribution import distributors
from fissionmall.experiments import service as experiments

MAX_BATCH = 50
# A shop's clock may be off, and a batch waits a little before it is sent: a time within these bounds of
# the arrival is the event's own; anything further is replaced by the arrival time.
PAST_SLACK = timedelta(hours=24)
FUTURE_SLACK = timedelta(minutes=5)


def check(events: list[EventIn]) -> None:
    """Refuse the whole batch if it is empty, too big, or names a kind the shop may not send."""
    if not events:
        raise AppError(AnalyticsError.EVENT_BATCH_EMPTY)
    if len(events) > MAX_BATCH:
        raise AppError(AnalyticsError.EVENT_BATCH_TOO_LARGE, f"一次最多上报 {MAX_BATCH} 个事件", limit=MAX_BATCH)
    for i, e in enumerate(events):
        if e.type in SERVER_KINDS:
            raise AppError(AnalyticsError.EVENT_KIND_SERVER_ONLY, index=i, type=e.type)
        if e.type not in CLIENT_KINDS:
            raise AppError(AnalyticsError.EVENT_TYPE_UNKNOWN, index=i)


def page_tool(page: str | None) -> str | None:
    """The tool a page belongs to (`groupbuy:12` → groupbuy), None for a page of no tool."""
    if not page:
        return None
    prefix = page.split(":", 1)[0]
    return prefix if prefix in TOOLS else None


def _when(at: datetime | None, now: datetime) -> datetime:
    if at is None or at < now - PAST_SLACK or at > now + FUTURE_SLACK:
        return now
    return at


async def ingest(s: AsyncSession, *, events: list[EventIn], customer_id: int | None, device_id: str | None) -> int:
    """Store the shop's events for a shopper (or an anonymous device); how many were new."""
    check(events)
    now = clock.now()
    codes: dict[str, int | None] = {}
    for ref in {e.ref for e in events if e.ref}:
        try:
            codes[ref] = (await distributors.by_code(s, ref=ref)).customer_id
        except AppError:
            codes[ref] = None
    sender = f"u{customer_id}" if customer_id is not None else (f"d{device_id[:48]}" if device_id else None)
    variant = await experiments.variant_of(s, customer_id=customer_id, at=now)  # one look-up a batch
    rows: list[dict[str, Any]] = []
    for e in events:
        rows.append(
            row(
                kind=e.type,
                at=_when(e.at, now),
                key=f"c:{sender}:{e.id}" if e.id and sender else None,
                origin="client",
                customer_id=customer_id,
                device_id=device_id[:64] if device_id else None,
                product_id=e.product_id,
                tool=page_tool(e.page),
                campaign=e.page,
                distributor_id=codes.get(e.ref) if e.ref else None,
                variant=variant,
                ref=e.ref,
            )
        )
    return await record_many(s, rows=rows)
