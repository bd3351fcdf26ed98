"""Promotions over HTTP: each kind priced into orders, gift stock, pause, usage figures, product badges."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from fissionmall.core import clock
from tests.helpers import admin, order, pay, product, run_jobs, shopper
from tests.pricing.helpers import ADMIN, claim, iso, preview, promotion, template


@pytest.fixture
async def shop(client, db):
    boss = await admin(client, db)
    tea = await product(client, boss, prices=(5000,), stock=100, title="茶叶")
    cup = await product(client, boss, prices=(1000,), stock=100, title="茶杯")
    me = await shopper(client, "alice")
    return {
        "boss": boss,
        "me": me,
        "tea": tea["skus"][0]["id"],
        "cup": cup["skus"][0]["id"],
        "tea_product": tea["id"],
        "cup_product": cup["id"],
    }


async def _steps(client, me, items, **extra):
    r = await preview(client, me, items, **extra)
    assert r.status_code == 200, r.text
    return r.json()


async def test_full_reduction_tiers_split_over_lines_and_stored_per_line(client, db, shop):
    await promotion(
        client,
        shop["boss"],
        kind="full_reduction",
        name="满100减20/满300减50",
        tiers=[{"threshold": 10000, "amount_fen": 2000}, {"threshold": 30000, "amount_fen": 5000}],
    )
    q = await _steps(client, shop["me"], [{"sku_id": shop["tea"], "qty": 2}, {"sku_id": shop["cup"], "qty": 1}])
    assert [(s["kind"], s["label"], s["amount_fen"]) for s in q["steps"]] == [
        ("goods", "商品金额", 11000),
        ("reduction", "满100减20/满300减50", -2000),
        ("shipping", "运费", 800),
    ]
    assert q["hints"] == ["再买190元减50元"]
    r = await order(client, shop["me"], [{"sku_id": shop["tea"], "qty": 2}, {"sku_id": shop["cup"], "qty": 1}])
    o = (await client.get(f"/api/v1/orders/{r.json()['id']}", headers=shop["me"])).json()
    assert [ln["discount_fen"] for ln in o["lines"]] == [1818, 182]
    assert o["payable_fen"] == 11000 - 2000 + 800


async def test_count_tiers_limited_discount_and_tiered_price(client, shop):
    boss = shop["boss"]
    await promotion(
        client,
        boss,
        kind="tiered_price",
        name="阶梯价",
        sku_id=shop["tea"],
        price_tiers=[{"min_qty": 1, "unit_price_fen": 5000}, {"min_qty": 3, "unit_price_fen": 4000}],
    )
    await promotion(
        client, boss, kind="limited_discount", name="限时8折", items=[{"sku_id": shop["cup"], "percent_bp": 2000}]
    )
    await promotion(
        client,
        boss,
        kind="full_reduction",
        name="满2件9折",
        basis="count",
        scope="products",
        scope_ids=[shop["cup_product"]],
        tiers=[{"threshold": 2, "percent_bp": 1000}],
    )
    q = await _steps(client, shop["me"], [{"sku_id": shop["tea"], "qty": 3}, {"sku_id": shop["cup"], "qty": 1}])
    assert [(s["kind"], s["amount_fen"]) for s in q["steps"]] == [
        ("goods", 16000),
        ("tiered", -3000),
        ("limited", -200),
        ("shipping", 800),
    ]
    assert q["hints"] == ["再买1件享9折"]
    q = await _steps(client, shop["me"], [{"sku_id": shop["cup"], "qty": 2}])
    assert [(s["kind"], s["amount_fen"]) for s in q["steps"]] == [
        ("goods", 2000),
        ("limited", -400),
        ("reduction", -160),
        ("shipping", 800),
    ]


async def test_free_shipping_over_a_threshold_survives_the_coupon(client, shop):
    await promotion(client, shop["boss"], kind="free_shipping", name="满99包邮", threshold=9900)
    t = await template(client, shop["boss"], amount_fen=500, threshold_fen=0)
    await claim(client, shop["me"], t["id"])
    q = await _steps(client, shop["me"], [{"sku_id": shop["tea"], "qty": 2}])
    assert q["shipping_fen"] == 0 and q["payable_fen"] == 9500
    q = await _steps(client, shop["me"], [{"sku_id": shop["tea"], "qty": 1}])
    assert q["shipping_fen"] == 800


async def test_full_gift_adds_a_zero_line_from_its_own_stock_and_gives_it_back_on_cancel(client, db, shop):
    p = await promotion(
        client, shop["boss"], kind="gift", name="满100赠茶杯", threshold=10000, gift_sku_id=shop["cup"], gift_stock=1
    )
    bob = await shopper(client, "bob")
    results = await asyncio.gather(
        order(client, shop["me"], [{"sku_id": shop["tea"], "qty": 2}]),
        order(client, bob, [{"sku_id": shop["tea"], "qty": 2}]),
    )
    codes = Counter(r.status_code for r in results)
    assert codes[201] >= 1
    gifted = []
    for r, who in zip(results, (shop["me"], bob), strict=True):
        if r.status_code == 201:
            o = (await client.get(f"/api/v1/orders/{r.json()['id']}", headers=who)).json()
            gifted += [(o["id"], who) for ln in o["lines"] if ln["sku_id"] == shop["cup"] and ln["payable_fen"] == 0]
        else:
            assert r.json()["error"]["code"] == "GIFT_OUT_OF_STOCK"
    assert len(gifted) == 1  # one gift in stock: never two
    assert (await client.get(f"{ADMIN}/promotions/{p['id']}", headers=shop["boss"])).json()["gift_given"] == 1
    oid, who = gifted[0]
    await client.post(f"/api/v1/orders/{oid}/cancel", headers=who)
    await run_jobs(db)
    assert (await client.get(f"{ADMIN}/promotions/{p['id']}", headers=shop["boss"])).json()["gift_given"] == 0


async def test_paused_or_ended_promotions_stop_pricing_and_usage_is_counted_on_payment(client, db, shop):
    p = await promotion(
        client, shop["boss"], kind="full_reduction", name="满50减5", tiers=[{"threshold": 5000, "amount_fen": 500}]
    )
    oid = (await order(client, shop["me"], [{"sku_id": shop["tea"], "qty": 1}])).json()["id"]
    await pay(client, shop["me"], oid)
    await run_jobs(db)
    got = (await client.get(f"{ADMIN}/promotions/{p['id']}", headers=shop["boss"])).json()
    assert (got["used_orders"], got["discount_fen"]) == (1, 500)
    await client.put(f"{ADMIN}/promotions/{p['id']}", json={"status": "paused"}, headers=shop["boss"])
    q = await _steps(client, shop["me"], [{"sku_id": shop["tea"], "qty": 1}])
    assert [s["kind"] for s in q["steps"]] == ["goods", "shipping"]
    await client.put(f"{ADMIN}/promotions/{p['id']}", json={"status": "active"}, headers=shop["boss"])
    clock.advance(8 * 86400)
    me = await shopper(client, "alice")  # tokens last a week
    q = await _steps(client, me, [{"sku_id": shop["tea"], "qty": 1}])
    assert [s["kind"] for s in q["steps"]] == ["goods", "shipping"]


async def test_product_badges_show_the_live_promotions_that_cover_it(client, shop):
    await promotion(
        client,
        shop["boss"],
        kind="full_reduction",
        name="茶杯满减",
        scope="products",
        scope_ids=[shop["cup_product"]],
        tiers=[{"threshold": 10000, "amount_fen": 1000}],
    )
    await promotion(client, shop["boss"], kind="free_shipping", name="包邮", threshold=9900)
    await promotion(
        client, shop["boss"], kind="free_shipping", name="未开始", threshold=1, starts_at=iso(1), ends_at=iso(2)
    )
    tea = (await client.get(f"/api/v1/promotions?product_id={shop['tea_product']}")).json()
    cup = (await client.get(f"/api/v1/promotions?product_id={shop['cup_product']}")).json()
    assert [b["label"] for b in tea] == ["满99元包邮"]
    assert [b["label"] for b in cup] == ["满100减10", "满99元包邮"]


async def test_a_promotion_on_an_unknown_sku_is_refused(client, shop):
    r = await client.post(
        f"{ADMIN}/promotions",
        json={
            "kind": "limited_discount",
            "name": "x",
            "starts_at": iso(-1),
            "ends_at": iso(1),
            "items": [{"sku_id": 999_999, "price_fen": 100}],
        },
        headers=shop["boss"],
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "SKU_NOT_FOUND")
