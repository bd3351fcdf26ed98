"""Blocking a shopper (risk console/API): refused everywhere, the flash-sale fast lane included, and
the per-call check costs no query."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import event, update

from fissionmall.accounts import state
from fissionmall.accounts.models import Customer
from fissionmall.core.security import read_token
from fissionmall.seckill.fast import FastAttempts
from fissionmall.settings import get_settings
from tests.helpers import ADDRESS, admin, product, shopper
from tests.seckill.helpers import facts, loosen, session, token

ADMIN_ROUTES = [
    ("GET", "/api/admin/v1/risk/blocked", None, "marketing.read", "store_staff"),
    ("PUT", "/api/admin/v1/risk/blocked/{customer_id}", {"blocked": True}, "marketing", "finance"),
]


def _id(headers: dict[str, str]) -> int:
    return int(read_token(get_settings().secret_key, headers["Authorization"].split()[1], kind="customer")["sub"])


async def test_admin_routes_are_guarded(client, db):
    from tests.authz import check_admin_matrix

    me = await shopper(client)
    await check_admin_matrix(client, db, ADMIN_ROUTES, {"customer_id": _id(me)}, me)
    assert (await client.get("/api/v1/me", headers=me)).status_code == 200  # nothing changed


async def test_a_blocked_shopper_is_refused_everywhere_until_unblocked(client, app, db):
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=5, limit=1))["items"][0]["id"]
    me, other = await shopper(client, "scalper"), await shopper(client, "bystander")
    assert (await client.get("/api/v1/me", headers=me)).status_code == 200
    tok = await token(client, me, item)

    r = await client.put(f"/api/admin/v1/risk/blocked/{_id(me)}", json={"blocked": True}, headers=boss)
    assert r.status_code == 200 and r.json()["blocked"] is True
    r = await client.get("/api/admin/v1/risk/blocked", headers=boss)
    assert [x["customer_id"] for x in r.json()] == [_id(me)]

    r = await client.get("/api/v1/me", headers=me)
    assert r.status_code == 403 and r.json()["error"]["code"] == "ACCOUNT_BLOCKED"
    assert (await client.get("/api/v1/me", headers=other)).status_code == 200
    transport = httpx.ASGITransport(app=FastAttempts(app), client=("10.1.2.3", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as fast:
        url = f"/api/v1/seckill/items/{item}/attempts"
        r = await fast.post(url, json={"qty": 1, "token": tok, "address": ADDRESS}, headers=me)
        assert r.status_code == 403 and r.json()["error"]["code"] == "ACCOUNT_BLOCKED"
        assert (await facts(db, item))["sold"] == 0

        r = await client.put(f"/api/admin/v1/risk/blocked/{_id(me)}", json={"blocked": False}, headers=boss)
        assert r.status_code == 200 and r.json()["blocked"] is False
        r = await fast.post(url, json={"qty": 1, "token": tok, "address": ADDRESS}, headers=me)
        assert r.status_code == 202, r.text
    assert (await client.get("/api/admin/v1/risk/blocked", headers=boss)).json() == []
    r = await client.put("/api/admin/v1/risk/blocked/999999", json={"blocked": True}, headers=boss)
    assert r.status_code == 404 and r.json()["error"]["code"] == "CUSTOMER_NOT_FOUND"


async def test_the_check_makes_no_query_per_call_and_sees_another_process_block(client, db, monkeypatch):
    me = await shopper(client, "quiet")
    cid = _id(me)
    assert await state.customer_state(db, customer_id=cid) is False  # loads the block list and sees the row once
    queries: list[str] = []

    def count(conn, cursor, statement, *args):
        queries.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        for _ in range(200):
            assert await state.customer_state(db, customer_id=cid) is False
        assert queries == []

        # Another server process blocks them: its row change and a new version in the shared KV.
        async with db.tx() as s:
            await s.execute(update(Customer).where(Customer.id == cid).values(is_blocked=True))
        from fissionmall.core.kv import get_kv

        await get_kv().set(state.VERSION_KEY, "another-process")
        monkeypatch.setattr(state, "BLOCK_CHECK_SECONDS", 0.05)
        await asyncio.sleep(0.1)
        assert await state.customer_state(db, customer_id=cid) is True
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert await state.customer_state(db, customer_id=424242) is None  # a token for an id this database does not know
