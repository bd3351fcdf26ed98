"""Steps the analytics tests share: the stored events and attributions, read back plainly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fissionmall.analytics.models import AnalyticsEvent, OrderAttribution
from fissionmall.core.db import Database

EVENTS = "/api/v1/events"


async def events(db: Database, *kinds: str) -> list[AnalyticsEvent]:
    async with db.read() as s:
        q = select(AnalyticsEvent).order_by(AnalyticsEvent.id)
        if kinds:
            q = q.where(AnalyticsEvent.kind.in_(kinds))
        return list((await s.scalars(q)).all())


async def attributions(db: Database, order_id: int) -> dict[str, tuple[str, int | None, int]]:
    """{model: (tool, distributor_id, paid_fen)} of one order."""
    async with db.read() as s:
        rows = (await s.scalars(select(OrderAttribution).where(OrderAttribution.order_id == order_id))).all()
        return {r.model: (r.tool, r.distributor_id, r.paid_fen) for r in rows}


def code(r: Any) -> str:
    return str(r.json()["error"]["code"])
