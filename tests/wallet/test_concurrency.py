"""The wallet under real concurrent requests (asyncio.gather through the app: concurrent transactions on
PostgreSQL, queued on the write lock on SQLite): never below zero, the balance always the sum of entries."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from fissionmall.orders.models import Order
from tests.helpers import admin, product, shopper
from tests.risk.engine_helpers import only
from tests.wallet.helpers import A, C, assert_ledger_balances, customer_id, goods_order, wallet


async def test_10_concurrent_orders_paid_from_one_wallet_never_take_it_below_zero(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, prices=(1000,), stock=100))["skus"][0]["id"]
    h = await shopper(client, "race")
    cid = await customer_id(db, "race")
    # Ten unpaid orders at once is what the risk layer's default rule stops (more than 4 in 30 minutes):
    # this test is about the wallet, so it runs without rules.
    await only(db)
    orders = [await goods_order(client, h, sku) for _ in range(10)]
    payable = orders[0]["payable_fen"]
    fund = payable * 3 + payable // 2  # enough for three and a half orders
    for bucket, fen in (("principal", fund - 700), ("bonus", 700)):
        body = {"delta": fen, "reason": "压测", "bucket": bucket}
        assert (
            await client.post(f"{A}/customers/{cid}/wallet-adjustments", json=body, headers=boss)
        ).status_code == 201

    results = await asyncio.gather(
        *(client.post(f"{C}/orders/{o['id']}/pay", json={"method": "wallet"}, headers=h) for o in orders)
    )
    codes = Counter(r.status_code for r in results)
    assert codes == {200: 3, 409: 7}, [r.text for r in results]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"INSUFFICIENT_BALANCE"}
    principal, bonus = await assert_ledger_balances(db, cid)
    assert principal + bonus == fund - 3 * payable and min(principal, bonus) >= 0
    async with db.read() as s:
        paid = await s.scalar(select(func.count()).select_from(Order).where(Order.status == "paid"))
    assert paid == 3

    # The rest split with the gateway, concurrently too: each takes what is left or is refused whole.
    left = principal + bonus
    rest = [o for o, r in zip(orders, results, strict=True) if r.status_code == 409]
    results = await asyncio.gather(
        *(
            client.post(f"{C}/orders/{o['id']}/pay", json={"method": "split", "wallet_fen": left}, headers=h)
            for o in rest
        )
    )
    assert Counter(r.status_code for r in results) == {200: 1, 409: 6}
    assert await wallet(client, h) == (0, 0)
    await assert_ledger_balances(db, cid)
