"""Steps the flash-sale tests share."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.orders.models import Order
from fissionmall.seckill import consumer
from fissionmall.seckill.hot import get_hot
from fissionmall.seckill.models import SeckillItem
from tests.helpers import ADDRESS, shopper

LOOSE = {
    "window_seconds": 10,
    "per_user": 1_000_000,
    "per_ip": 1_000_000,
    "per_device": 1_000_000,
    "captcha_after": 1_000_000,
    "token_lead_seconds": 60,
}


async def loosen(client: httpx.AsyncClient, boss: dict[str, str], **over: int) -> None:
    r = await client.put("/api/admin/v1/risk/limits", json={**LOOSE, **over}, headers=boss)
    assert r.status_code == 200, r.text


async def session(
    client: httpx.AsyncClient,
    boss: dict[str, str],
    sku_id: int,
    *,
    pool: int | None = 50,
    limit: int = 1,
    starts_in: float = -1,
    minutes: int = 60,
    price_fen: int = 990,
    new_users_only: bool = False,
) -> dict[str, Any]:
    start = clock.now() + timedelta(seconds=starts_in)
    item: dict[str, Any] = {"sku_id": sku_id, "price_fen": price_fen, "per_user_limit": limit}
    if pool is not None:
        item["stock"] = pool
    if new_users_only:
        item["new_users_only"] = True
    body = {
        "title": "10点场",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(minutes=minutes)).isoformat(),
        "items": [item],
    }
    r = await client.post("/api/admin/v1/seckill/sessions", json=body, headers=boss)
    assert r.status_code == 201, r.text
    return r.json()


async def token(client: httpx.AsyncClient, h: dict[str, str], item_id: int) -> str:
    r = await client.post(f"/api/v1/seckill/items/{item_id}/token", headers=h)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


async def attempt(
    client: httpx.AsyncClient, h: dict[str, str], item_id: int, *, qty: int = 1, tok: str | None = None, **extra: Any
) -> httpx.Response:
    if tok is None:
        tok = await token(client, h, item_id)
    body = {"qty": qty, "token": tok, "address": ADDRESS, **extra}
    return await client.post(f"/api/v1/seckill/items/{item_id}/attempts", json=body, headers=h)


async def shoppers(client: httpx.AsyncClient, n: int, tag: str = "sk") -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for i in range(0, n, 100):
        out += await asyncio.gather(*(shopper(client, f"{tag}{j}") for j in range(i, min(n, i + 100))))
    return out


async def drain(db: Database, **kw: Any) -> int:
    return await consumer.drain(db, **kw)


async def redis_left(item_id: int) -> int | None:
    hot = get_hot()
    if hot is None:
        return None
    v = await hot.redis.hget(hot.k(f"sk:i:{item_id}"), "left")
    return None if v is None else int(v)


async def facts(db: Database, item_id: int) -> dict[str, Any]:
    async with db.read() as s:
        it = await s.get(SeckillItem, item_id, populate_existing=True)
        assert it is not None
        live = await s.scalar(
            select(func.count()).select_from(Order).where(Order.source == "seckill", Order.status != "cancelled")
        )
        buyers = await s.scalar(
            select(func.count(func.distinct(Order.customer_id))).where(
                Order.source == "seckill", Order.status != "cancelled"
            )
        )
        total = await s.scalar(select(func.count()).select_from(Order).where(Order.source == "seckill"))
    return {"pool": it.pool, "sold": it.sold, "live_orders": live, "buyers": buyers, "orders": total,
            "redis_left": await redis_left(item_id)}  # fmt: skip
