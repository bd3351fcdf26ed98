"""储值 end to end: a top-up credits 本金 and 赠送 apart, once; the wallet pays all or part of an order;
cancel gives the debit back; a late gateway payment is refunded; bonus-funded orders deduct the bonus."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from fissionmall.core import clock
from fissionmall.orders.models import Order, Refund
from fissionmall.payments.models import Payment
from fissionmall.wallet.models import WalletEntry
from tests.console_helpers import console
from tests.helpers import admin, product, run_jobs, shopper
from tests.wallet.helpers import A, C, assert_ledger_balances, customer_id, funded, goods_order, package, top_up, wallet


async def test_a_top_up_credits_principal_and_bonus_once_and_completes_its_order(client, db):
    boss = await admin(client, db)
    p = await package(client, boss, 50000, 10000)
    assert p["name"] == "储值500送100"
    h = await shopper(client, "tu")
    listed = (await client.get(f"{C}/wallet/packages")).json()
    assert [(x["pay_fen"], x["bonus_fen"], x["label"]) for x in listed] == [(50000, 10000, "充500送100")]
    o = await top_up(client, h, p["id"])
    assert await wallet(client, h) == (50000, 10000)
    me = (await client.get(f"{C}/me", headers=h)).json()
    assert me["wallet_fen"] == 60000
    got = (await client.get(f"{C}/orders/{o['id']}", headers=h)).json()
    assert got["status"] == "completed" and got["source"] == "wallet_topup"
    # The notification again: nothing more is credited.
    async with db.read() as s:
        pid = await s.scalar(select(Payment.id).where(Payment.order_id == o["id"]))
    r = await client.post(f"{C}/payments/sandbox/{pid}/succeed", headers=h)
    assert r.json()["outcome"] == "duplicate"
    assert await wallet(client, h) == (50000, 10000)
    ledger = (await client.get(f"{C}/wallet/ledger", headers=h)).json()
    assert [(e["kind"], e["principal_delta"], e["bonus_delta"]) for e in ledger["items"]] == [("topup", 50000, 10000)]
    await assert_ledger_balances(db, await customer_id(db, "tu"))


async def test_the_wallet_pays_all_of_an_order_principal_first(client, db):
    _, h, sku, _ = await funded(client, db, "all", pay_fen=10000, bonus_fen=2000, price=11000)
    o = await goods_order(client, h, sku)
    r = await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "wallet"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["payment_id"] is None and r.json()["status"] == "paid"
    got = (await client.get(f"{C}/orders/{o['id']}", headers=h)).json()
    assert got["status"] == "paid" and got["paid_fen"] == o["payable_fen"]
    payable = o["payable_fen"]
    assert await wallet(client, h) == (0, 12000 - payable)  # 本金 first, then 赠送
    await assert_ledger_balances(db, await customer_id(db, "all"))


async def test_a_bonus_funded_order_deducts_the_bonus(client, db):
    """backend-rs #38: an order paid from 赠送 alone must take it (not pay for nothing)."""
    boss = await admin(client, db)
    sku = (await product(client, boss, prices=(3000,)))["skus"][0]["id"]
    h = await shopper(client, "bonus")
    cid = await customer_id(db, "bonus")
    r = await client.post(
        f"{A}/customers/{cid}/wallet-adjustments",
        json={"delta": 5000, "reason": "活动赠送", "bucket": "bonus"},
        headers=boss,
    )
    assert r.status_code == 201, r.text
    o = await goods_order(client, h, sku)
    r = await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "wallet"}, headers=h)
    assert r.status_code == 200, r.text
    assert await wallet(client, h) == (0, 5000 - o["payable_fen"])
    await assert_ledger_balances(db, cid)


async def test_split_pays_the_rest_through_the_gateway_and_cancel_gives_the_debit_back(client, db):
    _, h, sku, _ = await funded(client, db, "split", pay_fen=5000, bonus_fen=0, price=8000)
    o = await goods_order(client, h, sku)
    r = await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "split", "wallet_fen": 3000}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["amount_fen"] == o["payable_fen"] - 3000
    assert await wallet(client, h) == (2000, 0)
    # The same choice again is the same payment; another wallet amount is refused.
    again = await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "split", "wallet_fen": 3000}, headers=h)
    assert again.json()["payment_id"] == r.json()["payment_id"]
    other = await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "split", "wallet_fen": 1000}, headers=h)
    assert other.status_code == 409 and other.json()["error"]["code"] == "WALLET_ALREADY_APPLIED"
    r2 = await client.post(f"{C}/orders/{o['id']}/cancel", headers=h)
    assert r2.status_code == 200, r2.text
    assert await wallet(client, h) == (5000, 0)
    await assert_ledger_balances(db, await customer_id(db, "split"))


