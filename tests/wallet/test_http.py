"""储值's API: who may call what, bad input (a 4xx with a stable code, nothing changed), top-up refunds."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from fissionmall.orders.models import Refund
from fissionmall.wallet.models import WalletEntry, WalletPackage, WalletTopUp
from tests.authz import check_admin_matrix
from tests.helpers import admin, product, run_jobs, shopper
from tests.wallet.helpers import A, C, assert_ledger_balances, customer_id, funded, goods_order, package, top_up, wallet

ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
    ("GET", A + "/wallet/packages", None, "marketing.read", "store_staff"),
    ("POST", A + "/wallet/packages", {"pay_fen": 100}, "marketing", "finance"),
    ("GET", A + "/wallet/packages/{package_id}", None, "marketing.read", "store_staff"),
    ("PUT", A + "/wallet/packages/{package_id}", {"name": "改名"}, "marketing", "finance"),
    ("DELETE", A + "/wallet/packages/{package_id}", None, "marketing", "finance"),
    ("GET", A + "/wallet/settings", None, "wallet.read", "operator"),
    ("PUT", A + "/wallet/settings", {"bonus_first": True}, "wallet", "operator"),
    ("GET", A + "/wallet/entries", None, "wallet.read", "operator"),
    ("GET", A + "/wallet/top-ups", None, "wallet.read", "operator"),
    ("POST", A + "/wallet/top-ups/{top_up_id}/refund", None, "wallet", "operator"),
    ("GET", A + "/customers/{customer_id}/wallet", None, "wallet.read", "operator"),
    ("POST", A + "/customers/{customer_id}/wallet-adjustments", {"delta": 100, "reason": "补偿"}, "wallet", "operator"),
]


async def _counts(db) -> tuple[int, int, int]:
    async with db.read() as s:
        return (
            int(await s.scalar(select(func.count()).select_from(WalletEntry)) or 0),
            int(await s.scalar(select(func.count()).select_from(WalletTopUp)) or 0),
            int(await s.scalar(select(func.count()).select_from(WalletPackage)) or 0),
        )


async def test_the_admin_routes_need_their_permissions_and_an_operator_cannot_adjust(client, db):
    boss = await admin(client, db)
    p = await package(client, boss, 10000, 1000)
    h = await shopper(client, "m")
    t = await top_up(client, h, p["id"])
    cid = await customer_id(db, "m")
    before = await _counts(db)
    ids = {"package_id": p["id"], "top_up_id": t["top_up_id"], "customer_id": cid}
    await check_admin_matrix(client, db, ADMIN_ROUTES, ids, h)
    assert await _counts(db) == before
    operator = await admin(client, db, "operator", username="op2")
    r = await client.post(
        f"{A}/customers/{cid}/wallet-adjustments", json={"delta": 100, "reason": "x"}, headers=operator
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "PERMISSION_DENIED"
    finance = await admin(client, db, "finance", username="fin2")
    r = await client.post(
        f"{A}/customers/{cid}/wallet-adjustments", json={"delta": -500, "reason": "扣回误充"}, headers=finance
    )
    assert r.status_code == 201, r.text
    assert r.json()["operator"] == "fin2" and r.json()["reason"] == "扣回误充"
    assert await wallet(client, h) == (9500, 1000)
    await assert_ledger_balances(db, cid)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"pay_fen": 0}, 422, "VALIDATION_ERROR"),
        ({"pay_fen": -100}, 422, "VALIDATION_ERROR"),
        ({"pay_fen": 100, "bonus_fen": -1}, 422, "VALIDATION_ERROR"),
        ({"pay_fen": 12.5}, 422, "VALIDATION_ERROR"),
    ],
)
async def test_a_package_for_nothing_or_less_is_refused(client, db, body, status, code):
    boss = await admin(client, db)
    r = await client.post(f"{A}/wallet/packages", json=body, headers=boss)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)
    assert await _counts(db) == (0, 0, 0)


async def test_bad_input_is_a_4xx_with_a_code_and_changes_nothing(client, db):
    boss = await admin(client, db)
    p = await package(client, boss, 5000, 500)
    off = await package(client, boss, 9000, 0)
    assert (
        await client.put(f"{A}/wallet/packages/{off['id']}", json={"active": False}, headers=boss)
    ).status_code == 200
    sku = (await product(client, boss, prices=(8000,)))["skus"][0]["id"]
    h = await shopper(client, "bad")
    cid = await customer_id(db, "bad")
    await top_up(client, h, p["id"])
    o = await goods_order(client, h, sku)
    before = await _counts(db)

    async def refused(method: str, path: str, body: Any, status: int, code: str, headers=h) -> None:
        r = await client.request(method, path, json=body, headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text

    await refused("POST", f"{C}/wallet/top-ups", {"package_id": 999999}, 404, "PACKAGE_NOT_FOUND")
    await refused("POST", f"{C}/wallet/top-ups", {"package_id": off["id"]}, 404, "PACKAGE_NOT_FOUND")
    await refused("POST", f"{C}/wallet/top-ups", {"package_id": 0}, 422, "VALIDATION_ERROR")
    await refused("POST", f"{C}/wallet/top-ups", {"package_id": -1}, 422, "VALIDATION_ERROR")
    pay = f"{C}/orders/{o['id']}/pay"
    await refused("POST", pay, {"method": "wallet"}, 409, "INSUFFICIENT_BALANCE")
    await refused("POST", pay, {"method": "split", "wallet_fen": 5501}, 409, "INSUFFICIENT_BALANCE")
    await refused("POST", pay, {"method": "split", "wallet_fen": 0}, 422, "VALIDATION_ERROR")
    await refused("POST", pay, {"method": "split", "wallet_fen": -5}, 422, "VALIDATION_ERROR")
    await refused("POST", pay, {"method": "split"}, 422, "WALLET_AMOUNT_INVALID")
    await refused("POST", pay, {"method": "split", "wallet_fen": o["payable_fen"] + 1}, 400, "WALLET_EXCEEDS_PAYABLE")
    adj = f"{A}/customers/{cid}/wallet-adjustments"
    await refused("POST", adj, {"delta": 100}, 422, "ADJUSTMENT_REASON_REQUIRED", boss)
    await refused("POST", adj, {"delta": 100, "reason": "   "}, 422, "ADJUSTMENT_REASON_REQUIRED", boss)
    await refused("POST", adj, {"delta": 0, "reason": "x"}, 422, "ADJUSTMENT_DELTA_INVALID", boss)
    await refused("POST", adj, {"delta": -999999, "reason": "x"}, 409, "INSUFFICIENT_BALANCE", boss)
    await refused(
        "POST", f"{A}/customers/999999/wallet-adjustments", {"delta": 1, "reason": "x"}, 404, "CUSTOMER_NOT_FOUND", boss
    )
    assert await _counts(db) == before
    assert await wallet(client, h) == (5000, 500)
    got = (await client.get(f"{C}/orders/{o['id']}", headers=h)).json()
    assert got["status"] == "pending_payment"
    await assert_ledger_balances(db, cid)


async def test_a_top_up_order_is_not_paid_by_the_wallet_and_not_refunded_by_the_shopper(client, db):
    boss = await admin(client, db)
    p = await package(client, boss, 5000, 0)
    h = await shopper(client, "tw")
    await top_up(client, h, p["id"])
    r = await client.post(f"{C}/wallet/top-ups", json={"package_id": p["id"]}, headers=h)
    r = await client.post(f"{C}/orders/{r.json()['id']}/pay", json={"method": "wallet"}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "WALLET_NOT_FOR_TOPUP"
    assert await wallet(client, h) == (5000, 0)


async def test_a_top_up_refund_after_part_was_spent_asks_the_gateway_for_the_unspent_principal_only(client, db):
    """CRMEB refunded a top-up in full after the balance was spent: here the gateway gets the unspent part."""
    _, h, sku, t = await funded(client, db, "tr", pay_fen=50000, bonus_fen=10000, price=30000)
    cid = await customer_id(db, "tr")
    o = await goods_order(client, h, sku)
    assert (await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "wallet"}, headers=h)).status_code == 200
    spent = o["payable_fen"]
    assert await wallet(client, h) == (50000 - spent, 10000)
    finance = await admin(client, db, "finance")
    r = await client.post(f"{A}/wallet/top-ups/{t['top_up_id']}/refund", headers=finance)
    assert r.status_code == 200, r.text
    assert r.json()["refund_fen"] == 50000 - spent and r.json()["bonus_fen"] == 10000
    assert await wallet(client, h) == (0, 0)
    again = await client.post(f"{A}/wallet/top-ups/{t['top_up_id']}/refund", headers=finance)
    assert again.status_code == 409 and again.json()["error"]["code"] == "TOPUP_NOT_REFUNDABLE"
    await run_jobs(db)
    async with db.read() as s:
        refunds = (await s.scalars(select(Refund).where(Refund.order_id == t["id"]))).all()
    assert [(x.amount_fen, x.status) for x in refunds] == [(50000 - spent, "succeeded")]
    await assert_ledger_balances(db, cid)


async def test_a_top_up_whose_bonus_was_spent_first_pays_that_bonus_out_of_the_refund(client, db):
    boss = await admin(client, db)
    assert (await client.put(f"{A}/wallet/settings", json={"bonus_first": True}, headers=boss)).json()["bonus_first"]
    p = await package(client, boss, 50000, 10000)
    sku = (await product(client, boss, prices=(8000,)))["skus"][0]["id"]
    h = await shopper(client, "bf")
    t = await top_up(client, h, p["id"])
    o = await goods_order(client, h, sku)
    assert (await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "wallet"}, headers=h)).status_code == 200
    spent = o["payable_fen"]
    assert spent <= 10000 and await wallet(client, h) == (50000, 10000 - spent)  # 赠送 first, as set
    r = await client.post(f"{A}/wallet/top-ups/{t['top_up_id']}/refund", headers=boss)
    assert r.status_code == 200, r.text
    # The bonus comes back whole: what is left of it, and what was spent of it out of the principal.
    assert r.json() == {**r.json(), "refund_fen": 50000 - spent, "principal_fen": 50000, "bonus_fen": 10000 - spent}
    assert await wallet(client, h) == (0, 0)


async def test_a_top_up_with_nothing_unspent_is_refused_and_changes_nothing(client, db):
    boss, h, sku, t = await funded(client, db, "none", pay_fen=5000, bonus_fen=1000, price=5200)
    o = await goods_order(client, h, sku)
    assert (await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "wallet"}, headers=h)).status_code == 200
    before = await _counts(db)
    r = await client.post(f"{A}/wallet/top-ups/{t['top_up_id']}/refund", headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "TOPUP_NOTHING_TO_REFUND"
    assert await _counts(db) == before


async def test_the_ledgers_list_page_by_cursor(client, db):
    boss = await admin(client, db)
    h = await shopper(client, "pg")
    cid = await customer_id(db, "pg")
    for i in range(5):
        r = await client.post(
            f"{A}/customers/{cid}/wallet-adjustments", json={"delta": 100 + i, "reason": f"第{i}次"}, headers=boss
        )
        assert r.status_code == 201
    first = (await client.get(f"{C}/wallet/ledger?limit=3", headers=h)).json()
    assert [e["delta_fen"] for e in first["items"]] == [104, 103, 102] and first["next_cursor"]
    rest = (await client.get(f"{C}/wallet/ledger?limit=3&cursor={first['next_cursor']}", headers=h)).json()
    assert [e["delta_fen"] for e in rest["items"]] == [101, 100] and rest["next_cursor"] is None
    every = (await client.get(f"{A}/wallet/entries?customer_id={cid}", headers=boss)).json()
    assert len(every["items"]) == 5 and every["items"][0]["operator"] == "owner-user"
    bad = await client.get(f"{C}/wallet/ledger?cursor=abc", headers=h)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "CURSOR_INVALID"


async def test_the_demo_seed_makes_the_two_packages(client, db):
    from fissionmall.demo import wallet as demo

    boss = await admin(client, db)
    got = await demo.seed(client, boss, {})
    assert set(got["packages"]) == {"储值500送100", "储值200送30"}
    listed = (await client.get(f"{C}/wallet/packages")).json()
    assert [p["label"] for p in listed] == ["充500送100", "充200送30"]
