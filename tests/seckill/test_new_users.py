"""A "new users only" item: a returning shopper gets no path token (so no attempt); a new one buys."""

from __future__ import annotations

from tests.helpers import admin, order, product, shopper
from tests.seckill.helpers import attempt, drain, facts, session


async def test_new_users_only_is_refused_at_the_token_and_takes_no_stock(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=5, new_users_only=True))["items"][0]["id"]
    old = await shopper(client, "returning")
    assert (await order(client, old, [{"sku_id": sku, "qty": 1}])).status_code == 201  # has bought before
    new = await shopper(client, "first-timer")

    r = await client.post(f"/api/v1/seckill/items/{item}/token", headers=old)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "NEW_USERS_ONLY")
    before = await facts(db, item)

    r = await attempt(client, new, item)
    assert r.status_code == 202, r.text
    await drain(db)
    after = await facts(db, item)
    assert after["sold"] == before["sold"] + 1
