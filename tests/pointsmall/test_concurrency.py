"""Redemptions under real concurrent requests (asyncio.gather through the ASGI app: each in its own
transaction, at once on PostgreSQL, queued on SQLite's write lock): stock 3 → exactly 3 redeemed, a
per-user limit never passed, and points never spent twice or below zero."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from fissionmall.orders.models import Order
from fissionmall.pointsmall.models import Redemption
from tests.helpers import admin, product, shopper
from tests.pointsmall.helpers import balance, coupon_item, give_points, me, product_item, redeem, sku_stock, template


async def _shoppers(client, db, n: int, points: int) -> list[tuple[dict[str, str], int]]:
    out = []
    for i in range(n):
        h = await shopper(client, f"redeemer{i}")
        cid = await me(client, h)
        await give_points(db, cid, points)
        out.append((h, cid))
    return out


async def test_10_concurrent_redemptions_of_an_item_with_stock_3_redeem_exactly_3(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    item = await product_item(client, boss, sku, stock=3)
    people = await _shoppers(client, db, 10, 300)

    results = await asyncio.gather(*(redeem(client, h, item) for h, _ in people))

    codes = Counter(r.status_code for r in results)
    assert codes == {201: 3, 409: 7}, [r.text for r in results]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"MALL_SOLD_OUT"}
    winners = {cid for (h, cid), r in zip(people, results, strict=True) if r.status_code == 201}
    for _, cid in people:
        assert await balance(db, cid) == (0 if cid in winners else 300)
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 3
        assert await s.scalar(select(func.count()).select_from(Redemption)) == 3
    assert await sku_stock(db, sku) == 7  # the SKU's own stock untouched by the redemptions
    listed = (await client.get(f"/api/admin/v1/points/mall/{item['id']}", headers=boss)).json()
    assert (listed["units_left"], listed["redeemed"], listed["state"]) == (0, 3, "已兑完")


async def test_10_concurrent_coupon_redemptions_with_stock_3_grant_exactly_3(client, db):
    boss = await admin(client, db)
    item = await coupon_item(client, boss, await template(client, boss), stock=3)
    people = await _shoppers(client, db, 10, 500)
    results = await asyncio.gather(*(redeem(client, h, item) for h, _ in people))
    assert Counter(r.status_code for r in results) == {201: 3, 409: 7}
    assert sum([await balance(db, cid) for _, cid in people]) == 7 * 500


async def test_one_shopper_tapping_10_times_at_once_gets_the_per_user_limit_only(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=50))["skus"][0]["id"]
    item = await product_item(client, boss, sku, stock=20, per_user_limit=2)
    ((h, cid),) = await _shoppers(client, db, 1, 10_000)

    results = await asyncio.gather(*(redeem(client, h, item) for _ in range(10)))

    assert Counter(r.status_code for r in results) == {201: 2, 409: 8}, [r.text for r in results]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"MALL_LIMIT_REACHED"}
    assert await balance(db, cid) == 10_000 - 2 * 300
    mine = (await client.get("/api/v1/points/mall", headers=h)).json()
    assert [(i["units_left"], i["my_left"]) for i in mine] == [(18, 0)]


async def test_concurrent_redemptions_never_spend_more_points_than_the_shopper_has(client, db):
    boss = await admin(client, db)
    item = await coupon_item(client, boss, await template(client, boss), points=400)
    ((h, cid),) = await _shoppers(client, db, 1, 1000)
    results = await asyncio.gather(*(redeem(client, h, item) for _ in range(10)))
    assert Counter(r.status_code for r in results) == {201: 2, 409: 8}
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"INSUFFICIENT_POINTS"}
    assert await balance(db, cid) == 200
    got = (await client.get(f"/api/admin/v1/points/mall/{item['id']}", headers=boss)).json()
    assert (got["units_left"], got["redeemed"]) == (98, 2)
