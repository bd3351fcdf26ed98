"""The shop's activity list carries each product's card, so the home page's 拼团 row needs no other call."""

from __future__ import annotations

from tests.groupbuy.helpers import API, make_activity
from tests.helpers import admin, product


async def test_live_activities_carry_their_products_card_and_skip_off_shelf_products(client, db):
    boss = await admin(client, db)
    shown = await product(client, boss, prices=(2990, 4990), title="拼团脐橙")
    hidden = await product(client, boss, title="已下架")
    act = await make_activity(client, boss, shown, stock=None)
    await make_activity(client, boss, hidden, stock=None)
    r = await client.put(f"/api/admin/v1/products/{hidden['id']}", json={"status": "off_sale"}, headers=boss)
    assert r.status_code == 200, r.text

    rows = (await client.get(f"{API}/activities")).json()
    assert [(a["id"], a["product"]) for a in rows] == [
        (act["id"], {"id": shown["id"], "title": "拼团脐橙", "image": None, "price_fen": 2990})
    ]
    assert rows[0]["skus"] == [{"sku_id": shown["skus"][0]["id"], "price_fen": 990}]
    one = (await client.get(f"{API}/activities", params={"product_id": shown["id"]})).json()
    assert [a["id"] for a in one] == [act["id"]]
