"""Flash sales: sessions and items, the "seckill" order source, the attempt path (Redis or embedded),
the stream consumer, notify-me, and the live counters.

Two walls against oversell. Redis (production): the Lua script in `hot.py` decrements the pool and
counts the shopper atomically. The database (both modes): creating the order runs `SeckillSource.plan`,
whose conditional updates (`sold + n <= pool`, a shopper's `qty + n <= limit`) refuse anything Redis let
through by mistake (e.g. after a Redis loss). In embedded mode (no Redis) the database wall is the only
one and the order is created synchronously.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.addresses import state as address_state
from fissionmall.catalog import service as catalog
from fissionmall.catalog.errors import CatalogError
from fissionmall.checkout import service as checkout
from fissionmall.checkout.plans import Plan, PlannedLine
from fissionmall.core import clock, jobs
from fissionmall.core.db import Database, is_postgres
from fissionmall.core.errors import AppError, Conflict, NotFound, not_found
from fissionmall.orders import reports
from fissionmall.orders.models import Order
from fissionmall.orders.schemas import CartItem, CheckoutIn
from fissionmall.orders.sources import SourceDefaults, register_source
from fissionmall.risk import service as risk
from fissionmall.seckill import rules
from fissionmall.seckill.errors import SeckillError
from fissionmall.seckill.hot import GROUP, Hot, Try, get_hot
from fissionmall.seckill.models import SeckillAttempt, SeckillBuyer, SeckillItem, SeckillNotify, SeckillSession
from fissionmall.settings import Settings, get_settings

log = logging.getLogger("fissionmall.seckill")
_HOUR = timedelta(hours=1)


def _ms(d: datetime) -> int:
    return int(d.timestamp() * 1000)


def _ins(s: AsyncSession) -> Any:
    return pg_insert if is_postgres(s) else sqlite_insert


# ---- sessions (admin) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    sku_id: int
    price_fen: int
    stock: int | None
    per_user_limit: int
    new_users_only: bool


async def create_session(
    s: AsyncSession,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    items: Sequence[ItemSpec],
    repeat_days: int = 0,
) -> SeckillSession:
    """Schedule a session; each item's pool leaves the SKU's stock now, so the pool is real. With
    `repeat_days`, the same session comes back daily that many more times."""
    if ends_at <= starts_at:
        raise AppError(SeckillError.WINDOW_INVALID)
    if len({i.sku_id for i in items}) != len(items):
        raise AppError(SeckillError.DUPLICATE_SKU)
    found = await catalog.skus_for_sale(s, [i.sku_id for i in items])
    now = clock.now()
    sess = SeckillSession(
        title=title, starts_at=starts_at, ends_at=ends_at, status="active", repeat_left=repeat_days, created_at=now
    )
    s.add(sess)
    await s.flush()
    if repeat_days:
        await jobs.schedule(
            s, "seckill.repeat_session", {"session_id": sess.id}, due_at=starts_at, key=f"seckill-repeat:{sess.id}"
        )
    for spec in sorted(items, key=lambda i: i.sku_id):  # lock SKUs in id order
        if spec.sku_id not in found:
            raise AppError(CatalogError.SKU_NOT_FOUND, "找不到这个规格（或商品未上架）", sku_id=spec.sku_id)
        sku, _ = found[spec.sku_id]
        pool = spec.stock if spec.stock is not None else rules.default_pool(sku.stock)
        if pool < 1:
            raise Conflict(CatalogError.INSUFFICIENT_STOCK, "商品库存不足以划出这个秒杀库存", sku_id=spec.sku_id)
        await catalog.stock_to_pool(s, sku_id=spec.sku_id, qty=pool)
        s.add(
            SeckillItem(
                session_id=sess.id,
                sku_id=spec.sku_id,
                price_fen=spec.price_fen,
                pool=pool,
                sold=0,
                per_user_limit=spec.per_user_limit,
                new_users_only=spec.new_users_only,
                created_at=now,
            )
        )
    await s.flush()
    sess = await get_session(s, session_id=sess.id)
    await _announce(s, sess)
    return sess


@jobs.handler("seckill.repeat_session")
async def _repeat_session(s: AsyncSession, job: jobs.Job) -> None:
    """When a repeating session starts, make tomorrow's: same items, same pool sizes, same limits."""
    sess = await s.get(SeckillSession, job.payload["session_id"])
    if sess is None or sess.status != "active" or sess.repeat_left < 1:
        return
    day = timedelta(days=1)
    specs = [ItemSpec(it.sku_id, it.price_fen, it.pool, it.per_user_limit, it.new_users_only) for it in sess.items]
    try:
        async with s.begin_nested():
            await create_session(
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


async def get_session(s: AsyncSession, *, session_id: int) -> SeckillSession:
    sess = await s.scalar(
        select(SeckillSession)
        .where(SeckillSession.id == session_id, SeckillSession.status == "active")
        .execution_options(populate_existing=True)
    )
    if sess is None:
        raise not_found("session")
    return sess


async def list_sessions(
    s: AsyncSession, *, before_id: int | None = None, limit: int = 20
) -> tuple[list[SeckillSession], str | None]:
    q = select(SeckillSession).where(SeckillSession.status == "active").order_by(SeckillSession.id.desc())
    if before_id:
        q = q.where(SeckillSession.id < before_id)
    rows = list((await s.scalars(q.limit(limit + 1))).all())
    return rows[:limit], (str(rows[limit - 1].id) if len(rows) > limit else None)


def _check_changes(items: Sequence[dict[str, Any]]) -> None:
    if len({c["id"] for c in items}) != len(items):
        raise AppError(SeckillError.DUPLICATE_ITEM)


async def _update_in_db(
    s: AsyncSession,
    *,
    session_id: int,
    title: str | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
    items: Sequence[dict[str, Any]] | None,
    pools_seen: dict[int, int] | None = None,
) -> SeckillSession:
    """The database side of `edit_session` (use that: it moves Redis too): title, window, and per item
    price / limit / new-users flag / pool (`stock`). A pool change moves units between the SKU's stock and
    the pool, so stock + pool stays the same, and never below what is sold. `pools_seen`: the pools a Redis
    adjustment was computed from; a pool that changed since is refused (POOL_CHANGED) so Redis and the
    database move by the same delta."""
    sess = await get_session(s, session_id=session_id)
    st, en = starts_at or sess.starts_at, ends_at or sess.ends_at
    if en <= st:
        raise AppError(SeckillError.WINDOW_INVALID)
    by_id = {it.id: it for it in sess.items}
    for change in items or []:
        if change["id"] not in by_id:
            raise AppError(SeckillError.ITEM_NOT_IN_SESSION)
    sess.title = title or sess.title
    sess.starts_at, sess.ends_at = st, en
    for change in sorted(items or [], key=lambda c: by_id[c["id"]].sku_id):  # lock SKUs in id order
        it = by_id[change["id"]]
        for f in ("price_fen", "per_user_limit", "new_users_only"):
            if change.get(f) is not None:
                setattr(it, f, change[f])
        if change.get("stock") is not None:
            seen = it.pool if pools_seen is None else pools_seen[it.id]
            await _set_pool(s, it, old=seen, new=change["stock"])
    await s.flush()
    return await get_session(s, session_id=session_id)


async def _set_pool(s: AsyncSession, it: SeckillItem, *, old: int, new: int) -> None:
    # Compare-and-set on the pool: the same guard holds whether a crowd or another operator got here first.
    res = await s.execute(
        update(SeckillItem)
        .where(SeckillItem.id == it.id, SeckillItem.pool == old, SeckillItem.sold <= new)
        .values(pool=new)
        .returning(SeckillItem.id)
        .execution_options(synchronize_session=False)
    )
    if res.one_or_none() is None:
        pool, sold = (await s.execute(select(SeckillItem.pool, SeckillItem.sold).where(SeckillItem.id == it.id))).one()
        if pool != old:
            raise Conflict(SeckillError.POOL_CHANGED, item_id=it.id, pool=pool)
        raise Conflict(SeckillError.POOL_BELOW_SOLD, item_id=it.id, taken=sold)
    if new > old:
        await catalog.stock_to_pool(s, sku_id=it.sku_id, qty=new - old)
    elif new < old:
        await catalog.pool_to_stock(s, sku_id=it.sku_id, qty=old - new)


async def edit_session(
    db: Database,
    *,
    session_id: int,
    title: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    items: Sequence[dict[str, Any]] | None = None,
) -> SeckillSession:
    """Edit a session, pools included, and publish it. With Redis the pool counter there moves too, ordered
    so that no failure midway oversells: a decrease first takes the units out of Redis (only what is left:
    units handed out, queued or already orders, cannot be taken), then the database follows and a refusal
    there gives them back; an increase commits in the database first, then Redis gets the units. A crash
    between the two steps leaves Redis short (an undersell until the next rebuild), never over."""
    items = list(items or [])
    _check_changes(items)
    hot = get_hot()
    seen: dict[int, int] = {}  # the pools the Redis deltas are computed from
    moves: dict[int, int] = {}  # item → units its pool moves by
    if hot is not None and any(c.get("stock") is not None for c in items):
        async with db.read() as s:
            pools = {it.id: it.pool for it in (await get_session(s, session_id=session_id)).items}
        for c in items:
            if c.get("stock") is not None and c["id"] in pools:
                seen[c["id"]], moves[c["id"]] = pools[c["id"]], c["stock"] - pools[c["id"]]
    edit = uuid.uuid4().hex
    taken: list[int] = []
    try:
        for item_id, delta in moves.items():
            if delta < 0 and hot is not None:
                await _take_from_redis(
                    db, hot, marker=f"{edit}:{item_id}", item_id=item_id, old=seen[item_id], delta=delta
                )
                taken.append(item_id)
        async with _writer(db), db.tx() as s:
            sess = await _update_in_db(
                s,
                session_id=session_id,
                title=title,
                starts_at=starts_at,
                ends_at=ends_at,
                items=items,
                pools_seen=seen if hot is not None else None,
            )
    except BaseException:
        for item_id in taken:
            await _redis_add(hot, marker=f"{edit}:{item_id}:undo", item_id=item_id, delta=-moves[item_id])
        raise
    for item_id, delta in moves.items():
        if delta > 0:
            await _redis_add(hot, marker=f"{edit}:{item_id}", item_id=item_id, delta=delta)
    for change in items:
        if change.get("stock") is not None:
            _sold_out_until.pop(change["id"], None)  # a raised pool sells at once, not after the hint expires
    await publish_items(db, sess)
    return sess


async def _redis_add(hot: Hot | None, *, marker: str, item_id: int, delta: int) -> None:
    """Units the database already holds in the pool: failing here leaves Redis short, so it is logged."""
    if hot is None:
        return
    try:
        await hot.resize(marker=marker, item_id=item_id, delta=delta)
    except Exception:
        log.exception("seckill item %s: %s pool units not added to Redis (undersold until a rebuild)", item_id, delta)


async def _take_from_redis(db: Database, hot: Hot, *, marker: str, item_id: int, old: int, delta: int) -> None:
    code, left = await hot.resize(marker=marker, item_id=item_id, delta=delta)
    if code == "MISSING" and await _load_item(db, hot, item_id):
        # Not in Redis (never attempted, or Redis lost it): build it first, so a rebuild racing this edit
        # cannot come later with the old pool.
        code, left = await hot.resize(marker=marker, item_id=item_id, delta=delta)
    if code == "TAKEN":
        raise Conflict(SeckillError.POOL_BELOW_SOLD, item_id=item_id, taken=old - left)


async def delete_session(s: AsyncSession, *, session_id: int) -> SeckillSession:
    """Withdraw a session: what is left of each pool goes back to the SKU's stock."""
    sess = await get_session(s, session_id=session_id)
    for it in sess.items:
        res = await s.execute(
            update(SeckillItem)
            .where(SeckillItem.id == it.id)
            .values(pool=SeckillItem.sold)
            .returning(SeckillItem.sku_id, SeckillItem.pool)
            .execution_options(synchronize_session=False)
        )
        sku_id, _ = res.one()
        await catalog.pool_to_stock(s, sku_id=sku_id, qty=it.pool - it.sold)  # `it` still holds the figures read before
    sess.status = "deleted"
    await s.flush()
    return sess


async def publish_items(db: Database, sess: SeckillSession) -> None:
    """Push a session's items to Redis (after the transaction that made or edited them committed)."""
    hot = get_hot()
    if hot is None:
        return
    for it in sess.items:
        if sess.status != "active":
            await hot.redis.hset(hot.k(f"sk:i:{it.id}"), mapping={"left": 0, "end": 0})
            continue
        await _load_item(db, hot, it.id)


# Redis loss vs. a consumer mid-batch. A consumer holds reservations it has read from the stream in
# memory until its transaction commits them as `sold`; a flush in that window erases them from Redis
# (`sk:pend`, the stream), and a rebuild reading `sold` before that commit handed the same units out again
# (84 shoppers "queued" for 50 units). So a consumer reads and commits under this lock held shared, and a
# rebuild takes it exclusively: it waits until every batch read before it is in `sold`, and no batch
# is read while it counts. On SQLite both are write transactions, which the database serialises anyway.
_FENCE = 0x5EC4_1D00


async def _fence(s: AsyncSession, *, exclusive: bool) -> None:
    if is_postgres(s):
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        await s.execute(text(f"SELECT {fn}(:k)"), {"k": _FENCE})


_rebuilds: dict[int, asyncio.Task[bool]] = {}


async def _rebuild(db: Database, hot: Hot, item_id: int) -> bool:
    """`_load_item` once per item at a time in this process: a crowd that finds an item missing waits
    for one rebuild instead of queueing a hundred on the lock."""
    task = _rebuilds.get(item_id)
    if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
        task = asyncio.ensure_future(_load_item(db, hot, item_id))
        _rebuilds[item_id] = task
        task.add_done_callback(lambda t: _rebuilds.pop(item_id, None) if _rebuilds.get(item_id) is t else None)
    return await asyncio.shield(task)


async def _load_item(db: Database, hot: Hot, item_id: int) -> bool:
    """(Re)build one item's Redis keys from the database. False if the item is unknown or withdrawn.
    Runs under the fence (exclusive), so `sold` already holds every reservation a consumer had read."""
    async with db.tx() as s:
        await _fence(s, exclusive=True)
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
            start_ms=_ms(sess.starts_at),
            end_ms=_ms(sess.ends_at),
            limit=it.per_user_limit,
            buyers={int(k): int(v) for k, v in buyers.items()},
        )
    if created:
        log.info("seckill item %s pool rebuilt in Redis from the database (pool %s, sold %s)", it.id, it.pool, it.sold)
    return True


