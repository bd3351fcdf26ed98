"""Shared steps for the points-mall tests: a coupon template, items, points for a shopper, a redemption."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from fissionmall.catalog.models import Sku
from fissionmall.core.db import Database
from fissionmall.points import ledger
from fissionmall.pointsmall.models import MallItem, MallQuota, Redemption
from tests.helpers import ADDRESS, admin, product, shopper

API = "/api/v1/points/mall"
ADMIN = "/api/admin/v1/points/mall"


async def me(client: httpx.AsyncClient, h: dict[str, str]) -> int:
    r = await client.get("/api/v1/me", headers=h)
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


async def give_points(db: Database, customer_id: int, points: int, ref: str = "test") -> None:
    async with db.tx() as s:
        await ledger.grant(s, customer_id=customer_id, points=points, kind="adjust", ref=f"{ref}:{customer_id}")


async def balance(db: Database, customer_id: int) -> int:
    async with db.read() as s:
        got = await ledger.balance(s, customer_id=customer_id)
        assert got == await ledger.entries_sum(s, customer_id=customer_id)
        return got


async def template(client: httpx.AsyncClient, boss: dict[str, str], **over: Any) -> dict[str, Any]:
    body = {
        "name": "5元无门槛券",
        "kind": "amount",
        "amount_fen": 500,
        "threshold_fen": 0,
        "valid_days": 30,
        "per_user_limit": 100,
        "issue_mode": "operator",
        **over,
    }
    r = await client.post("/api/admin/v1/coupons/templates", json=body, headers=boss)
    assert r.status_code == 201, r.text
    return r.json()


async def coupon_item(
    client: httpx.AsyncClient, boss: dict[str, str], tpl: dict[str, Any], **over: Any
) -> dict[str, Any]:
    body = {"kind": "coupon", "coupon_template_id": tpl["id"], "points": 500, "stock": 100, "per_user_limit": 0}
    r = await client.post(ADMIN, json={**body, **over}, headers=boss)
    assert r.status_code == 201, r.text
    return r.json()


async def product_item(client: httpx.AsyncClient, boss: dict[str, str], sku_id: int, **over: Any) -> dict[str, Any]:
    body = {"kind": "product", "sku_id": sku_id, "points": 300, "cash_fen": 990, "stock": 3, "per_user_limit": 0}
    r = await client.post(ADMIN, json={**body, **over}, headers=boss)
    assert r.status_code == 201, r.text
    return r.json()


async def redeem(client: httpx.AsyncClient, h: dict[str, str], item: dict[str, Any], **body: Any) -> httpx.Response:
    if item["kind"] == "product" and "address_id" not in body:
        body.setdefault("address", ADDRESS)
    return await client.post(f"{API}/{item['id']}/redeem", json=body, headers=h)


async def snapshot(db: Database, item_id: int) -> dict[str, Any]:
    """What a refused redemption must leave unchanged."""
    async with db.read() as s:
        it = await s.scalar(select(MallItem).where(MallItem.id == item_id).execution_options(populate_existing=True))
        assert it is not None
        sku = await s.scalar(select(Sku.stock).where(Sku.id == it.sku_id)) if it.sku_id else None
        return {
            "units_left": it.units_left,
            "redeemed": it.redeemed,
            "stock": it.stock,
            "sku_stock": sku,
            "used": int(await s.scalar(select(func.coalesce(func.sum(MallQuota.used), 0))) or 0),
            "redemptions": int(await s.scalar(select(func.count()).select_from(Redemption)) or 0),
        }


async def sku_stock(db: Database, sku_id: int) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(Sku.stock).where(Sku.id == sku_id)) or 0)


async def ready(
    client: httpx.AsyncClient, db: Database, *, points: int, **item: Any
) -> tuple[dict[str, str], int, dict[str, Any], dict[str, str], int]:
    """An owner, a SKU with 10 in stock, a product item of it, and a shopper with `points`:
    (owner headers, sku id, item, shopper headers, customer id)."""
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    it = await product_item(client, boss, sku, **item)
    h = await shopper(client)
    cid = await me(client, h)
    await give_points(db, cid, points)
    return boss, sku, it, h, cid
