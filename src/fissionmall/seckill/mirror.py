"""Redis's copy of each item (pool left, window, per-shopper limit, buyers) kept in step with the database.

An item is loaded when its session is published, rebuilt from the database when Redis no longer knows it
(a new item, or Redis lost its keys), and moved by an operator's pool edit. A rebuild takes the fence
that every consumer batch holds shared (consumer.py), so it never counts `sold` while reservations read
from the stream are not yet committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.db import Database, is_postgres
from fissionmall.core.errors import Conflict
from fissionmall.seckill import rules
from fissionmall.seckill.errors import SeckillError
from fissionmall.seckill.hot import Hot, get_hot
from fissionmall.seckill.models import SeckillBuyer, SeckillItem, SeckillSession

log = logging.getLogger("fissionmall.seckill")

# Redis loss vs. a consumer mid-batch. A consumer holds reservations it has read from the stream in
# memory until its transaction commits them as `sold`; a flush in that window erases them from Redis
# (`sk:pend`, the stream), and a rebuild reading `sold` before that commit handed the same units out again
# (84 shoppers "queued" for 50 units). So a consumer reads and commits under this lock held shared, and a
# rebuild takes it exclusively: it waits until every batch read before it is in `sold`, and no batch
# is read while it counts. On SQLite both are write transactions, which the database serialises anyway.
_FENCE = 0x5EC4_1D00


async def fence(s: AsyncSession, *, exclusive: bool) -> None:
    """Take the consumer/rebuild fence for the rest of the transaction: shared by a batch, exclusive by a rebuild."""
    if is_postgres(s):
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        await s.execute(text(f"SELECT {fn}(:k)"), {"k": _FENCE})


_rebuilds: dict[int, asyncio.Task[bool]] = {}


async def rebuild(db: Database, *, hot: Hot, item_id: int) -> bool:
    """`load_item` once per item at a time in this process: a crowd that finds an item missing waits
    for one rebuild instead of queueing a hundred on the lock."""
    task = _rebuilds.get(item_id)
    if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
        task = asyncio.ensure_future(load_item(db, hot=hot, item_id=item_id))
        _rebuilds[item_id] = task
        task.add_done_callback(lambda t: _rebuilds.pop(item_id, None) if _rebuilds.get(item_id) is t else None)
    return await asyncio.shield(task)


async def load_item(db: Database, *, hot: Hot, item_id: int) -> bool:
    """(Re)build one item's Redis keys from the database. False if the item is unknown or withdrawn.
    Runs under the fence (exclusive), so `sold` already holds every reservation a consumer had read."""
    async with db.tx() as s:
        await fence(s, exclusive=True)
        row = (
            await s.execute(
                select(SeckillItem, SeckillSession)
                .join(SeckillSession, SeckillSession.id == SeckillItem.session_id)
                .where(SeckillItem.id == item_id)
            )
        ).one_or_none()
        if row is None:
            return False
        it, sess = row
        buyers = dict(
            (
                await s.execute(
                    select(SeckillBuyer.customer_id, SeckillBuyer.qty).where(SeckillBuyer.item_id == item_id)
                )
            ).all()
        )
        if sess.status != "active":
            return False
        # Written while the fence is held: a batch read after this sees the rebuilt pool.
        created = await hot.load_item(
            item_id=it.id,
            pool=it.pool,
            sold=it.sold,
            start_ms=rules.epoch_ms(sess.starts_at),
            end_ms=rules.epoch_ms(sess.ends_at),
            limit=it.per_user_limit,
            buyers={int(k): int(v) for k, v in buyers.items()},
        )
    if created:
        log.info("seckill item %s pool rebuilt in Redis from the database (pool %s, sold %s)", it.id, it.pool, it.sold)
    return True


async def publish_items(db: Database, *, sess: SeckillSession) -> None:
    """Push a session's items to Redis (after the transaction that made or edited them committed)."""
    hot = get_hot()
    if hot is None:
        return
    for it in sess.items:
        if sess.status != "active":
            await hot.redis.hset(hot.k(f"sk:i:{it.id}"), mapping={"left": 0, "end": 0})
            continue
        await load_item(db, hot=hot, item_id=it.id)


async def add_units(hot: Hot | None, *, marker: str, item_id: int, delta: int) -> None:
    """Units the database already holds in the pool: failing here leaves Redis short, so it is logged."""
    if hot is None:
        return
    try:
        await hot.resize(marker=marker, item_id=item_id, delta=delta)
    except Exception:
        log.exception("seckill item %s: %s pool units not added to Redis (undersold until a rebuild)", item_id, delta)


async def take_units(db: Database, *, hot: Hot, marker: str, item_id: int, old: int, delta: int) -> None:
    """Take a pool decrease out of Redis first (only what is left): POOL_BELOW_SOLD if it is not there."""
    code, left = await hot.resize(marker=marker, item_id=item_id, delta=delta)
    if code == "MISSING" and await load_item(db, hot=hot, item_id=item_id):
        # Not in Redis (never attempted, or Redis lost it): build it first, so a rebuild racing this edit
        # cannot come later with the old pool.
        code, left = await hot.resize(marker=marker, item_id=item_id, delta=delta)
    if code == "TAKEN":
        raise Conflict(SeckillError.POOL_BELOW_SOLD, item_id=item_id, taken=old - left)


async def remaining(*, items: Sequence[SeckillItem]) -> dict[int, int]:
    """Units left per item: Redis's count where it holds the item, else the database's pool - sold."""
    left = {it.id: it.pool - it.sold for it in items}
    hot = get_hot()
    if hot is not None and items:
        pipe = hot.redis.pipeline(transaction=False)
        for it in items:
            pipe.hget(hot.k(f"sk:i:{it.id}"), "left")
        for it, v in zip(items, await pipe.execute(), strict=True):
            if v is not None:
                left[it.id] = max(0, int(v))
    return left
