"""A "new users only" item: a returning shopper (one who has paid an order) gets no path token (so no attempt);
a new one buys, also one who only abandoned a checkout (orders.reports.is_new_customer: one definition)."""

from __future__ import annotations

from tests.helpers import admin, order, pay, product, shopper
from tests.seckill.helpers import attempt, drain, facts, session


async def test_new_users_only_is_refused_at_the_token_and_takes_no_stock(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=5, new_users_only=True))["items"][0]["id"]
    old = await shopper(client, "returning")
    r = await order(client, old, [{"sku_id": sku, "qty": 1}])
    assert r.status_code == 201
    await pay(client, old, r.json()["id"])  # has bought before
    new = await shopper(client, "first-timer")
    abandoned = await shopper(client, "abandoned-checkout")
    assert (await order(client, abandoned, [{"sku_id": sku, "qty": 1}])).status_code == 201  # never paid

    r = await client.post(f"/api/v1/seckill/items/{item}/token", headers=old)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "NEW_USERS_ONLY")
    before = await facts(db, item)

    for h in (new, abandoned):
        r = await attempt(client, h, item)
        assert r.status_code == 202, r.text
    await drain(db)
    after = await facts(db, item)
    assert after["sold"] == before["sold"] + 2
