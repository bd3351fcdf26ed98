"""Merchant transfers as WeChat wants them: `Wechatpay-Serial` on every transfer, and from 2,000 元 on an
encrypted `user_name`, which a distributor's withdrawal carries from request to payout without the name
ever being stored in plain text."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from fissionmall.core import clock
from fissionmall.core.errors import AppError
from fissionmall.distribution.models import Commission, Withdrawal
from fissionmall.distribution.transfer import TransferResult, use_transfer
from fissionmall.payments.gateway import get_gateway
from fissionmall.payments.wechatpay import crypto
from fissionmall.payments.wechatpay.fake import FakeWechatPay
from fissionmall.payments.wechatpay.gateway import WechatPayGateway
from tests.distribution.helpers import configure, customer_id, distributor
from tests.helpers import admin, run_jobs
from tests.wechat.conftest import MCHID, PUBKEY_ID, SERIAL

TRANSFER = "/v3/fund-app/mch-transfer/transfer-bills"
NAME = "王小明"


def _bill(no: str, amount_fen: int, **extra: Any) -> dict[str, Any]:
    from tests.wechat.conftest import APPID

    return {
        "appid": APPID,
        "out_bill_no": no,
        "transfer_scene_id": "1005",
        "openid": "openid-d",
        "transfer_amount": amount_fen,
        "transfer_remark": "佣金提现",
        **extra,
    }


async def _raw(fake: FakeWechatPay, merchant_key: Any, body: dict[str, Any], serial: str | None) -> httpx.Response:
    """A correctly signed transfer request, with the Wechatpay-Serial we choose (or none)."""
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    auth = crypto.authorization(
        merchant_key,
        mchid=MCHID,
        serial=SERIAL,
        method="POST",
        url_path=TRANSFER,
        body=payload,
        timestamp=str(int(clock.now().timestamp())),
    )
    headers = {"Authorization": auth, "Content-Type": "application/json"}
    if serial is not None:
        headers["Wechatpay-Serial"] = serial
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url="http://f") as c:
        return await c.post(TRANSFER, content=payload.encode(), headers=headers)


class Recording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.requests = inner, []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


def _gateway() -> WechatPayGateway:
    gw = get_gateway("wechatpay")
    assert isinstance(gw, WechatPayGateway)
    return gw


async def test_the_fake_refuses_a_transfer_without_our_platform_key_serial(fake_pay, merchant_key):
    r = await _raw(fake_pay, merchant_key, _bill("W0000000101", 500), serial=None)
    assert r.status_code == 400 and r.json()["code"] == "PARAM_ERROR" and "Wechatpay-Serial" in r.json()["message"]
    r = await _raw(fake_pay, merchant_key, _bill("W0000000101", 500), serial="PUB_KEY_ID_SOMEONE_ELSE")
    assert r.status_code == 400 and r.json()["code"] == "PARAM_ERROR"
    r = await _raw(fake_pay, merchant_key, _bill("W0000000101", 500), serial=PUBKEY_ID)
    assert r.status_code == 200 and r.json()["state"] == "WAIT_USER_CONFIRM"


async def test_our_transfers_carry_wechatpay_serial(wx_app, wx_settings, fake_pay):
    recording = Recording(httpx.ASGITransport(app=fake_pay.app))
    gw = WechatPayGateway(wx_settings, transport=recording)
    t = await gw.transfer(out_bill_no="W0000000102", openid="openid-d", amount_fen=1234, remark="佣金提现")
    assert t["state"] == "WAIT_USER_CONFIRM"
    (sent,) = [q for q in recording.requests if q.url.path == TRANSFER]
    assert sent.headers["Wechatpay-Serial"] == PUBKEY_ID


async def test_the_fake_refuses_2000_yuan_without_a_user_name_it_can_decrypt(fake_pay, merchant_key):
    r = await _raw(fake_pay, merchant_key, _bill("W0000000103", 200_000), serial=PUBKEY_ID)
    assert r.status_code == 400 and "user_name" in r.json()["message"]
    other = crypto.load_public(crypto.public_pem(crypto.generate_key()))
    wrong = crypto.rsa_encrypt(other, NAME)
    r = await _raw(fake_pay, merchant_key, _bill("W0000000103", 200_000, user_name=wrong), serial=PUBKEY_ID)
    assert r.status_code == 400 and "user_name" in r.json()["message"]
    right = crypto.rsa_encrypt(crypto.load_public(fake_pay.platform_public_pem), NAME)
    r = await _raw(fake_pay, merchant_key, _bill("W0000000103", 200_000, user_name=right), serial=PUBKEY_ID)
    assert r.status_code == 200, r.text
    assert fake_pay.state.transfers["W0000000103"]["user_name"] == NAME
    # Below 2,000 元 no name is needed.
    r = await _raw(fake_pay, merchant_key, _bill("W0000000104", 199_999), serial=PUBKEY_ID)
    assert r.status_code == 200, r.text


async def test_a_2000_yuan_transfer_sends_the_name_encrypted_and_never_goes_without_it(wx_app, fake_pay):
    gw = _gateway()
    with pytest.raises(AppError) as e:
        await gw.transfer(out_bill_no="W0000000105", openid="openid-d", amount_fen=200_000, remark="佣金提现")
    assert e.value.code == "REAL_NAME_REQUIRED" and e.value.status == 400
    assert fake_pay.state.transfers == {}  # refused before anything was sent
    await gw.transfer(out_bill_no="W0000000105", openid="openid-d", amount_fen=200_000, remark="x", user_name=NAME)
    assert fake_pay.state.transfers["W0000000105"]["user_name"] == NAME


class WechatTransfer:
    """The distribution Transfer port over the WeChat gateway, as a deployment would install it."""

    name = "wechatpay"

    def __init__(self, gw: WechatPayGateway, openids: dict[int, str]) -> None:
        self.gw, self.openids = gw, openids

    async def transfer(
        self, *, reference: str, customer_id: int, amount_fen: int, description: str, user_name: str | None = None
    ) -> TransferResult:
        r = await self.gw.transfer(
            out_bill_no=f"W{reference}",
            openid=self.openids[customer_id],
            amount_fen=amount_fen,
            remark=description,
            user_name=user_name,
        )
        return TransferResult(True, r["transfer_bill_no"])


async def _available(db: Any, owner: int, fen: int) -> None:
    async with db.tx() as s:
        s.add(
            Commission(
                distributor_customer_id=owner,
                kind="mature_in",
                bucket="available",
                amount_fen=fen,
                ref_key="test",
                created_at=clock.now(),
            )
        )


async def test_a_2000_yuan_withdrawal_needs_the_real_name_keeps_it_sealed_and_sends_it_encrypted(
    wx_client, wx_db, fake_pay
):
    boss = await admin(wx_client, wx_db)
    await configure(wx_client, boss, min_withdraw_fen=100)
    dist, _ = await distributor(wx_client, wx_db, "rich")
    me = await customer_id(wx_client, dist)
    await _available(wx_db, me, 500_000)
    url = "/api/v1/distribution/withdrawals"

    r = await wx_client.post(url, json={"amount_fen": 200_000}, headers=dist)
    assert r.status_code == 400 and r.json()["error"]["code"] == "REAL_NAME_REQUIRED", r.text
    small = await wx_client.post(url, json={"amount_fen": 199_999}, headers=dist)
    assert small.status_code == 201, small.text  # below 2,000 元 nobody asks
    big = await wx_client.post(
        url, json={"amount_fen": 200_000, "real_name": NAME}, headers={**dist, "Idempotency-Key": "wd-big"}
    )
    assert big.status_code == 201, big.text
    assert "real_name" not in big.json()

    async with wx_db.read() as s:
        w = await s.get(Withdrawal, big.json()["id"])
        assert w is not None and w.real_name_enc and NAME not in w.real_name_enc
        # Nowhere in the database in plain text (the idempotency record and the payout job included).
        for table in ("distribution_withdrawals", "idempotency_keys", "jobs"):
            rows = (await s.execute(text(f"SELECT * FROM {table}"))).all()
            assert NAME not in repr(rows), table

    openid = "sandbox-rich"
    previous = use_transfer(WechatTransfer(_gateway(), {me: openid}))
    try:
        for wid in (small.json()["id"], big.json()["id"]):
            assert (await wx_client.post(f"/api/admin/v1/withdrawals/{wid}/approve", headers=boss)).status_code == 200
        await run_jobs(wx_db)
    finally:
        use_transfer(previous)
    bills = fake_pay.state.transfers
    assert bills[f"Wwd{big.json()['id']}"]["user_name"] == NAME
    assert bills[f"Wwd{small.json()['id']}"]["user_name"] is None
    async with wx_db.read() as s:
        rows = (await s.scalars(select(Withdrawal).order_by(Withdrawal.id))).all()
        assert [(x.status, x.real_name_enc) for x in rows] == [("paid", None), ("paid", None)]  # gone after payout


async def test_a_rejected_withdrawal_forgets_the_name(client, db, settings):
    boss = await admin(client, db)
    await configure(client, boss, min_withdraw_fen=100)
    dist, _ = await distributor(client, db, "rich2")
    await _available(db, await customer_id(client, dist), 300_000)
    w = await client.post(
        "/api/v1/distribution/withdrawals", json={"amount_fen": 250_000, "real_name": NAME}, headers=dist
    )
    assert w.status_code == 201, w.text
    r = await client.post(f"/api/admin/v1/withdrawals/{w.json()['id']}/reject", json={"reason": "x"}, headers=boss)
    assert r.status_code == 200
    async with db.read() as s:
        row = await s.get(Withdrawal, w.json()["id"])
        assert row is not None and row.status == "rejected" and row.real_name_enc is None
