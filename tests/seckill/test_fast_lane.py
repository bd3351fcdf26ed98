"""seckill.fast.FastAttempts answers attempts exactly as the FastAPI route does, and passes the rest on."""

from __future__ import annotations

import asyncio

import httpx

from fissionmall.seckill.fast import FastAttempts
from tests.helpers import ADDRESS, admin, product, shopper
from tests.seckill.helpers import drain, facts, loosen, session, token


async def test_fast_lane_gives_the_routes_answers(client, app, db):
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=2, limit=1))["items"][0]["id"]
    me = await shopper(client)
    transport = httpx.ASGITransport(app=FastAttempts(app), client=("10.1.2.3", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as fast:
        url = f"/api/v1/seckill/items/{item}/attempts"
        cases = [
            ({"qty": 1, "token": "a.b.c.d.e", "address": ADDRESS}, me),
            ({"qty": 0, "token": "x", "address": ADDRESS}, me),
            ({"qty": 1}, me),
            ({"qty": 1, "token": "x", "address": ADDRESS}, {}),
            ({"qty": 1, "token": "x", "address": ADDRESS}, {"Authorization": "Bearer nope"}),
        ]
        for body, h in cases:
            a = await client.post(url, json=body, headers=h)
            b = await fast.post(url, json=body, headers=h)
            assert (a.status_code, a.json()) == (b.status_code, b.json()), (body, a.text, b.text)
        r = await fast.post(url, content=b"{not json", headers={**me, "content-type": "application/json"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "MALFORMED_JSON"
        tok = await token(client, me, item)
        r = await fast.post(url, json={"qty": 1, "token": tok, "address": ADDRESS}, headers=me)
        assert r.status_code == 202, r.text
        # everything else goes to the app
        assert (await fast.get("/api/v1/seckill/sessions")).status_code == 200
        assert (await fast.post("/api/v1/seckill/items/abc/attempts", json={}, headers=me)).status_code == 422
    await drain(db)
    assert (await facts(db, item))["sold"] == 1


async def test_behind_a_trusted_proxy_the_lane_limits_the_forwarded_client(client, app, db, monkeypatch):
    from fissionmall.risk import service as risk
    from fissionmall.settings import get_settings

    boss = await admin(client, db)
    await loosen(client, boss, per_ip=2, window_seconds=3600)
    risk.forget()
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=20, limit=1))["items"][0]["id"]
    monkeypatch.setattr(get_settings(), "trusted_proxies", ["10.0.0.0/8"])
    transport = httpx.ASGITransport(app=FastAttempts(app), client=("10.1.2.3", 5555))  # the proxy
    codes = []
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as fast:
        for i, xff in enumerate(["1.1.1.1", "1.1.1.1", "1.1.1.1", "2.2.2.2"]):
            me = await shopper(client, f"behind-proxy-{i}")
            tok = await token(client, me, item)
            r = await fast.post(
                f"/api/v1/seckill/items/{item}/attempts",
                json={"qty": 1, "token": tok, "address": ADDRESS},
                headers={**me, "X-Forwarded-For": f"{xff}, 10.9.9.9"},
            )
            codes.append(r.status_code if r.status_code == 202 else r.json()["error"]["code"])
    # 1.1.1.1 is one shopper's address behind the proxy: its third attempt is over the limit; 2.2.2.2 is not
    assert codes == [202, 202, "RATE_LIMITED", 202], codes


async def test_a_tab_in_a_device_id_is_just_a_character(client, app, db):
    # The Redis path packs each attempt's fields into one tab-separated argument; a header value may hold
    # a tab, which must neither split a field nor break the batch the attempt shares with others.
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=5, limit=1))["items"][0]["id"]
    transport = httpx.ASGITransport(app=FastAttempts(app), client=("10.1.2.3", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as fast:

        async def one(i: int, device: str) -> int:
            me = await shopper(client, f"tabby-{i}")
            tok = await token(client, me, item)
            body = {"qty": 1, "token": tok, "address": ADDRESS}
            url = f"/api/v1/seckill/items/{item}/attempts"
            r = await fast.post(url, json=body, headers={**me, "X-Device-Id": device})
            return r.status_code

        codes = await asyncio.gather(*(one(i, "dev\tice\t1" if i % 2 else f"plain-{i}") for i in range(4)))
    assert codes == [202] * 4, codes
    await drain(db)
    assert (await facts(db, item))["sold"] == 4
