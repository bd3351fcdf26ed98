"""Payments a WeChat Pay coupon (代金券) paid part of: `payer_total < total`.

WeChat reports the order's amount as `amount.total` and the payer's own part as `payer_total`;
`promotion_detail[]` names the coupon. The order is paid in full (the coupon's funder pays the
rest), so such a notification must be applied, once, and the unpaid-order timer must then leave
the order alone. Comparing `payer_total` with the order once recorded an amount mismatch, answered
200 so WeChat stopped retrying, and the timer cancelled an order whose money WeChat held.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from fissionmall.core import clock
from fissionmall.orders.models import Order
from fissionmall.payments.models import GatewayNotification, Payment
from fissionmall.payments.wechatpay import sweeps
from tests.console_helpers import console
from tests.helpers import run_jobs
from tests.wechat.conftest import deliver
from tests.wechat.test_pay_flow import _start

COUPON = 500  # a 5 元 WeChat Pay coupon


async def _payment(db, payment_id: int) -> Payment:
    async with db.read() as s:
        p = await s.get(Payment, payment_id)
        assert p is not None
        return p


async def _order(db, order_id: int) -> Order:
    async with db.read() as s:
        o = await s.get(Order, order_id)
        assert o is not None
        return o


async def _after_the_pay_deadline(db) -> None:
    clock.advance(60 * 60 * 3)  # well past unpaid_cancel_minutes: the auto-cancel timer is due
    await run_jobs(db)


@pytest.mark.parametrize("coupon_type", ["CASH", "NOCASH"])
async def test_coupon_funded_notification_pays_the_order_once(wx_client, wx_db, fake_pay, coupon_type):
    ctx = await _start(wx_client, wx_db, fake_pay)
    total = ctx["order"]["payable_fen"]
    note = fake_pay.pay(ctx["no"], coupon_fen=COUPON, coupon_type=coupon_type)
    # The fake reports it as WeChat does.
    wo = fake_pay.transaction(fake_pay.state.orders[ctx["no"]])
    assert wo["amount"]["total"] == total and wo["amount"]["payer_total"] == total - COUPON
    assert wo["promotion_detail"][0]["amount"] == COUPON

    rs = await asyncio.gather(*[deliver(wx_client, note) for _ in range(5)])
    assert all(r.status_code == 200 for r in rs)
    assert sorted(r.json()["outcome"] for r in rs) == ["applied"] + ["duplicate"] * 4

    p = await _payment(wx_db, ctx["pay"]["payment_id"])
    assert p.status == "succeeded" and p.amount_fen == total
    assert p.payer_total_fen == total - COUPON and p.gateway_discount_fen == COUPON
    assert p.promotion_detail and p.promotion_detail[0]["amount"] == COUPON
    assert p.promotion_detail[0]["type"] == coupon_type
    assert p.promotion_detail[0]["merchant_contribute"] == (COUPON if coupon_type == "NOCASH" else 0)
    o = await _order(wx_db, ctx["order"]["id"])
    assert o.status == "paid" and o.paid_fen == total

    await _after_the_pay_deadline(wx_db)
    o = await _order(wx_db, ctx["order"]["id"])
    assert o.status == "paid"  # the unpaid-order timer did nothing
    async with wx_db.read() as s:
        outcomes = (await s.scalars(select(GatewayNotification.outcome))).all()
    assert "amount_mismatch" not in outcomes


async def test_reconciliation_applies_a_coupon_funded_payment_whose_notification_was_lost(wx_client, wx_db, fake_pay):
    ctx = await _start(wx_client, wx_db, fake_pay)
    total = ctx["order"]["payable_fen"]
    fake_pay.pay(ctx["no"], coupon_fen=COUPON)  # paid at WeChat; the notification never arrives
    clock.advance(11 * 60)
    async with wx_db.tx() as s:
        assert await sweeps.reconcile_payments(s, older_than_minutes=10) == 1
    p = await _payment(wx_db, ctx["pay"]["payment_id"])
    assert p.status == "succeeded" and (p.amount_fen, p.payer_total_fen) == (total, total - COUPON)
    # the sweep again, and the late notification: nothing more
    async with wx_db.tx() as s:
        assert await sweeps.reconcile_payments(s, older_than_minutes=10) == 0
    r = await deliver(wx_client, fake_pay.payment_notification(ctx["no"]))
    assert r.json()["outcome"] == "duplicate"
    await _after_the_pay_deadline(wx_db)
    o = await _order(wx_db, ctx["order"]["id"])
    assert o.status == "paid" and o.paid_fen == total
    async with wx_db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Payment).where(Payment.status == "succeeded")) == 1


async def test_a_wrong_total_is_still_refused(wx_client, wx_db, fake_pay):
    """The check moved to `amount.total`, it did not go away."""
    ctx = await _start(wx_client, wx_db, fake_pay)
    fake_pay.pay(ctx["no"])
    t = fake_pay.transaction(fake_pay.state.orders[ctx["no"]])
    note = fake_pay.payment_notification(ctx["no"], amount={**t["amount"], "total": t["amount"]["total"] - 1})
    r = await deliver(wx_client, note)
    assert r.json()["outcome"] == "amount_mismatch"
    assert (await _payment(wx_db, ctx["pay"]["payment_id"])).status == "pending"


async def test_console_shows_what_the_payer_paid_and_the_coupon(wx_client, wx_db, fake_pay):
    ctx = await _start(wx_client, wx_db, fake_pay)
    await deliver(wx_client, fake_pay.pay(ctx["no"], coupon_fen=COUPON, coupon_type="NOCASH"))
    total = ctx["order"]["payable_fen"]
    yuan = lambda fen: f"{fen // 100}.{fen % 100:02d}"  # noqa: E731
    await console(wx_client, wx_db, "finance")
    order_page = await wx_client.get(f"/admin/orders/{ctx['order']['id']}")
    assert order_page.status_code == 200, order_page.text[:300]
    assert "微信支付优惠" in order_page.text and yuan(total - COUPON) in order_page.text
    rec = await wx_client.get("/admin/payments/reconcile")
    assert rec.status_code == 200
    assert 'id="promoted-table"' in rec.text and "商户出资" in rec.text and yuan(COUPON) in rec.text
    lst = await wx_client.get("/admin/payments")
    assert yuan(total - COUPON) in lst.text
