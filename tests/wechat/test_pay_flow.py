"""The shopper flow with the WeChat Pay gateway against the local APIv3 fake, and its refusals."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.orders.models import Order, Refund
from fissionmall.payments.models import GatewayNotification, Payment
from fissionmall.payments.wechatpay import crypto, sweeps
from fissionmall.payments.wechatpay.fake import FakeWechatPay
from tests.helpers import admin, order, product, run_jobs, shopper
from tests.platform.test_bad_input import snapshot
from tests.wechat.conftest import APIV3, APPID, FlakyTransport, deliver


async def _paid_order(client: httpx.AsyncClient, db: Database, fake: FakeWechatPay) -> dict[str, Any]:
    boss = await admin(client, db)
    p = await product(client, boss, prices=(1990, 500), stock=20)
    me = await shopper(client, "alice")
    skus = [s["id"] for s in p["skus"]]
    o = (await order(client, me, [{"sku_id": skus[0], "qty": 2}, {"sku_id": skus[1], "qty": 1}])).json()
    r = await client.post(f"/api/v1/orders/{o['id']}/pay", json={"method": "gateway"}, headers=me)
    assert r.status_code == 200, r.text
    return {"boss": boss, "me": me, "order": o, "pay": r.json()}


async def _start(client: httpx.AsyncClient, db: Database, fake: FakeWechatPay) -> dict[str, Any]:
    ctx = await _paid_order(client, db, fake)
    ctx["no"] = ctx["pay"]["gateway"]["out_trade_no"]
    return ctx


async def test_shopper_flow_prepay_paysign_notify_refund(wx_client, wx_db, fake_pay, merchant_key):
    ctx = await _start(wx_client, wx_db, fake_pay)
    o, pay = ctx["order"], ctx["pay"]
    # prepay: amounts in fen, out_trade_no = our payment id, time_expire, payer openid
    assert pay["gateway"]["out_trade_no"] == f"P{pay['payment_id']:010d}"
    wo = fake_pay.state.orders[f"P{pay['payment_id']:010d}"]
    assert wo["total"] == o["payable_fen"] and wo["openid"] == "sandbox-alice"
    assert wo["params"]["time_expire"].endswith("+08:00")
    assert wo["notify_url"] == "https://shop.example.com/api/v1/payments/wechatpay/notify"
    # paySign for wx.requestPayment verifies with the merchant public key
    rp = pay["gateway"]["request_payment"]
    assert rp["appId"] == APPID and rp["signType"] == "RSA" and rp["package"] == f"prepay_id={wo['prepay_id']}"
    msg = crypto.lines(rp["appId"], rp["timeStamp"], rp["nonceStr"], rp["package"])
    assert crypto.verify(merchant_key.public_key(), msg, rp["paySign"])
    # paying again returns the same prepay (same out_trade_no, same parameters)
    again = await wx_client.post(f"/api/v1/orders/{o['id']}/pay", json={"method": "gateway"}, headers=ctx["me"])
    assert again.json()["gateway"]["request_payment"]["package"] == rp["package"]

    r = await deliver(wx_client, fake_pay.pay(ctx["no"]))
    assert r.status_code == 200 and r.json()["outcome"] == "applied"
    got = (await wx_client.get(f"/api/v1/orders/{o['id']}", headers=ctx["me"])).json()
    assert got["status"] == "paid"

    # line refund: one unit of the first line, approved, sent to WeChat, confirmed by notification
    line = got["lines"][0]
    r = await wx_client.post(
        f"/api/v1/orders/{o['id']}/refunds",
        json={"lines": [{"line_id": line["id"], "qty": 1}], "reason": "不想要了"},
        headers=ctx["me"],
    )
    assert r.status_code == 201, r.text
    refund_id = r.json()["id"]
    r = await wx_client.post(f"/api/admin/v1/refunds/{refund_id}/approve", headers=ctx["boss"])
    assert r.status_code == 200, r.text
    await run_jobs(wx_db)
    wr = fake_pay.state.refunds[f"R{refund_id:010d}"]
    assert wr["status"] == "PROCESSING" and wr["out_trade_no"] == ctx["no"]
    r = await deliver(wx_client, fake_pay.settle_refund(f"R{refund_id:010d}"))
    assert r.status_code == 200 and r.json()["outcome"] == "applied"
    async with wx_db.read() as s:
        ref = await s.get(Refund, refund_id)
        order_row = await s.get(Order, o["id"])
        assert ref is not None and order_row is not None
        assert ref.status == "succeeded" and ref.gateway_refund_id == wr["refund_id"]
        assert order_row.refunded_fen == wr["amount"]["refund"] == ref.amount_fen
    # the refund notification again: nothing more
    r = await deliver(wx_client, fake_pay.refund_notification(f"R{refund_id:010d}"))
    assert r.json()["outcome"] == "duplicate"


async def test_same_notification_ten_times_concurrently_pays_once(wx_client, wx_db, fake_pay):
    ctx = await _start(wx_client, wx_db, fake_pay)
    note = fake_pay.pay(ctx["no"])
    rs = await asyncio.gather(*[deliver(wx_client, note) for _ in range(10)])
    assert all(r.status_code == 200 for r in rs)
    assert sorted(r.json()["outcome"] for r in rs).count("applied") == 1
    async with wx_db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Payment).where(Payment.status == "succeeded")) == 1
        o = await s.get(Order, ctx["order"]["id"])
        assert o is not None and o.status == "paid" and o.paid_fen == ctx["order"]["payable_fen"]


def _bad_notes(fake: FakeWechatPay, no: str) -> dict[str, Any]:
    fake.pay(no)
    resource = fake.transaction(fake.state.orders[no])
    good = fake.payment_notification(no)
    tampered = good.body.replace(b'"summary": "', b'"summary": "x')
    assert tampered != good.body
    return {
        "tampered": (good.headers, tampered, 401),
        "wrong_serial": _hb(fake.notification("TRANSACTION.SUCCESS", "transaction", resource, "", "s", serial="X1")),
        "stale": _hb(fake.notification("TRANSACTION.SUCCESS", "transaction", resource, "", "s", age_seconds=600)),
        "signtest": _hb(fake.notification("TRANSACTION.SUCCESS", "transaction", resource, "", "s", signtest=True)),
        "wrong_key": _hb(
            fake.notification("TRANSACTION.SUCCESS", "transaction", resource, "", "s", apiv3_key="k" * 32), 400
        ),
        "no_headers": ({}, good.body, 401),
    }


def _hb(note: Any, status: int = 401) -> tuple[dict[str, str], bytes, int]:
    return note.headers, note.body, status


@pytest.mark.parametrize("case", ["tampered", "wrong_serial", "stale", "signtest", "wrong_key", "no_headers"])
async def test_unverifiable_notifications_are_refused_and_change_nothing(wx_client, wx_db, fake_pay, case):
    ctx = await _start(wx_client, wx_db, fake_pay)
    headers, body, status = _bad_notes(fake_pay, ctx["no"])[case]
    before = await snapshot(wx_db)
    r = await wx_client.post("/api/v1/payments/wechatpay/notify", content=body, headers=headers)
    assert r.status_code == status, r.text
    assert await snapshot(wx_db) == before
    async with wx_db.read() as s:
        p = await s.get(Payment, ctx["pay"]["payment_id"])
        assert p is not None and p.status == "pending"
        logged = (await s.scalars(select(GatewayNotification.outcome))).all()
    assert logged and all(x != "applied" for x in logged)


async def test_bad_input_is_logged_answered_and_changes_nothing(wx_client, wx_db, fake_pay):
    ctx = await _start(wx_client, wx_db, fake_pay)
    no = ctx["no"]
    fake_pay.pay(no)
    t = fake_pay.transaction(fake_pay.state.orders[no])
    cases = {
        "malformed": (
            fake_pay.notification("TRANSACTION.SUCCESS", "transaction", t, "", "s", raw_body=b"{not json"),
            400,
        ),
        "unknown": (fake_pay.payment_notification(no, out_trade_no="P999999"), 200),
        "foreign": (fake_pay.payment_notification(no, out_trade_no="ORDER-123"), 200),
        "amount": (fake_pay.payment_notification(no, amount={"total": 1, "payer_total": 1, "currency": "CNY"}), 200),
        "currency": (
            fake_pay.payment_notification(no, amount={"total": t["amount"]["total"], "currency": "USD"}),
            200,
        ),
        "not_json_resource": (
            fake_pay.notification("TRANSACTION.SUCCESS", "transaction", {"x": 1}, "", "s"),
            400,
        ),
    }
    before = await snapshot(wx_db)
    for name, (note, status) in cases.items():
        r = await deliver(wx_client, note)
        assert r.status_code == status, (name, r.text)
        if status == 200:
            assert r.json()["outcome"] in ("unknown_reference", "amount_mismatch"), name
    assert await snapshot(wx_db) == before
    async with wx_db.read() as s:
        outcomes = (await s.scalars(select(GatewayNotification.outcome))).all()
    assert len(outcomes) == len(cases) and "applied" not in outcomes


async def test_refund_retried_after_timeout_reuses_out_refund_no(wx_client, wx_db, fake_pay, transport: FlakyTransport):
    ctx = await _start(wx_client, wx_db, fake_pay)
    await deliver(wx_client, fake_pay.pay(ctx["no"]))
    r = await wx_client.post(f"/api/v1/orders/{ctx['order']['id']}/refunds", json={"reason": "坏了"}, headers=ctx["me"])
    refund_id = r.json()["id"]
    await wx_client.post(f"/api/admin/v1/refunds/{refund_id}/approve", headers=ctx["boss"])
    transport.drop = 1  # WeChat takes the refund, the answer times out
    await run_jobs(wx_db)
    assert len(fake_pay.state.refunds) == 1
    clock.advance(3600)  # the job's retry comes due
    await run_jobs(wx_db)
    refund_calls = [c for c in fake_pay.state.calls if c[1] == "/v3/refund/domestic/refunds"]
    assert len(refund_calls) == 2 and list(fake_pay.state.refunds) == [f"R{refund_id:010d}"]
    assert fake_pay.state.orders[ctx["no"]]["refunded"] == ctx["order"]["payable_fen"]
    r = await deliver(wx_client, fake_pay.settle_refund(f"R{refund_id:010d}"))
    assert r.json()["outcome"] == "applied"


async def test_reconciliation_confirms_a_payment_whose_notification_never_came(wx_client, wx_db, fake_pay):
    ctx = await _start(wx_client, wx_db, fake_pay)
    fake_pay.pay(ctx["no"])  # paid at WeChat; the notification is lost
    async with wx_db.tx() as s:
        assert await sweeps.reconcile_payments(s, older_than_minutes=5) == 0  # too young
    clock.advance(6 * 60)
    async with wx_db.tx() as s:
        assert await sweeps.reconcile_payments(s, older_than_minutes=5) == 1
    # the late notification now changes nothing
    r = await deliver(wx_client, fake_pay.payment_notification(ctx["no"]))
    assert r.json()["outcome"] == "duplicate"
    async with wx_db.read() as s:
        o = await s.get(Order, ctx["order"]["id"])
        assert o is not None and o.status == "paid"


async def test_refund_stuck_in_processing_is_polled(wx_client, wx_db, fake_pay):
    ctx = await _start(wx_client, wx_db, fake_pay)
    await deliver(wx_client, fake_pay.pay(ctx["no"]))
    r = await wx_client.post(f"/api/v1/orders/{ctx['order']['id']}/refunds", json={"reason": "坏了"}, headers=ctx["me"])
    refund_id = r.json()["id"]
    await wx_client.post(f"/api/admin/v1/refunds/{refund_id}/approve", headers=ctx["boss"])
    await run_jobs(wx_db)
    clock.advance(120)
    async with wx_db.tx() as s:
        assert await sweeps.poll_refunds(s) == 0  # still PROCESSING at WeChat
    fake_pay.settle_refund(f"R{refund_id:010d}")  # its notification is lost
    async with wx_db.tx() as s:
        assert await sweeps.poll_refunds(s) == 1
    async with wx_db.read() as s:
        ref = await s.get(Refund, refund_id)
        assert ref is not None and ref.status == "succeeded"


async def test_periodic_jobs_run_once_per_period(wx_client, wx_db):
    async with wx_db.tx() as s:
        await sweeps.schedule_periodic(s)
        await sweeps.schedule_periodic(s)
    from fissionmall.core.jobs import Job

    async with wx_db.read() as s:
        names = sorted((await s.scalars(select(Job.handler).where(Job.status == "pending"))).all())
    assert names == [sweeps.POLL_REFUNDS, sweeps.RECONCILE]
    clock.advance(sweeps.PERIOD_SECONDS + 1)
    await run_jobs(wx_db)
    async with wx_db.read() as s:
        pending = (await s.scalars(select(Job.handler).where(Job.status == "pending"))).all()
    assert sorted(pending) == [sweeps.POLL_REFUNDS, sweeps.RECONCILE]  # the next period, once each


def test_pay_sign_matches_the_documented_signing_string_and_openssl(tmp_path, merchant_key):
    import base64
    import shutil
    import subprocess

    # WeChat's documented example (小程序调起支付 paySign 生成规则)
    msg = crypto.lines(
        "wx8888888888888888",
        "1414561699",
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "prepay_id=wx201410272009395522657a690389285100",
    )
    assert msg == (
        b"wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
        b"prepay_id=wx201410272009395522657a690389285100\n"
    )
    ours = crypto.pay_sign(
        merchant_key,
        appid="wx8888888888888888",
        timestamp="1414561699",
        nonce_str="5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        package="prepay_id=wx201410272009395522657a690389285100",
    )
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key = tmp_path / "apiclient_key.pem"
    key.write_text(crypto.private_pem(merchant_key))
    # the documented command: echo -n -e "..." | openssl dgst -sha256 -sign apiclient_key.pem | openssl base64 -A
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key)], input=msg, capture_output=True, check=True)
    assert ours == base64.b64encode(sig.stdout).decode()


def test_aead_round_trip_and_wrong_key():
    enc = crypto.aead_encrypt(APIV3, json.dumps({"a": 1}).encode(), "transaction")
    assert json.loads(crypto.aead_decrypt(APIV3, enc)) == {"a": 1}
    with pytest.raises(crypto.DecryptError):
        crypto.aead_decrypt("b" * 32, enc)
