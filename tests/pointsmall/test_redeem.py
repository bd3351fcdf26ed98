"""Redeeming points-mall items over HTTP: a coupon item grants its coupon, a product item places an order
paid at the cashier (or at once when nothing is left to pay), short points change nothing, a cancelled
unpaid order gives the units, the slot and the points back, the end of an item gives its stock back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from fissionmall.core import clock
from fissionmall.coupons.models import Coupon
from fissionmall.orders.models import Order
from tests.helpers import admin, pay, product, run_jobs, shopper
from tests.pointsmall.helpers import (
    ADMIN,
    API,
    balance,
    coupon_item,
    give_points,
    me,
    product_item,
    ready,
    redeem,
    sku_stock,
    snapshot,
    template,
)


async def test_a_coupon_item_grants_the_coupon_for_its_points(client, db):
    boss = await admin(client, db)
    item = await coupon_item(client, boss, await template(client, boss), per_user_limit=2)
    h = await shopper(client)
    cid = await me(client, h)
    await give_points(db, cid, 1200)

    r = await redeem(client, h, item)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["points_spent"] == 500 and got["status"] == "granted" and "order" not in got
    assert got["coupon"]["name"] == "5元无门槛券"
    assert await balance(db, cid) == 700
    mine = (await client.get("/api/v1/me/coupons", headers=h)).json()["items"]
    assert [c["id"] for c in mine] == [got["coupon"]["id"]]
    listed = (await client.get(API, headers=h)).json()
    assert [(i["id"], i["units_left"], i["my_left"], i["price_text"]) for i in listed] == [
        (item["id"], 99, 1, "500积分")
    ]
    assert (await client.get(API)).json()[0]["my_left"] is None  # anonymous: no limit of theirs
    async with db.read() as s:
        c = await s.scalar(select(Coupon).where(Coupon.id == got["coupon"]["id"]))
        assert c is not None and c.source == "points_mall" and c.grant_key == f"mall:{got['id']}:0"


async def test_a_product_item_places_an_order_for_the_cash_part_paid_at_the_cashier(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=10, prices=(4990,))
    sku = p["skus"][0]["id"]
    item = await product_item(client, boss, sku, stock=3)
    assert await sku_stock(db, sku) == 7  # the item's stock left the SKU
    h = await shopper(client)
    cid = await me(client, h)
    await give_points(db, cid, 1000)

    r = await redeem(client, h, item)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["points_spent"] == 300 and got["cash_fen"] == 990 and got["status"] == "ordered"
    oid = got["order"]["id"]
    order = (await client.get(f"/api/v1/orders/{oid}", headers=h)).json()
    assert order["source"] == "points_mall" and order["payable_fen"] == got["order"]["payable_fen"]
    assert order["payable_fen"] >= 990
    assert await sku_stock(db, sku) == 7  # the order took the item's units, not the SKU's
    await pay(client, h, oid)
    rows = (await client.get("/api/v1/me/points-mall/redemptions", headers=h)).json()["items"]
    assert [(x["id"], x["status"], x["order"]["status"]) for x in rows] == [(got["id"], "paid", "paid")]
    assert await balance(db, cid) == 700


async def test_a_points_only_product_with_free_shipping_is_paid_at_once(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=5)
    free = {
        "name": "包邮",
        "mode": "piece",
        "default_rule": {"first_units": 1, "first_fee_fen": 0, "additional_units": 1, "additional_fee_fen": 0},
    }
    tpl = (await client.post("/api/admin/v1/shipping/templates", json=free, headers=boss)).json()
    r = await client.put(f"/api/admin/v1/products/{p['id']}", json={"shipping_template_id": tpl["id"]}, headers=boss)
    assert r.status_code == 200, r.text
    item = await product_item(client, boss, p["skus"][0]["id"], cash_fen=0, stock=2)
    h = await shopper(client)
    await give_points(db, await me(client, h), 300)
    r = await redeem(client, h, item)
    assert r.status_code == 201, r.text
    assert r.json()["order"] == {"id": r.json()["order"]["id"], "status": "paid", "payable_fen": 0}
    assert r.json()["status"] == "paid"
    order = (await client.get(f"/api/v1/orders/{r.json()['order']['id']}", headers=h)).json()
    assert (order["status"], order["paid_fen"]) == ("paid", 0)


async def test_short_points_change_nothing(client, db):
    _boss, _sku, item, h, cid = await ready(client, db, points=299, per_user_limit=1)
    before = await snapshot(db, item["id"])

    r = await redeem(client, h, item)
    assert r.status_code == 409 and r.json()["error"]["code"] == "INSUFFICIENT_POINTS", r.text
    assert await snapshot(db, item["id"]) == before
    assert await balance(db, cid) == 299
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 0
    await give_points(db, cid, 1, ref="more")
    assert (await redeem(client, h, item)).status_code == 201  # the slot was not kept by the refusal


async def test_a_cancelled_unpaid_order_gives_units_slot_and_points_back(client, db):
    _boss, _sku, item, h, cid = await ready(client, db, points=300, per_user_limit=1)
    before = await snapshot(db, item["id"])
    got = (await redeem(client, h, item)).json()
    assert await balance(db, cid) == 0

    r = await client.post(f"/api/v1/orders/{got['order']['id']}/cancel", headers=h)
    assert r.status_code == 200, r.text
    after = await snapshot(db, item["id"])
    assert {k: v for k, v in after.items() if k != "redemptions"} == {
        k: v for k, v in before.items() if k != "redemptions"
    }
    assert await balance(db, cid) == 300
    rows = (await client.get("/api/v1/me/points-mall/redemptions", headers=h)).json()["items"]
    assert rows[0]["status"] == "cancelled"
    again = await redeem(client, h, item)  # the slot and the points came back: the shopper may redeem again
    assert again.status_code == 201, again.text


async def test_the_unpaid_timer_cancels_and_gives_everything_back(client, db):
    boss, _sku, item, h, cid = await ready(client, db, points=300)
    assert (await redeem(client, h, item)).status_code == 201
    await client.post("/api/admin/v1/dev/clock", json={"advance_seconds": 31 * 60}, headers=boss)
    await run_jobs(db)
    assert await balance(db, cid) == 300
    assert (await snapshot(db, item["id"]))["units_left"] == 3


async def test_the_end_of_an_item_and_its_deletion_give_the_stock_back_to_the_sku(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    ends = (clock.now() + timedelta(hours=1)).isoformat()
    item = await product_item(client, boss, sku, stock=4, ends_at=ends)
    h = await shopper(client)
    await give_points(db, await me(client, h), 600)
    paid = await redeem(client, h, item)
    await pay(client, h, paid.json()["order"]["id"])
    assert (await redeem(client, h, item)).status_code == 201  # left unpaid: cancelled after the end
    assert await sku_stock(db, sku) == 6
    await client.post("/api/admin/v1/dev/clock", json={"advance_seconds": 3601}, headers=boss)
    await run_jobs(db)
    # the 2 left went back at the end, and the unpaid order's unit when its timer cancelled it (to the SKU,
    # since the item had closed); the paid unit stays with its order
    assert await sku_stock(db, sku) == 9
    got = (await client.get(f"{ADMIN}/{item['id']}", headers=boss)).json()
    assert (got["stock"], got["units_left"], got["closed"], got["state"]) == (1, 0, True, "已结束")
    assert (await client.get(API)).json() == []

    other = await product_item(client, boss, sku, stock=5)
    assert await sku_stock(db, sku) == 4
    assert (await client.delete(f"{ADMIN}/{other['id']}", headers=boss)).status_code == 204
    assert await sku_stock(db, sku) == 9
    assert (await client.get(f"{ADMIN}/{other['id']}", headers=boss)).status_code == 404


async def test_stock_edits_move_units_between_the_sku_and_the_item(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    item = await product_item(client, boss, sku, stock=3)
    h = await shopper(client)
    await give_points(db, await me(client, h), 300)
    assert (await redeem(client, h, item)).status_code == 201
    r = await client.put(f"{ADMIN}/{item['id']}", json={"stock": 6}, headers=boss)
    assert r.status_code == 200 and r.json()["units_left"] == 5, r.text
    assert await sku_stock(db, sku) == 4
    r = await client.put(f"{ADMIN}/{item['id']}", json={"stock": 0}, headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "MALL_STOCK_BELOW_REDEEMED"
    r = await client.put(f"{ADMIN}/{item['id']}", json={"stock": 1}, headers=boss)
    assert r.status_code == 200 and r.json()["units_left"] == 0
    assert await sku_stock(db, sku) == 9


async def test_an_idempotency_key_redeems_once(client, db):
    boss = await admin(client, db)
    item = await coupon_item(client, boss, await template(client, boss))
    h = await shopper(client)
    cid = await me(client, h)
    await give_points(db, cid, 5000)
    hk = {**h, "Idempotency-Key": "tap-1"}
    first = await redeem(client, hk, item)
    second = await redeem(client, hk, item)
    assert first.status_code == 201 and second.status_code == 201
    assert first.json() == second.json()
    assert await balance(db, cid) == 4500


async def test_the_demo_seed_creates_the_coupon_and_the_product_item(client, db):
    from fissionmall.demo import pointsmall as demo

    boss = await admin(client, db)
    p = await product(client, boss, stock=50, title="不锈钢保温杯")
    r = await client.put(
        f"/api/admin/v1/products/{p['id']}",
        json={"skus": [{"id": p["skus"][0]["id"], "name": "500ml 奶白", "price_fen": 8900, "stock": 50}]},
        headers=boss,
    )
    assert r.status_code == 200, r.text
    got = await demo.seed(client, boss, {"不锈钢保温杯": r.json()})
    assert [(i["title"], i["price_text"]) for i in got["points_mall"]] == [
        ("5元无门槛券", "500积分"),
        ("不锈钢保温杯 500ml 奶白", "1500积分+¥9.90"),
    ]
    assert [i["title"] for i in (await client.get(API)).json()] == ["5元无门槛券", "不锈钢保温杯 500ml 奶白"]


async def test_a_refund_of_a_paid_redemption_gives_its_points_back(client, db):
    boss, _sku, item, h, cid = await ready(client, db, points=300)
    got = (await redeem(client, h, item)).json()
    oid = got["order"]["id"]
    await pay(client, h, oid)
    assert await balance(db, cid) == 0
    order = (await client.get(f"/api/v1/orders/{oid}", headers=h)).json()
    line = order["lines"][0]["id"]
    r = await client.post(
        f"/api/v1/orders/{oid}/refunds",
        json={"lines": [{"line_id": line, "qty": 1}], "reason": "不想要了", "kind": "refund_only"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/admin/v1/refunds/{r.json()['id']}/approve", headers=boss)
    assert r.status_code == 200, r.text
    await run_jobs(db)
    assert await balance(db, cid) == 300
    rows = (await client.get("/api/v1/me/points-mall/redemptions", headers=h)).json()["items"]
    assert rows[0]["status"] == "refunded"
