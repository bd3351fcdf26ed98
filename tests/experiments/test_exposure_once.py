"""Exposure is recorded once per shopper, even when the shop fires several previews at once (each preview
writes it in a short transaction of its own; the primary key and ON CONFLICT DO NOTHING keep one row)."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from fissionmall.experiments import checkout
from fissionmall.experiments.models import Exposure
from tests.experiments.helpers import body, experiment, shoppers_by_arm
from tests.helpers import admin, order, product
from tests.pricing.helpers import promotion


async def test_concurrent_previews_and_an_order_expose_the_shopper_once(client, db):
    boss = await admin(client, db)
    tea = await product(client, boss, prices=(6000,), stock=100, title="茶叶")
    sku = tea["skus"][0]["id"]
    tiers = [{"threshold": 10000, "amount_fen": 2000}]
    minus = await promotion(client, boss, kind="full_reduction", name="满100减20", tiers=tiers)
    free = await promotion(client, boss, kind="free_shipping", name="包邮", threshold=0)
    exp = await experiment(client, boss, **body([[minus["id"]], [free["id"]]], product_id=tea["id"]))
    (a, a2), (b, _b2) = await shoppers_by_arm(client, exp, per_arm=2)
    items = {"items": [{"sku_id": sku, "qty": 2}]}
    rs = await asyncio.gather(
        *[client.post("/api/v1/checkout/preview", json=items, headers=h) for h in (a, a, a, a, a, b, b, b)]
    )
    assert all(r.status_code == 200 for r in rs), [r.text for r in rs if r.status_code != 200]
    checkout.forget()  # as another process would: it does not know the rows are there
    assert (await client.post("/api/v1/checkout/preview", json=items, headers=a)).status_code == 200
    assert (await order(client, a, items["items"])).status_code == 201
    assert (await order(client, a2, items["items"])).status_code == 201  # placing exposes too
    # a cart without the product exposes nobody
    other = await product(client, boss, prices=(100,), title="别的")
    r = await client.post(
        "/api/v1/checkout/preview", json={"items": [{"sku_id": other["skus"][0]["id"], "qty": 1}]}, headers=b
    )
    assert r.status_code == 200
    async with db.read() as s:
        rows = (await s.execute(select(Exposure.customer_id, func.count()).group_by(Exposure.customer_id))).all()
    assert sorted(n for _, n in rows) == [1, 1, 1]
