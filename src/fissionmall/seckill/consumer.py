"""The stream consumer: turns the reservations Redis queued (hot.py) into orders, then tells Redis.

Each batch is read and committed under the fence held shared (mirror.py), one savepoint per entry, so a
redelivery or a reclaimed entry finds the first outcome and only re-acks. A failed entry gives the shopper's
count (and the unit, unless the database said the pool is spent) back to Redis. Runs as the worker's
`seckill.consume` loop; `drain` runs it to empty (tests, scripts).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.core.db import Database
from fissionmall.core.errors import AppError
from fissionmall.seckill import mirror, source
from fissionmall.seckill.hot import GROUP, Hot, get_hot
from fissionmall.seckill.models import SeckillAttempt, SeckillItem
from fissionmall.settings import Settings, get_settings

log = logging.getLogger("fissionmall.seckill")


def consumer_name() -> str:
    """This process's name in the consumer group: host and pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class Entry:
    id: str
    attempt_id: str
    item_id: int
    customer_id: int
    qty: int
    address: dict[str, Any]


def _entries(raw: Any) -> list[Entry]:
    out = []
    for entry_id, f in raw:
        if not f:  # deleted while pending
            continue
        out.append(Entry(entry_id, f["a"], int(f["i"]), int(f["c"]), int(f["q"]), json.loads(f["p"])))
    return out


async def _outcome_recorded(s: AsyncSession, e: Entry) -> tuple[str, int | None, str] | None:
    done = await s.scalar(select(SeckillAttempt).where(SeckillAttempt.attempt_id == e.attempt_id))
    return None if done is None else (done.status, done.order_id, done.reason or "")


async def _create_one(s: AsyncSession, e: Entry, settings: Settings) -> tuple[str, int | None, str]:
    done = await _outcome_recorded(s, e)
    if done is not None:  # a redelivery: the first delivery's outcome stands
        return done
    it = await s.get(SeckillItem, e.item_id)
    if it is None:
        return "failed", None, "ITEM_NOT_FOUND"
    try:
        async with s.begin_nested():
            order = await source.place_order(
                s,
                customer_id=e.customer_id,
                body=source.checkout_body(sku_id=it.sku_id, qty=e.qty, payload=e.address),
                settings=settings,
                item_id=e.item_id,
                reservation_id=e.attempt_id,
            )
        return "succeeded", order.id, ""
    except AppError as exc:
        reason = exc.code
    except (ValueError, TypeError) as exc:  # e.g. an address the order refuses
        reason = "INVALID"
        log.warning("seckill entry %s refused: %s", e.id, exc)
    except IntegrityError:
        # Another consumer (a reclaimed entry) recorded this attempt at the same moment: its outcome stands.
        # Only its savepoint rolled back, so the rest of the batch (and the fence) carry on.
        other = await _outcome_recorded(s, e)
        if other is None:
            raise
        return other
    try:
        async with s.begin_nested():
            s.add(
                SeckillAttempt(
                    attempt_id=e.attempt_id,
                    item_id=e.item_id,
                    customer_id=e.customer_id,
                    qty=e.qty,
                    status="failed",
                    reason=reason,
                    created_at=clock.now(),
                )
            )
            await s.flush()
    except IntegrityError:
        other = await _outcome_recorded(s, e)
        if other is None:
            raise
        return other
    return "failed", None, reason


async def _batch(db: Database, hot: Hot, settings: Settings, take: Any) -> int:
    """One consumer batch: `take()` reads the entries (from the stream, or given) and their orders are
    created in one transaction (a savepoint each), all under the fence held shared, so a rebuild can
    never count `sold` while reservations it cannot see in Redis are read but not committed. Then Redis
    is told. Returns how many entries there were."""
    async with db.tx() as s:
        await mirror.fence(s, exclusive=False)
        entries: list[Entry] = await take()
        results = [(e, await _create_one(s, e, settings)) for e in entries]
    for e, (status, order_id, reason) in results:
        if status == "failed":
            # The shopper did not get it: their count goes back; the pool too, unless the database said
            # the pool is spent (then Redis had let one too many through). Only while the entry is still
            # pending in this Redis: after a flush the rebuild counted from the database, which never
            # held this unit, so giving it back would hand it out twice.
            await hot.release(
                marker=f"att:{e.attempt_id}",
                item_id=e.item_id,
                customer_id=e.customer_id,
                qty=e.qty,
                give_pool=reason != "SOLD_OUT",
                entry_id=e.id,
            )
        await hot.finish(
            entry_id=e.id,
            attempt_id=e.attempt_id,
            item_id=e.item_id,
            qty=e.qty,
            status=status,
            order_id=order_id,
            reason=reason,
        )
    return len(results)


