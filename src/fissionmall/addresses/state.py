"""Whether a shopper has a default address, answered without a query per flash-sale attempt.

An attempt that sends no address is served by the shopper's default address when its order is made (the
stream consumer reads it there). Refusing up front the attempts of shoppers who have none needs this
answer on the hot path (seckill/fast.py at ~12k attempts/s), so each process remembers it:
- "has one" for an hour: shoppers rarely empty their book, and one who does between the attempt and
  the order gets a failed attempt with reason ADDRESS_REQUIRED and the unit goes back to the pool
  (seckill/consumer.py), never a lost unit;
- "has none" for a couple of seconds only, so an address added in another process counts almost at once
  while a client hammering without one costs at most one query per shopper per process per interval.
Writes in this process update the entry at once (`remember`).
"""

from __future__ import annotations

import time

from sqlalchemy import select

from fissionmall.addresses.models import CustomerAddress
from fissionmall.core.db import Database

HAS_TTL = 3600.0
NONE_TTL = 2.0

_seen: dict[int, tuple[bool, float]] = {}  # customer id -> (has a default, until when)


async def has_default(db: Database, *, customer_id: int) -> bool:
    """Whether the shopper has a default address (cached per process for a short while)."""
    now = time.monotonic()
    hit = _seen.get(customer_id)
    if hit is not None and hit[1] > now:
        return hit[0]
    async with db.read() as s:
        found = await s.scalar(
            select(CustomerAddress.id).where(
                CustomerAddress.customer_id == customer_id, CustomerAddress.is_default.is_(True)
            )
        )
    remember(customer_id, found is not None, now=now)
    return found is not None


def remember(customer_id: int, has: bool, *, now: float | None = None) -> None:
    """Note in this process's cache whether the shopper has a default address."""
    now = time.monotonic() if now is None else now
    if len(_seen) > 500_000:
        _seen.clear()
    _seen[customer_id] = (has, now + (HAS_TTL if has else NONE_TTL))


def forget_address_state() -> None:
    """Drop what this process remembers (a new database may reuse customer ids)."""
    _seen.clear()