# ---- customer reads -------------------------------------------------------------------------------


async def _remaining(items: Sequence[SeckillItem]) -> dict[int, int]:
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


async def shop_sessions(s: AsyncSession) -> dict[str, Any]:
    """Sessions not yet over (and those that ended in the last hour), with their items and stock left."""
    now = clock.now()
    q = (
        select(SeckillSession)
        .where(SeckillSession.status == "active", SeckillSession.ends_at > now.replace(microsecond=0) - _HOUR)
        .order_by(SeckillSession.starts_at, SeckillSession.id)
        .limit(20)
    )
    sessions = list((await s.scalars(q)).all())
    items = [it for sess in sessions for it in sess.items]
    found = await catalog.skus_for_sale(s, [it.sku_id for it in items])
    left = await _remaining(items)
    out = []
    for sess in sessions:
        rows = []
        for it in sess.items:
            if it.sku_id not in found:
                continue
            sku, prod = found[it.sku_id]
            rows.append(
                {
                    "id": it.id,
                    "session_id": sess.id,
                    "sku_id": it.sku_id,
                    "product_id": prod.id,
                    "title": prod.title,
                    "sku_name": sku.name,
                    "image": prod.images[0] if prod.images else None,
                    "price_fen": it.price_fen,
                    "original_price_fen": sku.price_fen,
                    "pool": it.pool,
                    "remaining": left[it.id],
                    "per_user_limit": it.per_user_limit,
                    "new_users_only": it.new_users_only,
                    "starts_at": sess.starts_at,
                    "ends_at": sess.ends_at,
                    "state": rules.item_state(now, sess.starts_at, sess.ends_at, left[it.id]),
                }
            )
        out.append(
            {
                "id": sess.id,
                "title": sess.title,
                "starts_at": sess.starts_at,
                "ends_at": sess.ends_at,
                "state": rules.window_state(now, sess.starts_at, sess.ends_at),
                "items": rows,
            }
        )
    return {"server_time": now, "sessions": out}


