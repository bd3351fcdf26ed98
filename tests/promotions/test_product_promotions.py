"""The product page (GET /api/v1/products/{id}) names the live promotions that cover it."""

from __future__ import annotations

from tests.helpers import admin, product, shopper
from tests.pricing.helpers import ADMIN, iso, promotion


async def test_product_shows_its_live_promotions_and_not_paused_ones(client, db):
    boss = await admin(client, db)
    p = await product(client, boss)
    promo = await promotion(
        client, boss, kind="full_reduction", name="满100减20", tiers=[{"threshold": 10000, "amount_fen": 2000}]
    )
    r = await client.get(f"/api/v1/products/{p['id']}")
    shown = r.json()["promotions"]
    assert [(x["id"], x["kind"], x["name"]) for x in shown] == [(promo["id"], "full_reduction", "满100减20")]
    assert "100" in shown[0]["label"] and "20" in shown[0]["label"]


async def test_a_live_limited_discount_gives_each_sku_the_price_checkout_charges_for_one_unit(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(8900, 9900, 5000))
    a, b, c = (k["id"] for k in p["skus"])
    promo = await promotion(
        client,
        boss,
        kind="limited_discount",
        name="限时8折",
        items=[{"sku_id": a, "percent_bp": 2000}, {"sku_id": b, "price_fen": 6900}],
    )
    # a tiered price on the same SKU is priced first, as checkout does: 8折 of its ¥80, not of ¥89
    await promotion(
        client, boss, kind="tiered_price", name="阶梯", sku_id=a, price_tiers=[{"min_qty": 1, "unit_price_fen": 8000}]
    )
    me = await shopper(client, "lim")
    skus = {k["id"]: k for k in (await client.get(f"/api/v1/products/{p['id']}")).json()["skus"]}
    for sku_id in (a, b):
        r = await client.post("/api/v1/checkout/preview", json={"items": [{"sku_id": sku_id, "qty": 1}]}, headers=me)
        q = r.json()
        assert skus[sku_id]["limited_price_fen"] == q["goods_fen"] - q["discount_fen"]
        assert skus[sku_id]["limited_ends_at"] == promo["ends_at"]
    assert (skus[a]["limited_price_fen"], skus[b]["limited_price_fen"]) == (6400, 6900)
    assert "limited_price_fen" not in skus[c] and "limited_ends_at" not in skus[c]
    assert skus[a]["price_fen"] == 8900  # the existing field keeps the catalogue price


async def test_a_limited_discount_not_yet_started_or_paused_gives_no_price(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(8900,))
    sku = p["skus"][0]["id"]
    items = [{"sku_id": sku, "percent_bp": 2000}]
    await promotion(client, boss, kind="limited_discount", name="未开始", items=items, starts_at=iso(1), ends_at=iso(2))
    paused = await promotion(client, boss, kind="limited_discount", name="暂停", items=items)
    r = await client.put(f"{ADMIN}/promotions/{paused['id']}", json={"status": "paused"}, headers=boss)
    assert r.status_code == 200, r.text
    (k,) = (await client.get(f"/api/v1/products/{p['id']}")).json()["skus"]
    assert "limited_price_fen" not in k and "limited_ends_at" not in k
