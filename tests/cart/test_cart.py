"""The cart over HTTP: adds that add up under a crowd, the caps, the invalid lines, checkout from the cart."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, update

from fissionmall.cart import service as cart_service
from fissionmall.cart.models import CartItem
from fissionmall.catalog.models import Product, Sku
from fissionmall.catalog.service import CATALOG
from fissionmall.core import cache
from tests.helpers import ADDRESS, admin, product, shopper
from tests.pricing.helpers import claim, promotion, template

CART = "/api/v1/cart"


@pytest.fixture
async def shop(client, db):
    boss = await admin(client, db)
    tea = await product(client, boss, prices=(5000, 3000), stock=100, title="茶叶")
    cup = await product(client, boss, prices=(1000,), stock=5, title="茶杯")
    me = await shopper(client, "alice")
    return {
        "boss": boss,
        "me": me,
        "tea": tea["skus"][0]["id"],
        "tea2": tea["skus"][1]["id"],
        "cup": cup["skus"][0]["id"],
        "tea_product": tea["id"],
        "cup_product": cup["id"],
    }


async def add(client, me, sku_id, qty=1):
    return await client.post(f"{CART}/items", json={"sku_id": sku_id, "qty": qty}, headers=me)


async def get_cart(client, me):
    r = await client.get(CART, headers=me)
    assert r.status_code == 200, r.text
    return r.json()


async def rows(db):
    async with db.read() as s:
        return [(r.sku_id, r.qty) for r in (await s.scalars(select(CartItem).order_by(CartItem.sku_id))).all()]


async def test_adding_a_sku_twice_adds_to_its_line(client, shop):
    me = shop["me"]
    assert (await add(client, me, shop["tea"], 2)).status_code == 201
    r = await add(client, me, shop["tea"], 3)
    assert r.status_code == 201, r.text
    body = r.json()
    assert [(i["sku_id"], i["qty"], i["selected"], i["valid"]) for i in body["items"]] == [(shop["tea"], 5, True, True)]
    line = body["items"][0]
    assert (line["title"], line["sku_name"], line["unit_price_fen"], line["stock"]) == ("茶叶", "规格0", 5000, 100)
    assert (body["count"], body["units"], body["selected_count"], body["selected_fen"]) == (1, 5, 1, 25_000)
    assert (await client.get(f"{CART}/count", headers=me)).json() == {"count": 1}


async def test_20_concurrent_adds_of_one_sku_make_one_line_with_the_summed_quantity(client, db, shop):
    me = shop["me"]
    results = await asyncio.gather(*(add(client, me, shop["tea"], 2) for _ in range(20)))
    assert [r.status_code for r in results] == [201] * 20, [r.text for r in results if r.status_code != 201]
    assert await rows(db) == [(shop["tea"], 40)]


async def test_concurrent_adds_past_the_stock_never_put_more_in_a_line_than_is_in_stock(client, db, shop):
    me = shop["me"]
    results = await asyncio.gather(*(add(client, me, shop["cup"], 1) for _ in range(12)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201] * 5 + [409] * 7
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"CART_QTY_EXCEEDS_STOCK"}
    assert await rows(db) == [(shop["cup"], 5)]


async def test_bad_adds_and_changes_are_refused_with_a_code_and_change_nothing(client, db, shop):
    me = shop["me"]
    line = (await add(client, me, shop["cup"], 2)).json()["items"][0]["id"]
    other = await shopper(client, "bob")
    bobs = (await add(client, other, shop["tea"], 1)).json()["items"][0]["id"]
    before = await rows(db)
    cases = [
        (await add(client, me, shop["cup"], 0), 400, "CART_QTY_ZERO"),
        (await add(client, me, shop["cup"], 4), 409, "CART_QTY_EXCEEDS_STOCK"),
        (await add(client, me, 9_999_999, 1), 404, "SKU_NOT_FOUND"),
        (await client.patch(f"{CART}/items/{line}", json={"qty": 0}, headers=me), 400, "CART_QTY_ZERO"),
        (await client.patch(f"{CART}/items/{line}", json={"qty": 6}, headers=me), 409, "CART_QTY_EXCEEDS_STOCK"),
        (await client.patch(f"{CART}/items/{bobs}", json={"qty": 2}, headers=me), 404, "CART_ITEM_NOT_FOUND"),
        (await client.patch(f"{CART}/items/{bobs}", json={"selected": False}, headers=me), 404, "CART_ITEM_NOT_FOUND"),
        (await client.delete(f"{CART}/items/{bobs}", headers=me), 404, "CART_ITEM_NOT_FOUND"),
        (await client.post(f"{CART}/items", json={"sku_id": shop["tea"], "qty": 1000}, headers=me), 422, None),
    ]
    for r, status, code in cases:
        assert r.status_code == status, r.text
        if code:
            assert r.json()["error"]["code"] == code
    assert (await client.patch(f"{CART}/items/{line}", json={"qty": 6}, headers=me)).json()["error"]["detail"][
        "stock"
    ] == 5
    assert await rows(db) == before
    mine = await get_cart(client, me)
    assert [(i["qty"], i["selected"]) for i in mine["items"]] == [(2, True)]


async def test_a_full_cart_refuses_a_new_line_but_still_adds_to_a_line_it_has(client, db, shop, monkeypatch):
    monkeypatch.setattr(cart_service, "MAX_LINES", 2)
    me = shop["me"]
    await add(client, me, shop["tea"])
    await add(client, me, shop["tea2"])
    r = await add(client, me, shop["cup"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "CART_FULL"
    assert (await add(client, me, shop["tea"])).status_code == 201
    assert await rows(db) == sorted([(shop["tea"], 2), (shop["tea2"], 1)])


async def test_a_line_past_the_per_line_max_is_refused(client, db, shop, settings):
    settings.max_line_qty = 3
    r = await add(client, shop["me"], shop["tea"], 3)
    assert r.status_code == 201
    r = await add(client, shop["me"], shop["tea"], 1)
    assert r.status_code == 409 and r.json()["error"]["code"] == "CART_LINE_MAX"
    assert await rows(db) == [(shop["tea"], 3)]


async def _catalog(db, stmt):
    async with db.tx() as s:
        await s.execute(stmt)
        await cache.bump(s, CATALOG)


async def test_sold_out_off_shelf_and_gone_lines_are_invalid_and_a_price_change_is_flagged(client, db, shop):
    me = shop["me"]
    for sku in (shop["tea"], shop["tea2"], shop["cup"]):
        await add(client, me, sku)
    await _catalog(db, update(Sku).where(Sku.id == shop["tea"]).values(price_fen=4500))
    await _catalog(db, update(Sku).where(Sku.id == shop["tea2"]).values(stock=0))
    await _catalog(db, update(Product).where(Product.id == shop["cup_product"]).values(status="off_sale"))
    body = await get_cart(client, me)
    got = {i["sku_id"]: (i["valid"], i["invalid_reason"], i["price_changed"]) for i in body["items"]}
    assert got == {
        shop["tea"]: (True, "price_changed", True),
        shop["tea2"]: (False, "sold_out", False),
        shop["cup"]: (False, "off_shelf", False),
    }
    tea = next(i for i in body["items"] if i["sku_id"] == shop["tea"])
    assert (tea["unit_price_fen"], tea["price_fen_added"]) == (4500, 5000)
    cup = next(i for i in body["items"] if i["sku_id"] == shop["cup"])
    assert cup["title"] == "茶杯"  # still reads as what it was
    assert (body["selected_count"], body["selected_fen"]) == (1, 4500)
    await _catalog(db, update(Sku).where(Sku.id == shop["tea"]).values(is_active=False))
    body = await get_cart(client, me)
    assert next(i for i in body["items"] if i["sku_id"] == shop["tea"])["invalid_reason"] == "sku_gone"
    r = await client.post(f"{CART}/remove-invalid", headers=me)
    assert r.status_code == 200 and r.json()["items"] == []


async def test_select_all_and_delete(client, db, shop):
    me = shop["me"]
    await add(client, me, shop["tea"])
    second = (await add(client, me, shop["cup"])).json()["items"]
    r = await client.post(f"{CART}/select", json={"selected": False}, headers=me)
    assert [i["selected"] for i in r.json()["items"]] == [False, False]
    cup = next(i["id"] for i in second if i["sku_id"] == shop["cup"])
    r = await client.patch(f"{CART}/items/{cup}", json={"selected": True, "qty": 3}, headers=me)
    assert r.status_code == 200 and (r.json()["selected_count"], r.json()["selected_fen"]) == (1, 3000)
    assert (await client.delete(f"{CART}/items/{cup}", headers=me)).status_code == 204
    assert await rows(db) == [(shop["tea"], 1)]


# ---- checkout from the cart ----------------------------------------------------------------------


async def test_checkout_from_the_cart_prices_full_reduction_and_the_chosen_coupon_and_removes_only_ordered_lines(
    client, db, shop
):
    boss, me = shop["boss"], shop["me"]
    await promotion(
        client, boss, kind="full_reduction", name="满100减10", tiers=[{"threshold": 10_000, "amount_fen": 1000}]
    )
    big = await template(client, boss, name="满100减20")
    small = await template(client, boss, name="无门槛5元", amount_fen=500, threshold_fen=0)
    await claim(client, me, big["id"])
    mine = await claim(client, me, small["id"])
    await add(client, me, shop["tea"], 2)  # 100 元
    await add(client, me, shop["cup"], 1)  # 10 元
    lines = (await add(client, me, shop["tea2"], 1)).json()["items"]
    keep = next(i["id"] for i in lines if i["sku_id"] == shop["tea2"])
    await client.patch(f"{CART}/items/{keep}", json={"selected": False}, headers=me)

    same = {"items": [{"sku_id": shop["tea"], "qty": 2}, {"sku_id": shop["cup"], "qty": 1}], "coupon_id": mine["id"]}
    by_items = (await client.post("/api/v1/checkout/preview", json=same, headers=me)).json()
    r = await client.post("/api/v1/checkout/preview", json={"from_cart": True, "coupon_id": mine["id"]}, headers=me)
    assert r.status_code == 200, r.text
    q = r.json()
    assert q == by_items
    steps = [(s["kind"], s["amount_fen"]) for s in q["steps"]]
    assert steps[:3] == [("goods", 11_000), ("reduction", -1000), ("coupon", -500)]
    shipping = sum(a for k, a in steps if k == "shipping")
    assert q["payable_fen"] == 11_000 - 1000 - 500 + shipping
    assert q["coupon"]["id"] == mine["id"]
    # Without a chosen coupon the best one is preselected, as for `items`.
    best = (await client.post("/api/v1/checkout/preview", json={"from_cart": True}, headers=me)).json()
    assert best["coupon"]["name"] == "满100减20"

    r = await client.post(
        "/api/v1/orders",
        json={"from_cart": True, "coupon_id": mine["id"], "address": ADDRESS},
        headers={**me, "Idempotency-Key": "cart-1"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["payable_fen"] == q["payable_fen"]
    assert await rows(db) == [(shop["tea2"], 1)]
    o = (await client.get(f"/api/v1/orders/{r.json()['id']}", headers=me)).json()
    assert sorted((ln["sku_id"], ln["qty"]) for ln in o["lines"]) == sorted([(shop["tea"], 2), (shop["cup"], 1)])
    # The same key again returns the first order and takes nothing more from the cart.
    await add(client, me, shop["tea"], 1)
    again = await client.post(
        "/api/v1/orders",
        json={"from_cart": True, "coupon_id": mine["id"], "address": ADDRESS},
        headers={**me, "Idempotency-Key": "cart-1"},
    )
    assert again.json()["id"] == r.json()["id"]
    assert await rows(db) == sorted([(shop["tea"], 1), (shop["tea2"], 1)])


async def test_a_selected_sold_out_line_cannot_be_checked_out_and_nothing_selected_is_cart_empty(client, db, shop):
    me = shop["me"]
    await add(client, me, shop["tea"])
    await add(client, me, shop["cup"])
    await _catalog(db, update(Sku).where(Sku.id == shop["cup"]).values(stock=0))
    for path in ("/api/v1/checkout/preview", "/api/v1/orders"):
        r = await client.post(path, json={"from_cart": True, "address": ADDRESS}, headers=me)
        assert r.status_code == 409, r.text
        err = r.json()["error"]
        assert (err["code"], err["detail"]["sku_id"], err["detail"]["reason"]) == (
            "CART_LINE_INVALID",
            shop["cup"],
            "sold_out",
        )
        assert "茶杯" in err["message"]
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(CartItem)) == 2
    await client.post(f"{CART}/select", json={"selected": False}, headers=me)
    r = await client.post("/api/v1/orders", json={"from_cart": True, "address": ADDRESS}, headers=me)
    assert r.status_code == 400 and r.json()["error"]["code"] == "CART_EMPTY"
    r = await client.post(
        "/api/v1/checkout/preview", json={"from_cart": True, "items": [{"sku_id": 1, "qty": 1}]}, headers=me
    )
    assert r.status_code == 422
    assert await rows(db) == sorted([(shop["tea"], 1), (shop["cup"], 1)])


async def test_the_cart_needs_a_shopper(client):
    assert (await client.get(CART)).status_code == 401
    assert (await client.post(f"{CART}/items", json={"sku_id": 1, "qty": 1})).status_code == 401


async def test_two_orders_racing_from_one_cart_place_one_and_the_other_finds_it_empty(client, db, shop):
    me = shop["me"]
    await add(client, me, shop["tea"], 2)
    results = await asyncio.gather(
        *(
            client.post(
                "/api/v1/orders",
                json={"from_cart": True, "address": ADDRESS},
                headers={**me, "Idempotency-Key": f"race-{i}"},
            )
            for i in range(2)
        )
    )
    assert sorted(r.status_code for r in results) == [201, 400], [r.text for r in results]
    assert next(r for r in results if r.status_code == 400).json()["error"]["code"] == "CART_EMPTY"
    assert await rows(db) == []
    async with db.read() as s:
        assert await s.scalar(select(Sku.stock).where(Sku.id == shop["tea"])) == 98
