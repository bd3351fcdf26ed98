"""A product's page asks GET /seckill/products/{id} for its flash sale: the live or upcoming items with their
price and window, nothing for a product in no session or in one that has ended."""

from __future__ import annotations

from fissionmall.core import clock
from tests.helpers import admin, product, shopper
from tests.seckill.helpers import attempt, drain, session


async def test_a_product_shows_its_live_and_upcoming_items_and_not_ended_ones(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(19900, 25900))
    plain = await product(client, boss, title="不参加秒杀")
    live = await session(client, boss, p["skus"][0]["id"], price_fen=9900, starts_in=-60, minutes=60)
    soon = await session(client, boss, p["skus"][1]["id"], price_fen=12900, starts_in=3600, minutes=60)
    await session(client, boss, p["skus"][1]["id"], price_fen=100, starts_in=-7200, minutes=60)  # over

    r = await client.get(f"/api/v1/seckill/products/{p['id']}")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["server_time"]
    rows = [(it["id"], it["sku_id"], it["price_fen"], it["original_price_fen"], it["state"]) for it in data["items"]]
    assert rows == [
        (live["items"][0]["id"], p["skus"][0]["id"], 9900, 19900, "active"),
        (soon["items"][0]["id"], p["skus"][1]["id"], 12900, 25900, "upcoming"),
    ]
    assert data["items"][0]["remaining"] == 50 and data["items"][0]["per_user_limit"] == 1

    assert (await client.get(f"/api/v1/seckill/products/{plain['id']}")).json()["items"] == []
    assert (await client.get("/api/v1/seckill/products/999999")).json()["items"] == []
    assert (await client.get("/api/v1/seckill/products/0")).status_code == 422


async def test_a_sold_out_item_stays_on_the_page_as_sold_out_until_its_session_ends(client, db):
    boss = await admin(client, db)
    p = await product(client, boss)
    sess = await session(client, boss, p["skus"][0]["id"], pool=1, starts_in=-60, minutes=60)
    r = await attempt(client, await shopper(client, "sk-offer"), sess["items"][0]["id"])
    assert r.status_code == 202, r.text
    await drain(db)
    items = (await client.get(f"/api/v1/seckill/products/{p['id']}")).json()["items"]
    assert [it["state"] for it in items] == ["sold_out"]

    clock.advance(2 * 3600)
    assert (await client.get(f"/api/v1/seckill/products/{p['id']}")).json()["items"] == []