async def test_a_split_order_is_paid_when_the_gateway_confirms_the_rest(client, db):
    _, h, sku, _ = await funded(client, db, "rest", pay_fen=5000, bonus_fen=1000, price=8000)
    o = await goods_order(client, h, sku)
    r = await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "split", "wallet_fen": 6000}, headers=h)
    assert r.status_code == 200, r.text
    r = await client.post(f"{C}/payments/sandbox/{r.json()['payment_id']}/succeed", headers=h)
    assert r.json()["outcome"] == "applied"
    got = (await client.get(f"{C}/orders/{o['id']}", headers=h)).json()
    assert got["status"] == "paid" and got["paid_fen"] == o["payable_fen"]
    assert await wallet(client, h) == (0, 0)
    # The order says what paid it, tender by tender, to the shopper and on the merchant's order page.
    rest = o["payable_fen"] - 6000
    assert [(t["tender"], t["label"], t["amount_fen"]) for t in got["paid_by"]] == [
        ("wallet", "余额", 6000),
        ("gateway", "在线支付", rest),
    ]
    await console(client, db, "owner")
    page = (await client.get(f"/admin/orders/{o['id']}")).text
    assert re.search(r'id="paid-by">余额 ¥60\.00 \+ 沙箱支付 ¥' + f"{rest // 100}\\.{rest % 100:02d}", page), page


async def test_an_order_the_wallet_paid_whole_says_so_and_is_not_unpaid_on_the_console(client, db):
    _, h, sku, _ = await funded(client, db, "whole", pay_fen=20000, bonus_fen=0, price=5000)
    o = await goods_order(client, h, sku)
    r = await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "wallet"}, headers=h)
    assert r.status_code == 200 and r.json()["payment_id"] is None
    got = (await client.get(f"{C}/orders/{o['id']}", headers=h)).json()
    assert [(t["tender"], t["amount_fen"]) for t in got["paid_by"]] == [("wallet", o["payable_fen"])]
    await console(client, db, "owner")
    page = (await client.get(f"/admin/orders/{o['id']}")).text
    assert 'id="paid-by">余额 ' in page and "未支付" not in page


async def test_a_gateway_payment_started_for_the_whole_amount_is_refunded_when_the_wallet_paid(client, db):
    _, h, sku, _ = await funded(client, db, "late", pay_fen=20000, bonus_fen=0, price=5000)
    o = await goods_order(client, h, sku)
    first = await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "gateway"}, headers=h)
    old_pid = first.json()["payment_id"]
    r = await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "wallet"}, headers=h)
    assert r.status_code == 200 and r.json()["payment_id"] is None
    # The shopper pays the old cashier after all: that money goes straight back.
    late = await client.post(f"{C}/payments/sandbox/{old_pid}/succeed", headers=h)
    assert late.json()["outcome"] == "refunded_late_payment"
    await run_jobs(db)
    async with db.read() as s:
        refund = await s.scalar(select(Refund).where(Refund.payment_id == old_pid))
        assert refund is not None and refund.kind == "late_payment" and refund.status == "succeeded"
        assert refund.amount_fen == o["payable_fen"]
        row = await s.get(Order, o["id"])
        assert row is not None and row.status == "paid" and row.refunded_fen == 0
    assert await wallet(client, h) == (20000 - o["payable_fen"], 0)


async def test_a_split_order_left_unpaid_is_cancelled_by_its_timer_and_the_wallet_gets_its_share_back(client, db):
    _, h, sku, _ = await funded(client, db, "timer", pay_fen=5000, bonus_fen=500, price=8000)
    o = await goods_order(client, h, sku)
    r = await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "split", "wallet_fen": 5500}, headers=h)
    assert r.status_code == 200
    assert await wallet(client, h) == (0, 0)
    clock.advance(60 * 60 * 3)
    await run_jobs(db)
    assert (await client.get(f"{C}/orders/{o['id']}", headers=h)).json()["status"] == "cancelled"
    assert await wallet(client, h) == (5000, 500)
    async with db.read() as s:
        n = await s.scalar(select(func.count()).select_from(WalletEntry).where(WalletEntry.kind == "release"))
    assert n == 1