async def _item_and_session(s: AsyncSession, item_id: int) -> tuple[SeckillItem, SeckillSession]:
    row = (
        await s.execute(
            select(SeckillItem, SeckillSession)
            .join(SeckillSession, SeckillSession.id == SeckillItem.session_id)
            .where(SeckillItem.id == item_id, SeckillSession.status == "active")
        )
    ).one_or_none()
    if row is None:
        raise not_found("item")
    return row[0], row[1]


async def issue_token(db: Database, settings: Settings, *, item_id: int, customer_id: int) -> dict[str, Any]:
    """A one-time path token, from `token_lead_seconds` before the start until the end."""
    lim = await risk.limits(db)
    async with db.read() as s:
        it, sess = await _item_and_session(s, item_id)
        # "New users only" is decided here, off the hot path: no token, no attempt. Order creation
        # checks again as the second wall.
        if it.new_users_only and not await reports.is_new_customer(s, customer_id=customer_id):
            raise Conflict(SeckillError.NEW_USERS_ONLY)
    now = clock.now()
    if (sess.starts_at - now).total_seconds() > lim.token_lead_seconds:
        raise Conflict(SeckillError.NOT_STARTED, starts_at=sess.starts_at.isoformat())
    if now >= sess.ends_at:
        raise Conflict(SeckillError.ENDED)
    token, expires = risk.issue_token(settings.secret_key, item_id=item_id, customer_id=customer_id)
    return {"token": token, "expires_at": datetime.fromtimestamp(expires, tz=now.tzinfo)}


