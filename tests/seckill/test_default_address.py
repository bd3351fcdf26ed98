"""The contract's attempt body {qty, token}: the winner's order ships to the default address; a shopper with
none is refused up front (ADDRESS_REQUIRED) and, when the book empties between attempt and order, the attempt
fails with that reason and the unit goes back to the pool."""

from __future__ import annotations

from sqlalchemy import delete

from fissionmall.addresses.models import CustomerAddress
from tests.helpers import admin, product, shopper
from tests.seckill.helpers import drain, facts, loosen, session, token

HOME = {"name": "王五", "phone": "(0571)88886666", "region": "浙江省 杭州市 西湖区", "detail": "文三路 1 号"}


async def _sale(client, db, pool: int = 5, limit: int = 1):
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    return (await session(client, boss, sku, pool=pool, limit=limit))["items"][0]["id"]


async def _try(client, h, item: int, **extra):
    body = {"qty": 1, "token": await token(client, h, item), **extra}
    return await client.post(f"/api/v1/seckill/items/{item}/attempts", json=body, headers=h)


async def _outcome(client, db, h, r) -> dict:
    assert r.status_code == 202, r.text
    await drain(db)
    return (await client.get(f"/api/v1/seckill/attempts/{r.json()['attempt_id']}", headers=h)).json()


async def test_an_attempt_without_address_uses_the_default_address(client, db):
    item = await _sale(client, db)
    me = await shopper(client)
    r = await _try(client, me, item)
    assert r.status_code == 400 and r.json()["error"]["code"] == "ADDRESS_REQUIRED", r.text
    assert (await facts(db, item))["sold"] == 0

    home = (await client.post("/api/v1/me/addresses", json=HOME, headers=me)).json()
    out = await _outcome(client, db, me, await _try(client, me, item))
    assert out["status"] == "succeeded", out
    o = (await client.get(f"/api/v1/orders/{out['order_id']}", headers=me)).json()
    assert o["source"] == "seckill"
    assert o["address"] == {**HOME, "phone_normalized": "057188886666", "address_id": home["id"]}


async def test_an_inline_address_or_address_id_overrides_the_default(client, db):
    item = await _sale(client, db, limit=2)
    me = await shopper(client)
    await client.post("/api/v1/me/addresses", json=HOME, headers=me)
    work = (await client.post("/api/v1/me/addresses", json={**HOME, "detail": "公司 8 楼"}, headers=me)).json()
    out = await _outcome(client, db, me, await _try(client, me, item, address_id=work["id"]))
    o = (await client.get(f"/api/v1/orders/{out['order_id']}", headers=me)).json()
    assert o["address"]["detail"] == "公司 8 楼" and o["address"]["address_id"] == work["id"]
    inline = {**HOME, "detail": "临时 2 号"}
    out = await _outcome(client, db, me, await _try(client, me, item, address=inline))
    o = (await client.get(f"/api/v1/orders/{out['order_id']}", headers=me)).json()
    assert o["address"]["detail"] == "临时 2 号" and "address_id" not in o["address"]


async def test_a_book_emptied_before_the_order_fails_the_attempt_and_returns_the_unit(client, db):
    item = await _sale(client, db, pool=1)
    me = await shopper(client)
    await client.post("/api/v1/me/addresses", json=HOME, headers=me)  # this process remembers "has one"
    async with db.tx() as s:  # emptied behind this process's back (another process, say)
        await s.execute(delete(CustomerAddress))
    r = await _try(client, me, item)
    if r.status_code == 202:  # Redis path: accepted from the cached flag, refused when the order is made
        out = await _outcome(client, db, me, r)
        assert out["status"] == "failed" and out["reason"] == "ADDRESS_REQUIRED", out
    else:  # embedded path (no Redis): the order is made in the request
        assert r.status_code == 400 and r.json()["error"]["code"] == "ADDRESS_REQUIRED", r.text
    f = await facts(db, item)
    assert f["sold"] == 0 and f["orders"] == 0
    assert f["redis_left"] in (None, 1)  # the unit is back in the pool
    # And the next shopper with an address gets it.
    other = await shopper(client, "bob")
    await client.post("/api/v1/me/addresses", json=HOME, headers=other)
    out = await _outcome(client, db, other, await _try(client, other, item))
    assert out["status"] == "succeeded", out
