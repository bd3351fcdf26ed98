"""Who may call what: anonymous / another shopper / the shopper / admin without the role / admin.

Every admin route must appear in some test module's ADMIN_ROUTES (see tests/authz.py;
a test fails when a new one is added without its row), so no endpoint ships
without its authorization check. This module covers the platform's routes.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from fissionmall.orders.models import Order
from tests.authz import all_listed_routes, check_admin_matrix
from tests.helpers import admin, order, pay, product, run_jobs, shopper

# (method, path template, body, permission the route needs, a role that lacks it)
ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
    ("GET", "/api/admin/v1/me", None, "", ""),
    ("GET", "/api/admin/v1/products", None, "catalog.read", "store_staff"),
    ("POST", "/api/admin/v1/products", {"title": "x", "skus": [{"name": "a", "price_fen": 1}]}, "catalog", "finance"),
    ("GET", "/api/admin/v1/products/{product_id}", None, "catalog.read", "store_staff"),
    ("PUT", "/api/admin/v1/products/{product_id}", {"title": "改名"}, "catalog", "finance"),
    ("DELETE", "/api/admin/v1/products/{product_id}", None, "catalog", "finance"),
    ("GET", "/api/admin/v1/orders", None, "orders.read", "nobody"),
    ("GET", "/api/admin/v1/orders/{order_id}", None, "orders.read", "nobody"),
    (
        "POST",
        "/api/admin/v1/orders/{order_id}/ship",
        {"carrier": "顺丰", "tracking_no": "SF12345"},
        "orders",
        "finance",
    ),
    ("GET", "/api/admin/v1/refunds", None, "refunds.read", "store_staff"),
    ("POST", "/api/admin/v1/refunds/{refund_id}/approve", None, "refunds", "operator"),
    ("POST", "/api/admin/v1/refunds/{refund_id}/reject", {"reason": "no"}, "refunds", "operator"),
    ("GET", "/api/admin/v1/refunds/{refund_id}", None, "refunds.read", "store_staff"),
    ("POST", "/api/admin/v1/refunds/{refund_id}/receive", None, "refunds", "operator"),
    ("POST", "/api/admin/v1/dev/clock", {"advance_seconds": 0}, "system", "operator"),
    ("GET", "/api/admin/v1/jobs", None, "system", "operator"),
    ("POST", "/api/admin/v1/jobs/{job_id}/retry", None, "system", "finance"),
]

# Customer routes that act on one shopper's own order: another shopper must get 404, not the order.
OWN_ORDER_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/orders/{order_id}", None),
    ("POST", "/api/v1/orders/{order_id}/cancel", None),
    ("POST", "/api/v1/orders/{order_id}/receive", None),
    ("POST", "/api/v1/orders/{order_id}/refunds", {"reason": "x"}),
    ("POST", "/api/v1/orders/{order_id}/refunds/quote", {"reason": "x"}),
    ("POST", "/api/v1/orders/{order_id}/pay", {"method": "gateway"}),
]


def test_every_admin_route_has_a_row_in_the_matrix(app):
    paths = app.openapi()["paths"]
    routes = {(m.upper(), p) for p, ops in paths.items() if p.startswith("/api/admin/v1") for m in ops}
    unlisted = routes - all_listed_routes() - {("POST", "/api/admin/v1/auth/login")}
    assert unlisted == set(), "admin routes without an authorization-matrix row"


@pytest.fixture
async def world(client, db):
    """A product, a paid order with a pending refund, and a dead job: something for every route to act on."""
    from fissionmall.core import clock, jobs

    owner = await admin(client, db, "owner")
    p = await product(client, owner)
    alice = await shopper(client, "alice")
    oid = (await order(client, alice, [{"sku_id": p["skus"][0]["id"], "qty": 1}])).json()["id"]
    await pay(client, alice, oid)
    refund = (await client.post(f"/api/v1/orders/{oid}/refunds", json={"reason": "r"}, headers=alice)).json()
    async with db.tx() as s:
        await jobs.schedule(s, "no.such.handler", {}, due_at=clock.now(), key="dead-one")
    await jobs.run_due(db, max_attempts=1)
    async with db.read() as s:
        job_id = await s.scalar(select(jobs.Job.id).where(jobs.Job.key == "dead-one"))
    ids = {"product_id": p["id"], "order_id": oid, "refund_id": refund["id"], "job_id": job_id}
    return {"owner": owner, "alice": alice, "ids": ids}


async def _call(client, method, path, body, headers, ids):
    return await client.request(method, path.format(**ids), json=body, headers=headers)


async def test_admin_routes_refuse_whoever_lacks_the_permission_and_change_nothing(client, db, world):
    async with db.read() as s:
        before = await s.scalar(select(func.count()).select_from(Order))
    await check_admin_matrix(client, db, ADMIN_ROUTES, world["ids"], world["alice"])
    r = await client.get(f"/api/v1/orders/{world['ids']['order_id']}", headers=world["alice"])
    assert r.json()["status"] == "paid" and r.json()["refunds"][0]["status"] == "pending"
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == before


async def test_admin_routes_let_the_owner_through(client, db, world):
    for method, path, body, *_ in ADMIN_ROUTES:
        r = await _call(client, method, path, body, world["owner"], world["ids"])
        # Through the door: any answer but 401/403 (approve and reject race for one refund: one gets 409).
        assert r.status_code not in (401, 403) and r.status_code < 500, (method, path, r.text)


async def test_customer_order_routes_hide_one_shoppers_orders_from_another(client, world):
    bob = await shopper(client, "bob")
    for method, path, body in OWN_ORDER_ROUTES:
        r = await _call(client, method, path, body, {}, world["ids"])
        assert r.status_code == 401, (method, path)
        r = await _call(client, method, path, body, bob, world["ids"])
        assert r.status_code == 404 and r.json()["error"]["code"] == "ORDER_NOT_FOUND", (method, path, r.text)
    r = await client.get("/api/v1/orders", headers=bob)
    assert r.json()["items"] == []
    r = await client.get(f"/api/v1/orders/{world['ids']['order_id']}", headers=world["alice"])
    assert r.status_code == 200 and r.json()["status"] == "paid"


async def test_an_admin_token_is_not_a_shopper_token(client, world):
    r = await client.get("/api/v1/me", headers=world["owner"])
    assert r.status_code == 401 and r.json()["error"]["code"] == "TOKEN_INVALID"


async def test_another_shopper_cannot_use_the_sandbox_pay_button_on_my_payment(client, db, world):
    boss = world["owner"]
    p = await product(client, boss, title="另一个")
    alice = world["alice"]
    oid = (await order(client, alice, [{"sku_id": p["skus"][0]["id"], "qty": 1}])).json()["id"]
    pid = (await client.post(f"/api/v1/orders/{oid}/pay", json={}, headers=alice)).json()["payment_id"]
    bob = await shopper(client, "bob")
    r = await client.post(f"/api/v1/payments/sandbox/{pid}/succeed", headers=bob)
    assert r.status_code == 404 and r.json()["error"]["code"] == "PAYMENT_NOT_FOUND"
    r = await client.get(f"/api/v1/payments/{pid}", headers=bob)
    assert r.status_code == 404
    await run_jobs(db)
    assert (await client.get(f"/api/v1/orders/{oid}", headers=alice)).json()["status"] == "pending_payment"