# ---- the order source -----------------------------------------------------------------------------


class SeckillSource(SourceDefaults):
    """Seckill orders: the activity price, the pool (not the SKU's stock), a 5-minute pay window."""

    name = "seckill"

    async def cancelled(self, s: AsyncSession, *, order: Order) -> None:
        """The unit goes back to the pool (the database here; Redis when OrderCancelled is handled)."""
        att = await s.scalar(select(SeckillAttempt).where(SeckillAttempt.order_id == order.id))
        if att is None:
            return
        it = await s.get(SeckillItem, att.item_id, populate_existing=True)
        sess = await s.get(SeckillSession, it.session_id) if it else None
        withdrawn = sess is not None and sess.status != "active"
        values: dict[str, Any] = {"sold": SeckillItem.sold - att.qty}
        if withdrawn:  # the pool was already handed back: this unit goes to the SKU's stock
            values["pool"] = SeckillItem.pool - att.qty
        await s.execute(
            update(SeckillItem)
            .where(SeckillItem.id == att.item_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if withdrawn and it is not None:
            await catalog.pool_to_stock(s, sku_id=it.sku_id, qty=att.qty)
        await s.execute(
            update(SeckillBuyer)
            .where(SeckillBuyer.item_id == att.item_id, SeckillBuyer.customer_id == att.customer_id)
            .values(qty=SeckillBuyer.qty - att.qty)
            .execution_options(synchronize_session=False)
        )
        _sold_out_until.pop(att.item_id, None)
        if not withdrawn:
            await _notify_waiting(s, item_id=att.item_id, why="restock")

    async def can_ship(self, s: AsyncSession, *, order: Order) -> str | None:
        return None


register_source(SeckillSource())


async def place_order(
    s: AsyncSession,
    *,
    customer_id: int,
    body: CheckoutIn,
    settings: Settings,
    item_id: int,
    reservation_id: str,
    nonce: str | None = None,
    attribution: dict[str, Any] | None = None,
) -> Order:
    """A seckill order in the caller's transaction: the buyer's limit and a unit of the pool taken, the
    order placed through checkout at the seckill price, and the attempt recorded with it (its unique
    attempt id makes a reservation one order at most)."""
    address = await checkout.resolve_address(s, customer_id=customer_id, body=body)
    items = checkout.merge_items(body.items, settings.max_line_qty)
    it = await s.scalar(select(SeckillItem).where(SeckillItem.id == item_id))
    if it is None:
        raise not_found("item")
    if len(items) != 1 or items[0][0] != it.sku_id:
        raise AppError(SeckillError.SKU_MISMATCH)
    qty = int(items[0][1])
    if it.new_users_only and not await reports.is_new_customer(s, customer_id=customer_id):
        raise Conflict(SeckillError.NEW_USERS_ONLY)
    await s.execute(
        _ins(s)(SeckillBuyer)
        .values(item_id=item_id, customer_id=customer_id, qty=0)
        .on_conflict_do_nothing(index_elements=["item_id", "customer_id"])
    )
    res = await s.execute(
        update(SeckillBuyer)
        .where(
            SeckillBuyer.item_id == item_id,
            SeckillBuyer.customer_id == customer_id,
            SeckillBuyer.qty + qty <= it.per_user_limit,
        )
        .values(qty=SeckillBuyer.qty + qty)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(SeckillError.LIMIT_REACHED)
    res = await s.execute(
        update(SeckillItem)
        .where(SeckillItem.id == item_id, SeckillItem.sold + qty <= SeckillItem.pool)
        .values(sold=SeckillItem.sold + qty)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(CatalogError.SOLD_OUT, "手慢了，已被抢光")
    plan = Plan(
        lines=(
            PlannedLine(
                sku_id=it.sku_id,
                qty=qty,
                activity_price_fen=it.price_fen,
                activity_label="秒杀价",
                take_sku_stock=False,
            ),
        ),
        source="seckill",
        source_ref=reservation_id,
        pay_minutes=rules.PAY_MINUTES,
        allows_coupons=False,
        attribution={"seckill_item_id": item_id},
    )
    order = await checkout.place(
        s, customer_id=customer_id, body=body, settings=settings, plan=plan, attribution=attribution, address=address
    )
    s.add(
        SeckillAttempt(
            attempt_id=reservation_id,
            token_nonce=nonce,
            item_id=item_id,
            customer_id=customer_id,
            qty=qty,
            status="succeeded",
            order_id=order.id,
            created_at=clock.now(),
        )
    )
    await s.flush()
    return order


@jobs.on("OrderCancelled", "seckill.release_to_redis")
async def _release_on_cancel(s: AsyncSession, job: jobs.Job) -> None:
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


# ---- notify-me and the sold-out page ---------------------------------------------------------------


async def notify_me(s: AsyncSession, *, item_id: int, customer_id: int) -> dict[str, Any]:
    """Record a restock / next-session request (once per shopper and item)."""
    it, _ = await _item_and_session(s, item_id)
    await s.execute(
        _ins(s)(SeckillNotify)
        .values(item_id=item_id, sku_id=it.sku_id, customer_id=customer_id, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["item_id", "customer_id"])
    )
    return {"item_id": item_id, "subscribed": True}


async def _notify_waiting(
    s: AsyncSession, *, item_id: int | None = None, sku_id: int | None = None, why: str, session_id: int | None = None
) -> None:
    q = select(SeckillNotify).where(SeckillNotify.notified_at.is_(None))
    q = q.where(SeckillNotify.item_id == item_id) if item_id else q.where(SeckillNotify.sku_id == sku_id)
    waiting = list((await s.scalars(q.limit(1000))).all())
    if not waiting:
        return
    now = clock.now()
    for n in waiting:
        n.notified_at = now
    await jobs.publish(
        s,
        "SeckillNotify",
        {
            "why": why,
            "item_id": item_id,
            "sku_id": sku_id,
            "session_id": session_id,
            "customer_ids": sorted({n.customer_id for n in waiting}),
        },
    )


async def _announce(s: AsyncSession, sess: SeckillSession) -> None:
    for it in sess.items:
        await _notify_waiting(s, sku_id=it.sku_id, why="next_session", session_id=sess.id)


async def similar_on_sale(s: AsyncSession, *, item_id: int, limit: int = 6) -> list[dict[str, Any]]:
    """Other products on sale, same category first: what a sold-out page offers instead."""
    it, _ = await _item_and_session(s, item_id)
    found = await catalog.skus_for_sale(s, [it.sku_id])
    cat = found[it.sku_id][1].category_id if it.sku_id in found else None
    prod_id = found[it.sku_id][1].id if it.sku_id in found else None
    picks: list[Any] = []
    if cat is not None:
        picks, _ = await catalog.list_products(s, category_id=cat, limit=limit + 1)
    if len(picks) <= limit:
        more, _ = await catalog.list_products(s, limit=limit + 1)
        picks += [p for p in more if p.id not in {x.id for x in picks}]
    out = []
    for p in picks:
        if p.id == prod_id:
            continue
        pub = catalog.to_public(p)
        out.append(
            {
                "id": pub.id,
                "title": pub.title,
                "price_fen": pub.price_fen,
                "image": pub.images[0] if pub.images else None,
            }
        )
    return out[:limit]


# ---- the attempt ------------------------------------------------------------------------------------

_local_stats: dict[int, Counter[str]] = {}
_missing: dict[int, float] = {}  # item ids known not to exist, to keep junk ids off the database


def _count(item_id: int, outcome: str) -> None:
    _local_stats.setdefault(item_id, Counter())[outcome] += 1


def _refuse(code: str) -> AppError:
    member = rules.REFUSALS.get(code)
    # A code the hot path learnt that this table has not: still a 409 with a Chinese message.
    return AppError(member) if member is not None else Conflict(code, "抢购未成功，请稍后重试")


@dataclass(frozen=True)
class Caller:
    id: int
    ip: str
    device_id: str | None


async def attempt(
    db: Database,
    settings: Settings,
    *,
    item_id: int,
    caller: Caller,
    qty: int,
    token: str | None,
    address: dict[str, Any] | None,
    address_id: int | None = None,
    captcha_id: str | None = None,
    captcha_answer: str | None = None,
) -> dict[str, Any]:
    """Try to win `qty` units: 202-style {attempt_id, status} or an AppError with a refusal code.
    Without `address` or `address_id` the order ships to the shopper's default address."""
    nonce = risk.token_nonce(settings.secret_key, token, item_id=item_id, customer_id=caller.id)
    lim = await risk.limits(db)
    cap = risk.captcha_passed(settings.secret_key, captcha_id, captcha_answer, customer_id=caller.id)
    aid = rules.new_attempt_id(item_id, caller.id)
    hot = get_hot()
    if hot is None:
        return await _attempt_embedded(
            db,
            settings,
            lim=lim,
            item_id=item_id,
            caller=caller,
            qty=qty,
            nonce=nonce,
            address=address,
            address_id=address_id,
            captcha_ok=cap,
            aid=aid,
        )
    if _sold_out_until.get(item_id, 0) > asyncio.get_running_loop().time():
        raise _refuse("SOLD_OUT")  # a storm on a spent pool: answered here for a moment, not by Redis
    if address is None and address_id is None and not await address_state.has_default(db, caller.id):
        # Refused up front, from this process's memory (addresses/state.py), not with a query per attempt:
        # a unit won by a shopper whose order could not be addressed would only go back to the pool later.
        raise _refuse("ADDRESS_REQUIRED")
    t = Try(
        aid,
        item_id,
        caller.id,
        qty,
        caller.ip,
        caller.device_id or "",
        nonce,
        cap,
        json.dumps(_payload(address, address_id), ensure_ascii=False, separators=(",", ":")),
    )
    limits = (lim.window_seconds * 1000, lim.per_user, lim.per_ip, lim.per_device, lim.captcha_after)
    code = await hot.submit(t, now_ms=_ms(clock.now()), limits=limits)
    if code == "MISSING":
        # Unknown to Redis: a new item, or Redis lost its keys. Rebuild from the database (rare), retry once.
        if _missing.get(item_id, 0) > asyncio.get_running_loop().time() or not await _rebuild(db, hot, item_id):
            _missing[item_id] = asyncio.get_running_loop().time() + 5
            raise not_found("item")
        code = await hot.submit(t, now_ms=_ms(clock.now()), limits=limits)
        if code == "MISSING":
            raise not_found("item")
    if code != "OK":
        if code == "SOLD_OUT":
            _sold_out_until[item_id] = asyncio.get_running_loop().time() + _SOLD_OUT_HINT_SECONDS
        raise _refuse(code)
    return {"attempt_id": aid, "status": "queued"}


def _payload(address: dict[str, Any] | None, address_id: int | None) -> dict[str, Any]:
    """What the stream entry carries for the order's address: the inline address itself (as before the
    address book, so entries queued by an older process read the same), `{"address_id": n}`, or `{}` for
    the default address, which the consumer reads when it creates the order."""
    if address is not None:
        return address
    return {"address_id": address_id} if address_id is not None else {}


def _checkout(sku_id: int, qty: int, payload: dict[str, Any]) -> CheckoutIn:
    if "address_id" in payload:
        return CheckoutIn(items=[CartItem(sku_id=sku_id, qty=qty)], address_id=payload["address_id"])
    return CheckoutIn.model_validate({"items": [{"sku_id": sku_id, "qty": qty}], "address": payload or None})


_SOLD_OUT_HINT_SECONDS = 0.5
_sold_out_until: dict[int, float] = {}


def forget_hints() -> None:
    """Drop this process's per-item hints (sold out, unknown): for a database emptied under a running
    process, as the tests do between cases, where item ids start again."""
    _sold_out_until.clear()
    _missing.clear()


_writers: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


def _writer(db: Database) -> Any:
    """SQLite takes one writer at a time anyway: queue attempts here, not for pooled connections."""
    if not db.is_sqlite:
        return contextlib.nullcontext()
    loop = asyncio.get_running_loop()
    if loop not in _writers:
        _writers.clear()  # one loop per process in production; tests start a new one per test
        _writers[loop] = asyncio.Lock()
    return _writers[loop]


async def _attempt_embedded(
    db: Database,
    settings: Settings,
    *,
    lim: Any,
    item_id: int,
    caller: Caller,
    qty: int,
    nonce: str,
    address: dict[str, Any] | None,
    address_id: int | None,
    captcha_ok: bool,
    aid: str,
) -> dict[str, Any]:
    try:
        await risk.gate_embedded(
            lim, customer_id=caller.id, ip=caller.ip, device_id=caller.device_id, captcha_ok=captcha_ok
        )
    except AppError as exc:
        _count(item_id, exc.code)
        raise
    loop_time = asyncio.get_running_loop().time()
    if _sold_out_until.get(item_id, 0) > loop_time:
        _count(item_id, "SOLD_OUT")
        raise _refuse("SOLD_OUT")
    try:
        async with _writer(db), db.tx() as s:
            it, sess = await _item_and_session(s, item_id)
            state = rules.window_state(clock.now(), sess.starts_at, sess.ends_at)
            if state != "active":
                raise _refuse("NOT_STARTED" if state == "upcoming" else "ENDED")
            if qty > it.per_user_limit:
                raise _refuse("LIMIT_REACHED")
            used = await s.scalar(select(SeckillAttempt.id).where(SeckillAttempt.token_nonce == nonce))
            if used is not None:
                raise _refuse("BAD_TOKEN")
            order = await place_order(
                s,
                customer_id=caller.id,
                body=_checkout(it.sku_id, qty, _payload(address, address_id)),
                settings=settings,
                item_id=item_id,
                reservation_id=aid,
                nonce=nonce,
                attribution={"ip": caller.ip, "device_id": caller.device_id},
            )
    except IntegrityError:
        _count(item_id, "BAD_TOKEN")
        raise _refuse("BAD_TOKEN") from None  # the same token raced itself: one won
    except AppError as exc:
        _count(item_id, exc.code)
        if exc.code == "SOLD_OUT":
            # A storm on a spent pool is answered from memory for a moment; a cancellation shows within it.
            _sold_out_until[item_id] = asyncio.get_running_loop().time() + _SOLD_OUT_HINT_SECONDS
        raise
    _count(item_id, "OK")
    return {"attempt_id": aid, "status": "succeeded", "order_id": order.id}


async def attempt_status(db: Database, *, attempt_id: str, customer_id: int) -> dict[str, Any]:
    """Where an attempt is: queued, succeeded (with the order id) or failed (with the reason)."""
    owner = rules.attempt_owner(attempt_id)
    if owner is None or owner[1] != customer_id:
        raise NotFound(SeckillError.ATTEMPT_NOT_FOUND)
    hot = get_hot()
    if hot is not None:
        h = await hot.redis.hgetall(hot.k(f"sk:a:{attempt_id}"))
        if h:
            out: dict[str, Any] = {"attempt_id": attempt_id, "status": h.get("s", "queued")}
            if h.get("o"):
                out["order_id"] = int(h["o"])
            if h.get("r"):
                out["reason"] = h["r"]
            return out
    async with db.read() as s:
        att = await s.scalar(select(SeckillAttempt).where(SeckillAttempt.attempt_id == attempt_id))
    if att is None or att.customer_id != customer_id:
        if hot is None:
            raise NotFound(SeckillError.ATTEMPT_NOT_FOUND)
        # Redis forgot it (expired, or lost with Redis) and no consumer recorded it.
        return {"attempt_id": attempt_id, "status": "failed", "reason": "LOST"}
    out = {"attempt_id": attempt_id, "status": att.status}
    if att.order_id:
        out["order_id"] = att.order_id
    if att.reason:
        out["reason"] = att.reason
    return out


# ---- the stream consumer ----------------------------------------------------------------------------


def consumer_name() -> str:
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
            order = await place_order(
                s,
                customer_id=e.customer_id,
                body=_checkout(it.sku_id, e.qty, e.address),
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
        await _fence(s, exclusive=False)
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


# ---- the console's figures --------------------------------------------------------------------------


async def board(db: Database, *, session_id: int) -> dict[str, Any]:
    """Live figures per item: outcomes by code, sold (database), remaining (Redis or database)."""
    async with db.read() as s:
        sess = await get_session(s, session_id=session_id)
        items = list(sess.items)
        paid = dict(
            (
                await s.execute(
                    select(SeckillAttempt.item_id, func.count())
                    .join(Order, Order.id == SeckillAttempt.order_id)
                    .where(SeckillAttempt.item_id.in_([i.id for i in items]), Order.paid_at.is_not(None))
                    .group_by(SeckillAttempt.item_id)
                )
            ).all()
        )
    left = await _remaining(items)
    hot = get_hot()
    rows = []
    for it in items:
        if hot is not None:
            st = {k: int(v) for k, v in (await hot.redis.hgetall(hot.k(f"sk:st:{it.id}"))).items()}
        else:
            st = dict(_local_stats.get(it.id, Counter()))
        rows.append(
            {
                "item_id": it.id,
                "sku_id": it.sku_id,
                "pool": it.pool,
                "sold": it.sold,
                "paid": int(paid.get(it.id, 0)),
                "remaining": left[it.id],
                "attempts": sum(st.values()),
                "accepted": st.get("OK", 0),
                "refused": {k: v for k, v in st.items() if k != "OK"},
            }
        )
    now = clock.now()
    return {
        "session_id": sess.id,
        "server_time": now,
        "state": rules.window_state(now, sess.starts_at, sess.ends_at),
        "items": rows,
    }
