"""Sessions, the order source, and the attempt path end to end, on whichever backend runs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fissionmall.catalog.models import Sku
from fissionmall.core import clock
from fissionmall.orders.models import Order
from tests.helpers import admin, pay, product, run_jobs, shopper
from tests.seckill.helpers import attempt, drain, facts, loosen, session, token

ADMIN_ROUTES = [
    ("POST", "/api/admin/v1/seckill/sessions", {"title": "x"}, "marketing", "finance"),
    ("GET", "/api/admin/v1/seckill/sessions", None, "marketing.read", "store_staff"),
    ("GET", "/api/admin/v1/seckill/sessions/{session_id}", None, "marketing.read", "store_staff"),
    ("PUT", "/api/admin/v1/seckill/sessions/{session_id}", {"title": "y"}, "marketing", "finance"),
    ("DELETE", "/api/admin/v1/seckill/sessions/{session_id}", None, "marketing", "finance"),
    ("GET", "/api/admin/v1/seckill/sessions/{session_id}/board", None, "marketing.read", "store_staff"),
    ("GET", "/api/admin/v1/risk/limits", None, "marketing.read", "store_staff"),
    ("PUT", "/api/admin/v1/risk/limits", {"window_seconds": 1}, "marketing", "finance"),
]


async def test_admin_routes_are_guarded(client, db):
    from tests.authz import check_admin_matrix

    boss = await admin(client, db)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    sid = (await session(client, boss, sku))["id"]
    me = await shopper(client)
    await check_admin_matrix(client, db, ADMIN_ROUTES, {"session_id": sid}, me)
    r = await client.get(f"/api/admin/v1/seckill/sessions/{sid}", headers=boss)
    assert r.status_code == 200 and r.json()["title"] == "10点场"


async def test_pool_defaults_to_90_percent_and_leaves_the_sku_stock(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=101))["skus"][0]["id"]
    s = await session(client, boss, sku, pool=None)
    assert s["items"][0]["pool"] == 90
    async with db.read() as ss:
        assert await ss.scalar(select(Sku.stock).where(Sku.id == sku)) == 11
    r = await client.get("/api/v1/seckill/sessions")
    item = r.json()["sessions"][0]["items"][0]
    assert item["remaining"] == 90 and item["state"] == "active" and item["price_fen"] == 990
    assert "server_time" in r.json()
    # withdrawing the session hands the pool back
    r = await client.delete(f"/api/admin/v1/seckill/sessions/{s['id']}", headers=boss)
    assert r.status_code == 200
    async with db.read() as ss:
        assert await ss.scalar(select(Sku.stock).where(Sku.id == sku)) == 101


async def test_a_pool_larger_than_the_stock_is_refused(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    start = clock.now()
    r = await client.post(
        "/api/admin/v1/seckill/sessions",
        json={"title": "t", "starts_at": start.isoformat(), "ends_at": start.replace(year=start.year + 1).isoformat(),
              "items": [{"sku_id": sku, "price_fen": 1, "stock": 11}]},
        headers=boss,
    )  # fmt: skip
    assert r.status_code == 409 and r.json()["error"]["code"] == "INSUFFICIENT_STOCK"


async def test_win_pay_and_the_order_is_at_the_seckill_price(client, db):
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=100, prices=(5000,)))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=5))["items"][0]["id"]
    me = await shopper(client)
    r = await attempt(client, me, item)
    assert r.status_code == 202, r.text
    aid = r.json()["attempt_id"]
    await drain(db)
    r = await client.get(f"/api/v1/seckill/attempts/{aid}", headers=me)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    oid = r.json()["order_id"]
    o = (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()
    assert o["goods_fen"] == 5000 and o["payable_fen"] == 990 + 800
    await pay(client, me, oid)
    f = await facts(db, item)
    assert f["sold"] == 1 and f["live_orders"] == 1
    # a second try: the per-user limit
    r = await attempt(client, me, item)
    assert r.status_code == 409 and r.json()["error"]["code"] == "LIMIT_REACHED"
    # another shopper cannot read my attempt
    other = await shopper(client, "bob")
    assert (await client.get(f"/api/v1/seckill/attempts/{aid}", headers=other)).status_code == 404


async def test_unpaid_order_cancels_after_5_minutes_and_the_unit_is_sold_again(client, db):
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=1))["items"][0]["id"]
    a, b = await shopper(client, "a"), await shopper(client, "b")
    assert (await attempt(client, a, item)).status_code == 202
    await drain(db)
    r = await attempt(client, b, item)
    assert r.json()["error"]["code"] == "SOLD_OUT"
    clock.advance(5 * 60 + 1)
    await run_jobs(db)
    f = await facts(db, item)
    assert f["sold"] == 0 and f["live_orders"] == 0
    assert f["redis_left"] in (None, 1)
    r = await attempt(client, b, item)
    assert r.status_code == 202, r.text
    await drain(db)
    f = await facts(db, item)
    assert f["sold"] == 1 and f["live_orders"] == 1 and f["orders"] == 2


async def test_states_and_token_window(client, db):
    boss = await admin(client, db)
    await loosen(client, boss, token_lead_seconds=30)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=3, starts_in=120))["items"][0]["id"]
    me = await shopper(client)
    r = await client.post(f"/api/v1/seckill/items/{item}/token", headers=me)
    assert r.status_code == 409 and r.json()["error"]["code"] == "NOT_STARTED"
    clock.advance(100)
    tok = await token(client, me, item)
    r = await attempt(client, me, item, tok=tok)
    assert r.status_code == 409 and r.json()["error"]["code"] == "NOT_STARTED"
    clock.advance(21)
    r = await attempt(client, me, item, tok=tok)
    assert r.status_code == 202, r.text
    await drain(db)
    async with db.read() as s:
        assert len((await s.scalars(select(Order))).all()) == 1


@pytest.mark.parametrize("field", ["price", "limit"])
async def test_admin_can_edit_price_and_limit(client, db, field):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    s = await session(client, boss, sku)
    change = {"id": s["items"][0]["id"], "price_fen": 500} if field == "price" else {
        "id": s["items"][0]["id"], "per_user_limit": 3}  # fmt: skip
    r = await client.put(f"/api/admin/v1/seckill/sessions/{s['id']}", json={"items": [change]}, headers=boss)
    assert r.status_code == 200, r.text
    got = r.json()["items"][0]
    assert (got["price_fen"] == 500) if field == "price" else (got["per_user_limit"] == 3)
