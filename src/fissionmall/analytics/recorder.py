"""Store what happened, once: `record` for one event, `record_many` for a batch.

Every row has a unique `key`; the insert is `ON CONFLICT (key) DO NOTHING` on both dialects, never a read
first, so an outbox event delivered twice, a client batch sent again or two workers copying the same
flash-sale attempt add nothing. The server's subscribers (handlers.py) key rows by the outbox event type
and the domain id it names (`OrderPaid:<order id>`); other domains may call `record` with keys of their
own (`"<their prefix>:<id>"`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.analytics.kinds import ALL_KINDS, CLIENT_KINDS
from fissionmall.analytics.models import AnalyticsEvent
from fissionmall.core import clock
from fissionmall.core.db import is_postgres
from fissionmall.settings import get_settings

_table = cast(Table, AnalyticsEvent.__table__)
# Every row of one multi-row INSERT names the same columns.
COLUMNS = (
    "customer_id",
    "device_id",
    "product_id",
    "tool",
    "campaign",
    "distributor_id",
    "variant",
    "order_id",
    "ref",
)


def shop_day(at: datetime) -> date:
    """The shop's date of a moment (Asia/Shanghai by default): what the daily rollups group by."""
    return at.astimezone(ZoneInfo(get_settings().timezone)).date()


def row(*, kind: str, at: datetime, key: str | None = None, origin: str | None = None, **fields: Any) -> dict[str, Any]:
    """One event row as `record_many` inserts it (a random key when none is given: never deduplicated)."""
    if kind not in ALL_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    unknown = set(fields) - set(COLUMNS) - {"amount_fen"}
    if unknown:
        raise TypeError(f"unknown event fields {sorted(unknown)}")
    out: dict[str, Any] = {c: fields.get(c) for c in COLUMNS}
    out.update(
        key=key or f"x:{secrets.token_hex(12)}",
        kind=kind,
        origin=origin or ("client" if kind in CLIENT_KINDS else "server"),
        at=at,
        day=shop_day(at),
        received_at=clock.now(),
        amount_fen=int(fields.get("amount_fen") or 0),
    )
    return out


async def record_many(s: AsyncSession, *, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows (from `row`) in one statement, skipping keys already stored; how many were new."""
    if not rows:
        return 0
    ins = pg_insert(_table) if is_postgres(s) else sqlite_insert(_table)
    stmt = ins.values(list(rows)).on_conflict_do_nothing(index_elements=["key"]).returning(_table.c.id)
    return len((await s.execute(stmt)).all())


async def record(
    s: AsyncSession,
    *,
    kind: str,
    at: datetime,
    key: str | None = None,
    customer_id: int | None = None,
    device_id: str | None = None,
    product_id: int | None = None,
    tool: str | None = None,
    campaign: str | None = None,
    distributor_id: int | None = None,
    variant: str | None = None,
    order_id: int | None = None,
    ref: str | None = None,
    amount_fen: int = 0,
    origin: str | None = None,
) -> bool:
    """Store one event (kinds.py) at `at`; True if it was new, False if its key was stored already."""
    r = row(
        kind=kind,
        at=at,
        key=key,
        origin=origin,
        customer_id=customer_id,
        device_id=device_id,
        product_id=product_id,
        tool=tool,
        campaign=campaign,
        distributor_id=distributor_id,
        variant=variant,
        order_id=order_id,
        ref=ref,
        amount_fen=amount_fen,
    )
    return await record_many(s, rows=[r]) == 1
