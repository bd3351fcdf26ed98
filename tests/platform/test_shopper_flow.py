"""The whole shopper flow of the platform issue, through /api/v1 only."""

from __future__ import annotations

from sqlalchemy import func, select

from fissionmall.catalog.models import Sku
from fissionmall.core import clock
from fissionmall.core.jobs import Event
from tests.helpers import ADDRESS, admin, order, pay, product, run_jobs, shopper


async def test_shopper_buys_pays_receives_and_refunds_one_line(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(1990, 4990), stock=10)
    sku_a, sku_b = (k["id"] for k in p["skus"])
    me = await shopper(client, "alice")

    r = await client.get("/api/v1/products", params={"q": "测试"})
    assert [x["id"] for x in r.json()["items"]] == [p["id"]]
    r = await client.get(f"/api/v1/products/{p['id']}")
    assert {k["price_fen"] for k in r.json()["skus"]} == {1990, 4990}

    items = [{"sku_id": sku_a, "qty": 2}, {"sku_id": sku_b, "qty": 1}]
    r = await client.post("/api/v1/checkout/preview", json={"items": items}, headers=me)
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["steps"] == [
        {"kind": "goods", "label": "商品金额", "amount_fen": 8970},
        {"kind": "shipping", "label": "运费", "amount_fen": 800},
    ]
    assert q["payable_fen"] == 9770 and sum(ln["payable_fen"] for ln in q["lines"]) == 9770

    r = await order(client, me, items)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] == "pending_payment" and created["payable_fen"] == 9770
    async with db.read() as s:
        assert await s.scalar(select(Sku.stock).where(Sku.id == sku_a)) == 8

    outcome = await pay(client, me, created["id"])
    assert outcome["outcome"] == "applied"
    r = await client.get(f"/api/v1/orders/{created['id']}", headers=me)
    o = r.json()
    assert o["status"] == "paid" and o["paid_fen"] == 9770 and o["address"].items() >= ADDRESS.items()

    r = await client.post(
        f"/api/admin/v1/orders/{o['id']}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234567"}, headers=boss
    )
    assert r.status_code == 200 and r.json()["status"] == "shipped"
    r = await client.post(f"/api/v1/orders/{o['id']}/receive", headers=me)
    assert r.json()["status"] == "received"

    line_b = next(ln for ln in o["lines"] if ln["sku_id"] == sku_b)
    r = await client.post(
        f"/api/v1/orders/{o['id']}/refunds",
        json={"lines": [{"line_id": line_b["id"], "qty": 1}], "reason": "不想要了"},
        headers=me,
    )
    assert r.status_code == 201, r.text
    refund = r.json()
    # One line of several: its goods only (the shipping goes back with the refund of everything left).
    assert refund["status"] == "pending" and refund["amount_fen"] == line_b["payable_fen"] - line_b["shipping_fen"]

    r = await client.post(f"/api/admin/v1/refunds/{refund['id']}/approve", headers=boss)
    assert r.json()["status"] == "processing"
    clock.advance(5)
    await run_jobs(db)  # gateway refund, then its signed notification
    r = await client.get(f"/api/v1/orders/{o['id']}", headers=me)
    o = r.json()
    assert o["refunded_fen"] == refund["amount_fen"] and o["status"] == "received"
    assert o["refunds"][0]["status"] == "succeeded"
    async with db.read() as s:
        types = (await s.scalars(select(Event.type).order_by(Event.id))).all()
        assert types.count("OrderPaid") == 1 and types.count("OrderLineRefunded") == 1
        assert await s.scalar(select(func.count()).select_from(Event).where(Event.type == "OrderRefunded")) == 1


async def test_unpaid_order_is_cancelled_on_time_and_stock_returns(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=5)
    sku = p["skus"][0]["id"]
    me = await shopper(client)
    created = (await order(client, me, [{"sku_id": sku, "qty": 3}])).json()
    clock.advance(29 * 60)
    await run_jobs(db)
    assert (await client.get(f"/api/v1/orders/{created['id']}", headers=me)).json()["status"] == "pending_payment"
    clock.advance(61)
    await run_jobs(db)
    o = (await client.get(f"/api/v1/orders/{created['id']}", headers=me)).json()
    assert o["status"] == "cancelled" and o["cancel_reason"] == "timeout"
    async with db.read() as s:
        assert await s.scalar(select(Sku.stock).where(Sku.id == sku)) == 5


async def test_preview_tells_of_missing_stock_and_lists_filter_by_several_statuses(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=3))["skus"][0]["id"]
    me = await shopper(client)
    r = await client.post("/api/v1/checkout/preview", json={"items": [{"sku_id": sku, "qty": 4}]}, headers=me)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "OUT_OF_STOCK")
    a = (await order(client, me, [{"sku_id": sku, "qty": 1}])).json()["id"]
    b = (await order(client, me, [{"sku_id": sku, "qty": 1}])).json()["id"]
    await client.post(f"/api/v1/orders/{b}/cancel", headers=me)
    r = await client.get("/api/v1/orders", params={"status": "pending_payment,cancelled"}, headers=me)
    assert [o["id"] for o in r.json()["items"]] == [b, a]
    r = await client.get("/api/v1/orders", params={"status": "cancelled"}, headers=me)
    assert [o["id"] for o in r.json()["items"]] == [b]
    assert r.json()["items"][0]["server_time"]
    r = await client.get("/api/v1/orders", params={"status": "paid,nonsense"}, headers=me)
    assert r.status_code == 422


async def test_a_system_refund_returns_everything_once_whatever_the_retries(client, db):
    from fissionmall.orders import refunds

    boss = await admin(client, db)
    sku = (await product(client, boss, prices=(1001,)))["skus"][0]["id"]
    me = await shopper(client)
    oid = (await order(client, me, [{"sku_id": sku, "qty": 3}])).json()["id"]
    await pay(client, me, oid)
    for _ in range(3):  # a timer firing three times
        async with db.tx() as s:
            await refunds.system_refund(s, order_id=oid, reason="拼团失败，已原路退款", key=f"group-failed:1:{oid}")
    await run_jobs(db)
    o = (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()
    assert o["status"] == "closed" and o["refunded_fen"] == o["paid_fen"] == 3803
    assert [(r["kind"], r["status"], r["amount_fen"]) for r in o["refunds"]] == [("system", "succeeded", 3803)]