async def _process(db: Database, hot: Hot, settings: Settings, entries: list[Entry]) -> int:
    """Create the orders of entries already read (a reclaimed page, or a test's hand-read batch)."""

    async def given() -> list[Entry]:
        return entries

    return await _batch(db, hot, settings, given)


class _Reader:
    """Reads new entries for one consumer inside `_batch` (never blocking: the fence is held), and
    remembers the newest entry id seen then, so the idle wait can block on anything newer."""

    def __init__(self, hot: Hot, consumer: str, count: int) -> None:
        self.hot, self.consumer, self.count = hot, consumer, count
        self.newest = "0-0"

    async def __call__(self) -> list[Entry]:
        pipe = self.hot.redis.pipeline(transaction=True)
        pipe.xreadgroup(GROUP, self.consumer, {self.hot.stream: ">"}, count=self.count)
        pipe.xrevrange(self.hot.stream, count=1)
        raw, last = await pipe.execute()
        self.newest = last[0][0] if last else "0-0"
        return _entries(raw[0][1]) if raw else []

    async def wait(self, block_ms: int) -> None:
        """Until an entry newer than the last read arrives (or `block_ms`): XREAD, which takes nothing."""
        await self.hot.redis.xread({self.hot.stream: self.newest}, count=1, block=block_ms)


async def drain(
    db: Database,
    *,
    consumer: str | None = None,
    count: int = 100,
    claim_idle_ms: int = 30_000,
    settings: Settings | None = None,
) -> int:
    """Process every entry now in the stream (and reclaim ones idle on other consumers). Returns how many."""
    hot = get_hot()
    if hot is None:
        return 0
    settings = settings or get_settings()
    consumer = consumer or consumer_name()
    await hot.ensure_group()
    read = _Reader(hot, consumer, count)
    total = 0
    while True:
        n = await _reclaim(db, hot, settings, consumer, claim_idle_ms, count)
        n += await _batch(db, hot, settings, read)
        if n == 0:
            return total
        total += n


async def _reclaim(db: Database, hot: Hot, settings: Settings, consumer: str, idle_ms: int, count: int) -> int:
    """XAUTOCLAIM entries a dead (or slow) consumer left pending longer than `idle_ms`, a page per batch."""
    n, start, more = 0, "0-0", True

    async def claim() -> list[Entry]:
        nonlocal start, more
        res = await hot.redis.xautoclaim(
            hot.stream, GROUP, consumer, min_idle_time=idle_ms, start_id=start, count=count
        )
        start, claimed = res[0], _entries(res[1])
        more = bool(claimed) and start not in ("0-0", b"0-0")
        return claimed

    while more:
        n += await _batch(db, hot, settings, claim)
    return n


@jobs.background("seckill.consume")
async def consume_forever(db: Database, stop: asyncio.Event, *, block_ms: int = 1000) -> None:
    """The worker's seckill loop: read the stream with a consumer group until `stop` is set (it runs
    wherever the job worker runs: inside `serve` in embedded mode, in every `fissionmall worker`)."""
    hot = get_hot()
    if hot is None:
        return
    settings = get_settings()
    consumer = consumer_name()
    log.info("seckill consumer %s started", consumer)
    last_claim = 0.0
    loop = asyncio.get_running_loop()
    read = _Reader(hot, consumer, 100)
    while not stop.is_set():
        try:
            await hot.ensure_group()
            if loop.time() - last_claim > 5:
                last_claim = loop.time()
                await _reclaim(db, hot, settings, consumer, 30_000, 100)
            if not await _batch(db, hot, settings, read):
                await read.wait(block_ms)  # outside the fence: a rebuild never waits on an idle consumer
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis or the database briefly away: keep going
            log.exception("seckill consumer batch failed")
            await asyncio.sleep(1)
    log.info("seckill consumer %s stopped", consumer)
