"""Invariants under real concurrent requests: stock, payments, idempotency, refunds.

Requests are fired together with asyncio.gather through the ASGI app, so each
runs in its own database transaction at the same time (PostgreSQL) or queued
on the write lock (SQLite); the assertions are the same on both.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from fissionmall.catalog.models import Sku
from fissionmall.core.jobs import Event
from fissionmall.orders.models import Order, Refund
from fissionmall.payments.gateway import SandboxGateway, get_gateway
from fissionmall.payments.models import Payment
from tests.helpers import ADDRESS, admin, order, pay, product, run_jobs, shopper


async def _shoppers(client, n: int) -> list[dict[str, str]]:
    return list(await asyncio.gather(*(shopper(client, f"buyer{i}") for i in range(n))))


async def test_200_concurrent_orders_for_50_in_stock_sell_exactly_50(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=50))["skus"][0]["id"]
    buyers = await _shoppers(client, 200)

    results = await asyncio.gather(*(order(client, h, [{"sku_id": sku, "qty": 1}]) for h in buyers))

    codes = Counter(r.status_code for r in results)
    assert codes == {201: 50, 409: 150}, codes
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"OUT_OF_STOCK"}
    async with db.read() as s:
        assert await s.scalar(select(Sku.stock).where(Sku.id == sku)) == 0
        assert await s.scalar(select(Sku.sold).where(Sku.id == sku)) == 50
        assert await s.scalar(select(func.count()).select_from(Order)) == 50


async def test_multi_unit_orders_never_take_more_than_is_left(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    buyers = await _shoppers(client, 30)
    results = await asyncio.gather(*(order(client, h, [{"sku_id": sku, "qty": 3}]) for h in buyers))
    assert sum(r.status_code == 201 for r in results) == 3  # 3 × 3 = 9 ≤ 10 < 12
    async with db.read() as s:
        assert await s.scalar(select(Sku.stock).where(Sku.id == sku)) == 1


async def test_20_concurrent_deliveries_of_one_payment_notification_pay_once(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss))["skus"][0]["id"]
    me = await shopper(client)
    oid = (await order(client, me, [{"sku_id": sku, "qty": 1}])).json()["id"]
    pid = (await client.post(f"/api/v1/orders/{oid}/pay", json={"method": "gateway"}, headers=me)).json()["payment_id"]
    gw = get_gateway("sandbox")
    assert isinstance(gw, SandboxGateway)
    headers, body = gw.notification(
        {"kind": "payment", "reference": pid, "amount_fen": 2790, "external_id": "TX1", "status": "SUCCESS"}
    )

    results = await asyncio.gather(
        *(client.post("/api/v1/payments/sandbox/notify", content=body, headers=headers) for _ in range(20))
    )

    assert all(r.status_code == 200 for r in results)
    assert Counter(r.json()["outcome"] for r in results) == {"applied": 1, "duplicate": 19}
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Event).where(Event.type == "OrderPaid")) == 1
        assert (await s.scalars(select(Payment.status))).all() == ["succeeded"]
        o = await s.get(Order, oid)
        assert o is not None and o.status == "paid" and o.paid_fen == 2790


async def test_one_idempotency_key_sent_10_times_at_once_makes_one_order(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    me = await shopper(client)
    body = {"items": [{"sku_id": sku, "qty": 2}], "address": ADDRESS}
    results = await asyncio.gather(
        *(
            client.post("/api/v1/orders", json=body, headers={**me, "Idempotency-Key": "checkout-7f3a"})
            for _ in range(10)
        )
    )
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 1
        assert await s.scalar(select(Sku.stock).where(Sku.id == sku)) == 98
    other = await client.post(
        "/api/v1/orders",
        json={**body, "items": [{"sku_id": sku, "qty": 1}]},
        headers={**me, "Idempotency-Key": "checkout-7f3a"},
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_concurrent_refund_requests_never_refund_a_unit_twice(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, prices=(1001,)))["skus"][0]["id"]
    me = await shopper(client)
    oid = (await order(client, me, [{"sku_id": sku, "qty": 3}])).json()["id"]
    await pay(client, me, oid)
    line_id = (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()["lines"][0]["id"]

    results = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/orders/{oid}/refunds",
                json={"lines": [{"line_id": line_id, "qty": 1}], "reason": "r"},
                headers=me,
            )
            for _ in range(8)
        )
    )
    assert Counter(r.status_code for r in results) == {201: 3, 409: 5}
    for r in (await client.get("/api/admin/v1/refunds", headers=boss)).json()["items"]:
        assert (await client.post(f"/api/admin/v1/refunds/{r['id']}/approve", headers=boss)).status_code == 200
    await run_jobs(db)
    o = (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()
    # 3 × 1001 + 800 shipping, split into units, all refunded: exactly what was paid, not a fen more.
    assert o["refunded_fen"] == o["paid_fen"] == 3803
    assert o["status"] == "closed"
    async with db.read() as s:
        assert await s.scalar(select(func.sum(Refund.amount_fen))) == 3803


async def test_cancel_racing_a_payment_either_pays_or_refunds_never_both(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=5))["skus"][0]["id"]
    me = await shopper(client)
    oid = (await order(client, me, [{"sku_id": sku, "qty": 1}])).json()["id"]
    pid = (await client.post(f"/api/v1/orders/{oid}/pay", json={}, headers=me)).json()["payment_id"]

    cancel, paid = await asyncio.gather(
        client.post(f"/api/v1/orders/{oid}/cancel", headers=me),
        client.post(f"/api/v1/payments/sandbox/{pid}/succeed", headers=me),
    )
    await run_jobs(db)
    o = (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()
    async with db.read() as s:
        stock = await s.scalar(select(Sku.stock).where(Sku.id == sku))
    if o["status"] == "paid":
        assert cancel.status_code == 409 and stock == 4 and o["refunds"] == []
    else:
        assert o["status"] == "cancelled" and stock == 5
        assert paid.json()["outcome"] == "refunded_late_payment"
        assert [(r["kind"], r["status"], r["amount_fen"]) for r in o["refunds"]] == [
            ("late_payment", "succeeded", 2790)
        ]
