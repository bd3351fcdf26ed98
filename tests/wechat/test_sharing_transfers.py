"""Profit sharing (split once per out_order_no) and merchant transfers (confirm → SUCCESS → duplicate)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from fissionmall.core.jobs import Event
from fissionmall.payments.gateway import get_gateway
from fissionmall.payments.wechatpay.client import WechatPayError
from fissionmall.payments.wechatpay.gateway import WechatPayGateway
from tests.helpers import run_jobs
from tests.wechat.conftest import deliver
from tests.wechat.test_pay_flow import _start


async def test_a_commission_is_split_once(wx_client, wx_db, fake_pay, wx_settings):
    wx_settings.wechat_profit_sharing = True
    gw = get_gateway("wechatpay")
    assert isinstance(gw, WechatPayGateway)
    ctx = await _start(wx_client, wx_db, fake_pay)
    await deliver(wx_client, fake_pay.pay(ctx["no"]))
    txn = fake_pay.state.orders[ctx["no"]]["transaction_id"]
    await gw.add_receiver("openid-distributor")
    first = await gw.split(transaction_id=txn, out_order_no="S0000000001", shares=[("openid-distributor", 300, "佣金")])
    again = await gw.split(transaction_id=txn, out_order_no="S0000000001", shares=[("openid-distributor", 300, "佣金")])
    assert first == again and first["state"] == "FINISHED"
    assert fake_pay.state.orders[ctx["no"]]["split"] == 300
    q = await gw.query_split(transaction_id=txn, out_order_no="S0000000001")
    assert q["receivers"][0]["amount"] == 300
    with pytest.raises(WechatPayError):  # beyond WeChat's 30% ceiling
        await gw.split(transaction_id=txn, out_order_no="S0000000002", shares=[("openid-distributor", 5000, "x")])
    await gw.unfreeze(transaction_id=txn, out_order_no="U0000000001")
    with pytest.raises(WechatPayError):
        await gw.split(transaction_id=txn, out_order_no="S0000000003", shares=[("openid-distributor", 1, "x")])
    assert fake_pay.state.orders[ctx["no"]]["split"] == 300


async def test_transfer_waits_for_user_then_succeeds_and_a_duplicate_changes_nothing(wx_client, wx_db, fake_pay):
    gw = get_gateway("wechatpay")
    assert isinstance(gw, WechatPayGateway)
    t = await gw.transfer(out_bill_no="W0000000001", openid="openid-d", amount_fen=1234, remark="佣金提现")
    assert t["state"] == "WAIT_USER_CONFIRM" and t["confirm"]["package"].startswith("ABBQO")
    again = await gw.transfer(out_bill_no="W0000000001", openid="openid-d", amount_fen=1234, remark="佣金提现")
    assert again["transfer_bill_no"] == t["transfer_bill_no"] and len(fake_pay.state.transfers) == 1
    assert (await gw.query_transfer("W0000000001"))["state"] == "WAIT_USER_CONFIRM"

    note = fake_pay.confirm_transfer("W0000000001")
    assert note.notify_url == "https://shop.example.com/api/v1/wechat/pay/transfer-notify"
    for _ in range(2):  # delivered, then delivered again
        r = await deliver(wx_client, note)
        assert r.status_code == 204, r.text
    await run_jobs(wx_db)
    async with wx_db.read() as s:
        events = (await s.scalars(select(Event).where(Event.type == "WechatTransferFinished"))).all()
    assert [(e.payload["out_bill_no"], e.payload["state"], e.payload["amount_fen"]) for e in events] == [
        ("W0000000001", "SUCCESS", 1234)
    ]
    assert (await gw.query_transfer("W0000000001"))["state"] == "SUCCESS"


async def test_a_forged_transfer_notification_is_refused(wx_client, wx_db, fake_pay):
    gw = get_gateway("wechatpay")
    assert isinstance(gw, WechatPayGateway)
    await gw.transfer(out_bill_no="W0000000002", openid="openid-d", amount_fen=500, remark="x")
    note = fake_pay.confirm_transfer("W0000000002")
    r = await wx_client.post(httpx.URL(note.notify_url).path, content=note.body + b" ", headers=note.headers)
    assert r.status_code == 401 and r.json()["code"] == "FAIL"
    await run_jobs(wx_db)
    async with wx_db.read() as s:
        assert (await s.scalars(select(Event).where(Event.type == "WechatTransferFinished"))).all() == []


async def test_our_requests_are_signed_and_a_bad_signature_is_refused_by_the_fake(wx_app, fake_pay, merchant_key):
    from fissionmall.payments.wechatpay import crypto

    other = crypto.generate_key()
    body = "{}"
    auth = crypto.authorization(
        other,
        mchid=fake_pay.mchid,
        serial=fake_pay.merchant_serial,
        method="GET",
        url_path="/v3/refund/domestic/refunds/R1",
        body="",
        timestamp=str(int(__import__("time").time())),
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_pay.app), base_url="http://f") as c:
        r = await c.get("/v3/refund/domestic/refunds/R1", headers={"Authorization": auth})
        assert r.status_code == 401 and r.json()["code"] == "SIGN_ERROR"
        r = await c.post("/v3/pay/transactions/jsapi", content=body)
        assert r.status_code == 401
