"""The payments console pages, plugged in by payments/admin.py: records, reconciliation, who may see them."""

from __future__ import annotations

from fissionmall.core import clock
from tests.console_helpers import console
from tests.helpers import admin, order, pay, product, shopper


async def _two_payments(client, db) -> tuple[int, int]:
    boss = await admin(client, db, username="api-owner")
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    me = await shopper(client, "payer")
    paid = (await order(client, me, [{"sku_id": sku, "qty": 1}])).json()["id"]
    await pay(client, me, paid)
    pending = (await order(client, me, [{"sku_id": sku, "qty": 1}])).json()["id"]
    r = await client.post(f"/api/v1/orders/{pending}/pay", json={}, headers=me)
    return paid, r.json()["payment_id"]


async def test_finance_sees_payments_with_gateway_ids_and_the_stale_ones_to_reconcile(client, db):
    _, pending_payment = await _two_payments(client, db)
    csrf = await console(client, db, "finance")
    page = await client.get("/admin/payments")
    assert page.status_code == 200
    assert "SBX0000000001" in page.text  # the sandbox gateway's transaction id of the paid one
    assert f'data-payment="{pending_payment}"' in page.text and "待支付" in page.text
    assert "支付记录" in page.text  # the nav entry the plug-in added

    recon = await client.get("/admin/payments/reconcile")
    assert f'data-payment="{pending_payment}"' not in recon.text  # not stale yet
    clock.advance(16 * 60)
    recon = await client.get("/admin/payments/reconcile")
    assert f'data-payment="{pending_payment}"' in recon.text and "沙箱，无需对账" in recon.text

    r = await client.post("/admin/payments/reconcile", data={})
    assert r.status_code == 403  # no CSRF token
    r = await client.post("/admin/payments/reconcile", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/admin/payments/reconcile?applied=0"


async def test_store_staff_cannot_see_payments(client, db):
    await _two_payments(client, db)
    await console(client, db, "store_staff")
    r = await client.get("/admin/payments")
    assert r.status_code == 403 and "没有权限" in r.text
    assert "支付记录" not in (await client.get("/admin/")).text  # and the nav hides it
