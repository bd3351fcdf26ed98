"""What shoppers see of flash sales: the sessions board, a product's offers for its page, and the sold-out
page's notify-me and similar products."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.core import clock
from fissionmall.core.db import is_postgres
from fissionmall.seckill import mirror, rules, sessions
from fissionmall.seckill.models import SeckillNotify, SeckillSession

_HOUR = timedelta(hours=1)


async def current_sessions(s: AsyncSession) -> dict[str, Any]:
    """Sessions not yet over (and those that ended in the last hour), with their items and stock left."""
    now = clock.now()
    q = (
        select(SeckillSession)
        .where(SeckillSession.status == "active", SeckillSession.ends_at > now.replace(microsecond=0) - _HOUR)
        .order_by(SeckillSession.starts_at, SeckillSession.id)
        .limit(20)
    )
    found_sessions = list((await s.scalars(q)).all())
    items = [it for sess in found_sessions for it in sess.items]
    found = await catalog.skus_for_sale(s, sku_ids=[it.sku_id for it in items])
    left = await mirror.remaining(items=items)
    out = []
    for sess in found_sessions:
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


async def product_offers(s: AsyncSession, *, product_id: int) -> dict[str, Any]:
    """The product page's flash sale: the product's items in sessions running or to come (sold-out ones
    too, so the page can say 已抢光 rather than fall back to the full price silently), soonest first."""
    board = await current_sessions(s)
    items = [
        it
        for sess in board["sessions"]
        for it in sess["items"]
        if it["product_id"] == product_id and it["state"] != "ended"
    ]
    return {"server_time": board["server_time"], "items": items}


async def notify_me(s: AsyncSession, *, item_id: int, customer_id: int) -> dict[str, Any]:
    """Record a restock / next-session request (once per shopper and item)."""
    it, _ = await sessions.get_item(s, item_id=item_id)
    ins = pg_insert if is_postgres(s) else sqlite_insert
    await s.execute(
        ins(SeckillNotify)
        .values(item_id=item_id, sku_id=it.sku_id, customer_id=customer_id, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["item_id", "customer_id"])
    )
    return {"item_id": item_id, "subscribed": True}


async def similar_on_sale(s: AsyncSession, *, item_id: int, limit: int = 6) -> list[dict[str, Any]]:
    """Other products on sale, same category first: what a sold-out page offers instead."""
    it, _ = await sessions.get_item(s, item_id=item_id)
    found = await catalog.skus_for_sale(s, sku_ids=[it.sku_id])
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
