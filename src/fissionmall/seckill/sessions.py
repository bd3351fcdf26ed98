"""Flash-sale sessions and their items, as the operator keeps them: create, read, edit, withdraw.

Each item's pool is real stock: it leaves the SKU's stock when the session is made and goes back when
the pool shrinks or the session is withdrawn (`catalog.stock_to_pool` / `pool_to_stock`). An edit that
moves a pool moves Redis's copy too (mirror.py), ordered so that no failure midway oversells.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.catalog.errors import CatalogError
from fissionmall.core import clock, jobs
from fissionmall.core.db import Database, keyset_page
from fissionmall.core.errors import AppError, Conflict, not_found
from fissionmall.seckill import memory, mirror, notify, rules
from fissionmall.seckill.errors import SeckillError
from fissionmall.seckill.hot import get_hot
from fissionmall.seckill.models import SeckillItem, SeckillSession


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
    found = await catalog.skus_for_sale(s, sku_ids=[i.sku_id for i in items])
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
        rules.check_flash_price(price_fen=spec.price_fen, sku_price_fen=sku.price_fen, sku_id=spec.sku_id)
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
    await notify.announce(s, sess=sess)
    return sess


async def get_session(s: AsyncSession, *, session_id: int) -> SeckillSession:
    """An active (not withdrawn) session with its items, read afresh; NotFound otherwise."""
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
    """Active sessions, newest first, a keyset page at a time."""
    q = select(SeckillSession).where(SeckillSession.status == "active").order_by(SeckillSession.id.desc())
    if before_id:
        q = q.where(SeckillSession.id < before_id)
    return await keyset_page(s, q, limit=limit)


async def get_item(s: AsyncSession, *, item_id: int) -> tuple[SeckillItem, SeckillSession]:
    """An item of an active session, with its session; NotFound otherwise."""
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
    priced = [by_id[c["id"]].sku_id for c in items or [] if c.get("price_fen") is not None]
    found = await catalog.skus_for_sale(s, sku_ids=priced, with_stock=False) if priced else {}
    for change in items or []:
        sku_id = by_id[change["id"]].sku_id
        if change.get("price_fen") is not None and sku_id in found:  # a SKU off sale meanwhile sells nothing
            rules.check_flash_price(
                price_fen=change["price_fen"], sku_price_fen=found[sku_id][0].price_fen, sku_id=sku_id
            )
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
                await mirror.take_units(
                    db, hot=hot, marker=f"{edit}:{item_id}", item_id=item_id, old=seen[item_id], delta=delta
                )
                taken.append(item_id)
        async with memory.writer(db), db.tx() as s:
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
            await mirror.add_units(hot, marker=f"{edit}:{item_id}:undo", item_id=item_id, delta=-moves[item_id])
        raise
    for item_id, delta in moves.items():
        if delta > 0:
            await mirror.add_units(hot, marker=f"{edit}:{item_id}", item_id=item_id, delta=delta)
    for change in items:
        if change.get("stock") is not None:
            memory.forget_sold_out(change["id"])  # a raised pool sells at once, not after the hint expires
    await mirror.publish_items(db, sess=sess)
    return sess


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
