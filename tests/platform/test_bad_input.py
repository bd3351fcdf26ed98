"""Bad input: a 4xx with a stable code, and the database exactly as it was."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from fissionmall.catalog.models import Sku
from fissionmall.core import clock
from fissionmall.core.security import issue_token
from fissionmall.models import Base
from fissionmall.orders.models import Order, OrderLine
from fissionmall.payments.gateway import SandboxGateway, get_gateway
from tests.helpers import ADDRESS, admin, order, pay, product, shopper

# Logs of what was refused are allowed to grow; nothing else is.
# Logs, not state: a refusal may be recorded there. The risk layer records every decision (a refused act's
# too, by design), lowers credit on a bad act, and seeds its rulebook (bumping its cache version) with its
# first decision, in the background.
LOG_TABLES = {
    "cache_versions",
    "gateway_notifications",
    "gateway_notification_counts",
    "risk_decisions",
    "risk_credit",
    "risk_rulebook",
    "risk_rules",
}


async def snapshot(db) -> dict[str, Any]:
    """Row counts of every table plus the money and stock figures that matter."""
    async with db.read() as s:
        snap: dict[str, Any] = {}
        for t in Base.metadata.sorted_tables:
            if t.name not in LOG_TABLES:
                snap[t.name] = await s.scalar(select(func.count()).select_from(t))
        snap["stock"] = (await s.execute(select(Sku.id, Sku.stock, Sku.sold).order_by(Sku.id))).all()
        snap["orders"] = (
            await s.execute(select(Order.id, Order.status, Order.paid_fen, Order.refunded_fen).order_by(Order.id))
        ).all()
        snap["lines"] = (
            await s.execute(
                select(OrderLine.id, OrderLine.refunded_qty, OrderLine.refund_pending_qty).order_by(OrderLine.id)
            )
        ).all()
    return snap


@pytest.fixture
async def shop(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(1990,), stock=20)
    me = await shopper(client, "alice")
    sku = p["skus"][0]["id"]
    paid = (await order(client, me, [{"sku_id": sku, "qty": 2}])).json()["id"]
    await pay(client, me, paid)
    cancelled = (await order(client, me, [{"sku_id": sku, "qty": 1}])).json()["id"]
    await client.post(f"/api/v1/orders/{cancelled}/cancel", headers=me)
    return {"boss": boss, "me": me, "sku": sku, "paid": paid, "cancelled": cancelled}


def _order_body(sku: Any, qty: Any) -> dict[str, Any]:
    return {"items": [{"sku_id": sku, "qty": qty}], "address": ADDRESS}


CASES = [
    ("unknown sku", lambda w: ("POST", "/api/v1/orders", _order_body(999_999, 1)), 404, "SKU_NOT_FOUND"),
    ("qty 0", lambda w: ("POST", "/api/v1/orders", _order_body(w["sku"], 0)), 422, "VALIDATION_ERROR"),
    ("qty negative", lambda w: ("POST", "/api/v1/orders", _order_body(w["sku"], -3)), 422, "VALIDATION_ERROR"),
    ("qty huge", lambda w: ("POST", "/api/v1/orders", _order_body(w["sku"], 10**12)), 422, "VALIDATION_ERROR"),
    ("qty float", lambda w: ("POST", "/api/v1/orders", _order_body(w["sku"], 1.5)), 422, "VALIDATION_ERROR"),
    ("qty string", lambda w: ("POST", "/api/v1/orders", _order_body(w["sku"], "2")), 422, "VALIDATION_ERROR"),
    ("sku as string", lambda w: ("POST", "/api/v1/orders", _order_body(str(w["sku"]), 1)), 422, "VALIDATION_ERROR"),
    (
        "same sku past the per-order cap",
        lambda w: (
            "POST",
            "/api/v1/orders",
            {"items": [{"sku_id": w["sku"], "qty": 999}, {"sku_id": w["sku"], "qty": 1}], "address": ADDRESS},
        ),
        400,
        "QTY_TOO_LARGE",
    ),
    ("more than in stock", lambda w: ("POST", "/api/v1/orders", _order_body(w["sku"], 19)), 409, "OUT_OF_STOCK"),
    (
        "no address",
        lambda w: ("POST", "/api/v1/orders", {"items": [{"sku_id": w["sku"], "qty": 1}]}),
        400,
        "ADDRESS_REQUIRED",
    ),
    ("empty cart", lambda w: ("POST", "/api/v1/orders", {"items": [], "address": ADDRESS}), 422, "VALIDATION_ERROR"),
    (
        "unknown field",
        lambda w: ("POST", "/api/v1/orders", {**_order_body(w["sku"], 1), "price_fen": 1}),
        422,
        "VALIDATION_ERROR",
    ),
    (
        "pay a cancelled order",
        lambda w: ("POST", f"/api/v1/orders/{w['cancelled']}/pay", {"method": "gateway"}),
        409,
        "ORDER_NOT_PAYABLE",
    ),
    (
        "pay a paid order",
        lambda w: ("POST", f"/api/v1/orders/{w['paid']}/pay", {"method": "gateway"}),
        409,
        "ORDER_NOT_PAYABLE",
    ),
    (
        "unknown pay method",
        lambda w: ("POST", f"/api/v1/orders/{w['paid']}/pay", {"method": "cash"}),
        422,
        "VALIDATION_ERROR",
    ),
    ("cancel a paid order", lambda w: ("POST", f"/api/v1/orders/{w['paid']}/cancel", None), 409, "ORDER_STATE_INVALID"),
    (
        "receive an unshipped order",
        lambda w: ("POST", f"/api/v1/orders/{w['paid']}/receive", None),
        409,
        "ORDER_STATE_INVALID",
    ),
    (
        "refund more units than bought",
        lambda w: (
            "POST",
            f"/api/v1/orders/{w['paid']}/refunds",
            {"lines": [{"line_id": w["line"], "qty": 3}], "reason": "x"},
        ),
        409,
        "REFUND_QTY_EXCEEDED",
    ),
    (
        "refund a line of another order",
        lambda w: (
            "POST",
            f"/api/v1/orders/{w['paid']}/refunds",
            {"lines": [{"line_id": w["line"] + 1, "qty": 1}], "reason": "x"},
        ),
        404,
        "LINE_NOT_IN_ORDER",
    ),
    (
        "refund a cancelled order",
        lambda w: ("POST", f"/api/v1/orders/{w['cancelled']}/refunds", {"reason": "x"}),
        409,
        "REFUND_NOT_ALLOWED",
    ),
    (
        "refund without reason",
        lambda w: ("POST", f"/api/v1/orders/{w['paid']}/refunds", {"reason": ""}),
        422,
        "VALIDATION_ERROR",
    ),
    ("order id overflow", lambda w: ("GET", "/api/v1/orders/99999999999999999999999", None), 422, "VALIDATION_ERROR"),
    ("category id overflow", lambda w: ("GET", f"/api/v1/products?category_id={2**70}", None), 422, "VALIDATION_ERROR"),
    ("bad cursor", lambda w: ("GET", "/api/v1/orders?cursor=abc", None), 400, "CURSOR_INVALID"),
    (
        "a coupon that does not exist",
        lambda w: ("POST", "/api/v1/checkout/preview", {"items": [{"sku_id": w["sku"], "qty": 1}], "coupon_id": 5}),
        404,
        "COUPON_NOT_FOUND",
    ),
    (
        "top-up of an unknown package",
        lambda w: ("POST", "/api/v1/wallet/top-ups", {"package_id": 999}),
        404,
        "PACKAGE_NOT_FOUND",
    ),
    ("top-up of package 0", lambda w: ("POST", "/api/v1/wallet/top-ups", {"package_id": 0}), 422, "VALIDATION_ERROR"),
    (
        "a negative wallet share",
        lambda w: ("POST", f"/api/v1/orders/{w['paid']}/pay", {"method": "split", "wallet_fen": -1}),
        422,
        "VALIDATION_ERROR",
    ),
    (
        "the wallet for a paid order",
        lambda w: ("POST", f"/api/v1/orders/{w['paid']}/pay", {"method": "wallet"}),
        409,
        "ORDER_NOT_PAYABLE",
    ),
    (
        "negative points",
        lambda w: ("POST", "/api/v1/checkout/preview", {"items": [{"sku_id": w["sku"], "qty": 1}], "points": -5}),
        422,
        "VALIDATION_ERROR",
    ),
]


@pytest.mark.parametrize(("name", "make", "status", "code"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_is_refused_with_a_code_and_changes_nothing(client, db, shop, name, make, status, code):
    order_view = (await client.get(f"/api/v1/orders/{shop['paid']}", headers=shop["me"])).json()
    shop = {**shop, "line": order_view["lines"][0]["id"]}
    method, path, body = make(shop)
    before = await snapshot(db)
    r = await client.request(method, path, json=body, headers=shop["me"])
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert await snapshot(db) == before


async def test_malformed_json_is_a_400(client, db, shop):
    before = await snapshot(db)
    r = await client.post(
        "/api/v1/orders", content=b'{"items": [', headers={**shop["me"], "content-type": "application/json"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (400, "MALFORMED_JSON")
    assert await snapshot(db) == before


async def test_expired_and_forged_tokens_are_refused(client, db, settings, shop):
    expired = issue_token(settings.secret_key, kind="customer", subject=1, ttl_seconds=60)
    clock.advance(61)
    r = await client.get("/api/v1/orders", headers={"Authorization": f"Bearer {expired}"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "TOKEN_EXPIRED")
    forged = issue_token("not-the-secret-" + "z" * 32, kind="customer", subject=1, ttl_seconds=600)
    r = await client.get("/api/v1/orders", headers={"Authorization": f"Bearer {forged}"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "TOKEN_INVALID")


async def test_a_replayed_notification_with_a_bad_signature_changes_nothing(client, db, shop):
    me, sku = shop["me"], shop["sku"]
    oid = (await order(client, me, [{"sku_id": sku, "qty": 1}])).json()["id"]
    pid = (await client.post(f"/api/v1/orders/{oid}/pay", json={}, headers=me)).json()["payment_id"]
    gw = get_gateway("sandbox")
    assert isinstance(gw, SandboxGateway)
    headers, body = gw.notification(
        {"kind": "payment", "reference": pid, "amount_fen": 2790, "external_id": "T", "status": "SUCCESS"}
    )
    tampered = body.replace(b"2790", b"0001")
    before = await snapshot(db)
    for h, b in ((headers, tampered), ({**headers, "x-sandbox-signature": "0" * 64}, body), ({}, body)):
        r = await client.post("/api/v1/payments/sandbox/notify", content=b, headers=h)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "SIGNATURE_INVALID")
        assert r.json()["code"] == "FAIL"  # the shape WeChat documents for a refused notification
    assert await snapshot(db) == before
    # A correctly signed notification for a different amount is answered but not applied.
    h2, b2 = gw.notification(
        {"kind": "payment", "reference": pid, "amount_fen": 1, "external_id": "T", "status": "SUCCESS"}
    )
    r = await client.post("/api/v1/payments/sandbox/notify", content=b2, headers=h2)
    assert r.json()["outcome"] == "amount_mismatch"
    assert await snapshot(db) == before


async def test_paying_after_the_deadline_is_refused(client, db, shop):
    oid = (await order(client, shop["me"], [{"sku_id": shop["sku"], "qty": 1}])).json()["id"]
    clock.advance(timedelta(minutes=31).total_seconds())
    before = await snapshot(db)
    r = await client.post(f"/api/v1/orders/{oid}/pay", json={}, headers=shop["me"])
    assert (r.status_code, r.json()["error"]["code"]) == (409, "ORDER_PAY_EXPIRED")
    assert await snapshot(db) == before


async def test_refunding_more_than_was_paid_is_impossible(client, db, shop):
    me, paid = shop["me"], shop["paid"]
    r = await client.post(f"/api/v1/orders/{paid}/refunds", json={"reason": "全部退"}, headers=me)
    assert r.status_code == 201 and r.json()["amount_fen"] == 1990 * 2 + 800
    before = await snapshot(db)
    r = await client.post(f"/api/v1/orders/{paid}/refunds", json={"reason": "再退一次"}, headers=me)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "NOTHING_TO_REFUND")
    assert await snapshot(db) == before


async def test_admin_product_input_is_validated(client, db, shop):
    before = await snapshot(db)
    bad = [
        {"title": "", "skus": [{"name": "a", "price_fen": 1}]},
        {"title": "x", "skus": []},
        {"title": "x", "skus": [{"name": "a", "price_fen": -1}]},
        {"title": "x", "skus": [{"name": "a", "price_fen": 19.9}]},
        {"title": "x", "skus": [{"name": "a", "price_fen": 100, "stock": -5}]},
    ]
    for body in bad:
        r = await client.post("/api/admin/v1/products", json=body, headers=shop["boss"])
        assert (r.status_code, r.json()["error"]["code"]) == (422, "VALIDATION_ERROR"), body
    assert await snapshot(db) == before


async def test_values_the_database_cannot_take_are_a_400_not_a_500(app, client, db, shop):
    r = await client.get("/api/v1/products", params={"q": "橙\x00子"})
    # A NUL is refused in a search as in any text (core/inputs.py), on SQLite and PostgreSQL alike.
    assert (r.status_code, r.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
    # The safety net behind validation: a value the database refuses is still the client's error.
    from sqlalchemy.exc import DataError

    async def overflow() -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    async def data_error() -> None:
        raise DataError("SELECT 1", {}, Exception("invalid byte sequence for encoding UTF8: 0x00"))

    app.add_api_route("/test-only/overflow", overflow)
    app.add_api_route("/test-only/data-error", data_error)
    r = await client.get("/test-only/overflow")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "VALUE_OUT_OF_RANGE")
    r = await client.get("/test-only/data-error")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "INVALID_VALUE")
