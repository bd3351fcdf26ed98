"""An operator resizes a session's pool: units move between the SKU's stock and the pool, never below what
shoppers have taken (sold on SQLite; handed out by Redis, queued or not, on PostgreSQL + Redis), and an
edit racing a crowd never oversells. Runs on both backends; the Redis-specific ones skip without it."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from fissionmall.catalog.models import Sku
from fissionmall.core.db import Database
from fissionmall.seckill.hot import get_hot
from fissionmall.seckill.models import SeckillAttempt
from tests.console_helpers import console
from tests.helpers import admin, product
from tests.seckill.helpers import attempt, drain, facts, loosen, redis_left, session, shoppers, token

PUT = "/api/admin/v1/seckill/sessions/{}"


async def _sku_stock(db: Database, sku_id: int) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(Sku.stock).where(Sku.id == sku_id)) or 0)


async def _resize(client, boss, sess: dict[str, Any], stock: Any, **extra: Any):
    body = {"items": [{"id": sess["items"][0]["id"], "stock": stock, **extra}]}
    return await client.put(PUT.format(sess["id"]), json=body, headers=boss)


async def _sale(client, db, *, stock: int = 100, pool: int = 30, limit: int = 1) -> dict[str, Any]:
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=stock))["skus"][0]["id"]
    sess = await session(client, boss, sku, pool=pool, limit=limit)
    return {"boss": boss, "sku": sku, "sess": sess, "item": sess["items"][0]["id"]}


async def _win(client, n: int, item: int, tag: str) -> None:
    for h in await shoppers(client, n, tag):
        assert (await attempt(client, h, item)).status_code == 202


async def _state(db, w) -> dict[str, Any]:
    f = await facts(db, w["item"])
    return {"pool": f["pool"], "sold": f["sold"], "redis": f["redis_left"], "sku": await _sku_stock(db, w["sku"])}


async def test_raising_and_lowering_the_pool_moves_units_between_the_sku_and_the_pool(client, db):
    w = await _sale(client, db, stock=100, pool=30)
    assert await _sku_stock(db, w["sku"]) == 70
    await _win(client, 2, w["item"], "a")

    r = await _resize(client, w["boss"], w["sess"], 50, price_fen=880)
    assert r.status_code == 200, r.text
    assert (r.json()["items"][0]["pool"], r.json()["items"][0]["price_fen"]) == (50, 880)
    assert await _sku_stock(db, w["sku"]) == 50
    if get_hot():
        assert await redis_left(w["item"]) == 48

    r = await _resize(client, w["boss"], w["sess"], 10)
    assert r.status_code == 200, r.text
    assert await _sku_stock(db, w["sku"]) == 90
    await drain(db)
    f = await facts(db, w["item"])
    assert (f["pool"], f["sold"]) == (10, 2)
    assert f["redis_left"] in (None, 8)
    got = (await client.get(f"/api/admin/v1/seckill/sessions/{w['sess']['id']}", headers=w["boss"])).json()
    assert got["items"][0]["pool"] == 10 and got["items"][0]["sold"] == 2
    listed = (await client.get("/api/v1/seckill/sessions")).json()["sessions"][0]["items"][0]
    assert (listed["pool"], listed["remaining"]) == (10, 8)

    # The new pool is what the shop sells: exactly 8 more, then SOLD_OUT.
    buyers = await shoppers(client, 10, "b")
    codes = Counter([(await attempt(client, h, w["item"])).status_code for h in buyers])
    assert codes == {202: 8, 409: 2}
    await drain(db)
    assert await _state(db, w) == {"pool": 10, "sold": 10, "redis": 0 if get_hot() else None, "sku": 90}


async def test_lowering_below_what_shoppers_have_taken_is_refused_and_changes_nothing(client, db):
    w = await _sale(client, db, stock=100, pool=10)
    # Three winners: on Redis still queued in the stream (not yet orders), on SQLite already sold.
    await _win(client, 3, w["item"], "a")
    before = await _state(db, w)

    r = await _resize(client, w["boss"], w["sess"], 2)
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "POOL_BELOW_SOLD" and err["detail"]["taken"] == 3
    assert await _state(db, w) == before

    r = await _resize(client, w["boss"], w["sess"], 3)  # exactly what is taken: allowed, nothing left
    assert r.status_code == 200, r.text
    h = (await shoppers(client, 1, "late"))[0]
    assert (await attempt(client, h, w["item"])).json()["error"]["code"] == "SOLD_OUT"
    await drain(db)
    assert await _state(db, w) == {"pool": 3, "sold": 3, "redis": 0 if get_hot() else None, "sku": 97}


async def test_raising_beyond_the_skus_stock_is_refused(client, db):
    w = await _sale(client, db, stock=100, pool=90)
    before = await _state(db, w)
    r = await _resize(client, w["boss"], w["sess"], 101)
    assert r.status_code == 409 and r.json()["error"]["code"] == "INSUFFICIENT_STOCK", r.text
    assert await _state(db, w) == before
    r = await _resize(client, w["boss"], w["sess"], 100)
    assert r.status_code == 200, r.text
    assert await _state(db, w) == {"pool": 100, "sold": 0, "redis": 100 if get_hot() else None, "sku": 0}


BAD = [
    ("zero", 0, 422, "VALIDATION_ERROR"),
    ("negative", -5, 422, "VALIDATION_ERROR"),
    ("string", "20", 422, "VALIDATION_ERROR"),
    ("float", 20.0, 422, "VALIDATION_ERROR"),
    ("too big", 100_000_001, 422, "VALIDATION_ERROR"),
    ("bool", True, 422, "VALIDATION_ERROR"),
]


@pytest.mark.parametrize("name,stock,status,code", BAD, ids=[b[0] for b in BAD])
async def test_bad_pool_sizes_are_refused(client, db, name, stock, status, code):
    w = await _sale(client, db)
    before = await _state(db, w)
    r = await _resize(client, w["boss"], w["sess"], stock)
    assert r.status_code == status and r.json()["error"]["code"] == code, r.text
    assert await _state(db, w) == before


async def test_a_refused_edit_gives_back_what_it_took_and_odd_edits_are_refused(client, db):
    w = await _sale(client, db, stock=100, pool=30)
    await _win(client, 1, w["item"], "a")
    before = await _state(db, w)
    sid, item = w["sess"]["id"], w["item"]
    # The pool decrease is taken from Redis first; the window check then refuses the edit: Redis gets it back.
    r = await client.put(
        PUT.format(sid),
        json={"starts_at": "2030-01-02T00:00:00+08:00", "ends_at": "2030-01-01T00:00:00+08:00",
              "items": [{"id": item, "stock": 10}]},
        headers=w["boss"],
    )  # fmt: skip
    assert r.status_code == 400 and r.json()["error"]["code"] == "WINDOW_INVALID", r.text
    assert await _state(db, w) == before
    r = await client.put(PUT.format(sid), json={"items": [{"id": item, "stock": 10}, {"id": item}]}, headers=w["boss"])
    assert r.status_code == 400 and r.json()["error"]["code"] == "DUPLICATE_ITEM", r.text
    r = await client.put(PUT.format(sid), json={"items": [{"id": 999_999, "stock": 10}]}, headers=w["boss"])
    assert r.status_code == 404 and r.json()["error"]["code"] == "ITEM_NOT_IN_SESSION", r.text
    assert await _state(db, w) == before
    finance = await admin(client, db, "finance")
    r = await _resize(client, finance, w["sess"], 10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "PERMISSION_DENIED"
    assert await _state(db, w) == before


async def test_pool_edits_racing_a_crowd_never_oversell_and_redis_agrees(client, db):
    w = await _sale(client, db, stock=1000, pool=60)
    buyers = await shoppers(client, 300, "crowd")
    tokens: list[str] = []
    for i in range(0, len(buyers), 100):
        tokens += await asyncio.gather(*(token(client, h, w["item"]) for h in buyers[i : i + 100]))
    started, crowd_done = asyncio.Event(), asyncio.Event()

    async def one(h, tok) -> str:
        r = await attempt(client, h, w["item"], tok=tok)
        return "OK" if r.status_code == 202 else r.json()["error"]["code"]

    async def crowd() -> list[str]:
        await started.wait()
        out: list[str] = []
        for i in range(0, len(buyers), 10):  # waves, so the edits land between and inside them
            wave = zip(buyers[i : i + 10], tokens[i : i + 10], strict=True)
            out += await asyncio.gather(*(one(h, t) for h, t in wave))
            await asyncio.sleep(0.01)
        crowd_done.set()
        return out

    async def editor(first: int | None) -> list[tuple[int, str]]:
        out = []
        if first is not None:
            r = await _resize(client, w["boss"], w["sess"], first)
            out.append((-1, "OK" if r.status_code == 200 else r.json()["error"]["code"]))
            started.set()
        step = 40
        while not crowd_done.is_set():
            sess = (await client.get(f"/api/admin/v1/seckill/sessions/{w['sess']['id']}", headers=w["boss"])).json()
            pool = sess["items"][0]["pool"]
            delta = step if pool < 300 else -15
            r = await _resize(client, w["boss"], w["sess"], max(1, pool + delta))
            out.append((delta, "OK" if r.status_code == 200 else r.json()["error"]["code"]))
            step = -15 if step > 0 else 40
        return out

    got, *edited = await asyncio.gather(crowd(), editor(45), editor(None))
    outcomes = Counter(got)
    assert set(outcomes) <= {"OK", "SOLD_OUT"}, outcomes
    done = [e for ed in edited for e in ed]
    assert {c for _, c in done} <= {"OK", "POOL_BELOW_SOLD", "POOL_CHANGED"}, done
    assert any(d < 0 and c == "OK" for d, c in done) and any(d > 0 and c == "OK" for d, c in done), done
    assert outcomes["OK"] > 60  # raises made during the sale were sold

    # Shrink to exactly what was taken: succeeds, and leaves nothing to sell.
    r = await _resize(client, w["boss"], w["sess"], outcomes["OK"])
    assert r.status_code == 200, r.text
    await drain(db)
    f = await facts(db, w["item"])
    assert f["sold"] == outcomes["OK"] == f["live_orders"] == f["pool"], (f, outcomes, done)
    assert f["redis_left"] in (None, 0)
    assert await _sku_stock(db, w["sku"]) + f["pool"] == 1000
    async with db.read() as s:
        failed = (await s.scalars(select(SeckillAttempt.reason).where(SeckillAttempt.status == "failed"))).all()
    assert failed == []  # the database wall never had to refuse what Redis handed out

    # Grow it again and latecomers can buy exactly that many more.
    r = await _resize(client, w["boss"], w["sess"], f["pool"] + 5)
    assert r.status_code == 200, r.text
    late = await shoppers(client, 8, "late")
    codes = Counter([(await attempt(client, h, w["item"])).status_code for h in late])
    assert codes == {202: 5, 409: 3}
    await drain(db)
    f = await facts(db, w["item"])
    assert f["sold"] == f["pool"] == outcomes["OK"] + 5 and f["redis_left"] in (None, 0)
    assert await _sku_stock(db, w["sku"]) + f["pool"] == 1000


def _redis():
    hot = get_hot()
    if hot is None:
        pytest.skip("needs Redis (FISSIONMALL_TEST_DB=postgres)")
    return hot


async def test_resize_in_redis_applies_once_per_marker_and_never_takes_handed_out_units(client, db):
    w = await _sale(client, db, pool=10)
    hot = _redis()
    await _win(client, 4, w["item"], "a")
    assert await hot.resize(marker="m1", item_id=w["item"], delta=-2) == ("OK", 4)
    assert await hot.resize(marker="m1", item_id=w["item"], delta=-2) == ("DONE", 4)  # a retry: not twice
    assert await hot.resize(marker="m2", item_id=w["item"], delta=-5) == ("TAKEN", 4)
    assert await hot.resize(marker="m3", item_id=w["item"], delta=3) == ("OK", 7)
    assert await hot.resize(marker="m4", item_id=999_999, delta=3) == ("MISSING", 0)
    assert int(await hot.redis.hget(hot.k(f"sk:i:{w['item']}"), "pool")) == 11


async def test_a_database_refusal_after_redis_agreed_gives_the_units_back(client, db):
    w = await _sale(client, db, pool=10)
    hot = _redis()
    await _win(client, 3, w["item"], "a")
    await drain(db)
    # Redis believes more is left than the database does (as after a consumer's mistake): Redis lets the
    # decrease through, the database's guard (pool >= sold) refuses it, and Redis gets its units back.
    await hot.redis.hset(hot.k(f"sk:i:{w['item']}"), "left", 9)
    r = await _resize(client, w["boss"], w["sess"], 2)
    assert r.status_code == 409 and r.json()["error"]["code"] == "POOL_BELOW_SOLD", r.text
    assert await _state(db, w) == {"pool": 10, "sold": 3, "redis": 9, "sku": 90}


async def test_an_edit_survives_redis_losing_the_item(client, db, settings):
    w = await _sale(client, db, pool=10)
    hot = _redis()
    await _win(client, 3, w["item"], "a")  # queued, not yet orders
    assert (await _resize(client, w["boss"], w["sess"], 6)).status_code == 200
    await hot.redis.delete(hot.k(f"sk:i:{w['item']}"))
    # Rebuilt from the database's new pool less what is still queued: 6 - 0 sold - 3 pending.
    codes: Counter[int] = Counter()
    for h in await shoppers(client, 5, "b"):
        codes[(await attempt(client, h, w["item"])).status_code] += 1
    assert codes == {202: 3, 409: 2}
    await drain(db)
    assert await _state(db, w) == {"pool": 6, "sold": 6, "redis": 0, "sku": 94}
    # An item Redis has never seen is built first, then shrunk.
    await hot.redis.delete(hot.k(f"sk:i:{w['item']}"))
    assert (await _resize(client, w["boss"], w["sess"], 7)).status_code == 200
    assert await _state(db, w) == {"pool": 7, "sold": 6, "redis": 1, "sku": 93}
    await hot.redis.delete(hot.k(f"sk:i:{w['item']}"))
    r = await _resize(client, w["boss"], w["sess"], 5)
    assert r.status_code == 409 and r.json()["error"]["code"] == "POOL_BELOW_SOLD"
    assert await _state(db, w) == {"pool": 7, "sold": 6, "redis": 1, "sku": 93}


async def test_operator_changes_the_pool_in_the_console(client, db):
    w = await _sale(client, db, stock=100, pool=10, limit=1)
    await _win(client, 3, w["item"], "a")
    await drain(db)
    sid, item = w["sess"]["id"], w["item"]
    csrf = await console(client, db, "operator")
    board = await client.get(f"/admin/seckill/{sid}")
    assert f'href="/admin/seckill/{sid}/edit"' in board.text
    page = await client.get(f"/admin/seckill/{sid}/edit")
    assert page.status_code == 200, page.text
    assert re.search(rf'name="stock_{item}" value="10"', page.text)
    assert re.search(r'data-figure="sold">3<', page.text) and re.search(r'data-figure="remaining">7<', page.text)
    form = {k: v for k, v in re.findall(r'name="([a-z_0-9]+)" value="([^"]*)"', page.text)}
    assert form["csrf_token"] == csrf and form[f"price_{item}"] == "9.90"

    r = await client.post(f"/admin/seckill/{sid}/edit", data={**form, f"stock_{item}": "2"})
    assert r.status_code == 409 and "不能少于已被抢走的 3 件" in r.text
    r = await client.post(f"/admin/seckill/{sid}/edit", data={**form, f"stock_{item}": "101"})
    assert r.status_code == 409 and "商品库存不够" in r.text
    r = await client.post(f"/admin/seckill/{sid}/edit", data={**form, f"stock_{item}": "abc"})
    assert r.status_code == 422 and "秒杀库存须为" in r.text
    assert await _state(db, w) == {"pool": 10, "sold": 3, "redis": 7 if get_hot() else None, "sku": 90}

    r = await client.post(f"/admin/seckill/{sid}/edit", data={**form, f"stock_{item}": "20", f"price_{item}": "8.80"})
    assert r.status_code == 303, r.text
    assert "场次已保存" in (await client.get(r.headers["location"])).text
    assert await _state(db, w) == {"pool": 20, "sold": 3, "redis": 17 if get_hot() else None, "sku": 80}

    # A form saved for its price only does not undo a pool change made meanwhile.
    page = await client.get(f"/admin/seckill/{sid}/edit")
    form = {k: v for k, v in re.findall(r'name="([a-z_0-9]+)" value="([^"]*)"', page.text)}
    assert (await _resize(client, w["boss"], w["sess"], 25)).status_code == 200
    r = await client.post(f"/admin/seckill/{sid}/edit", data={**form, f"price_{item}": "7.70"})
    assert r.status_code == 303, r.text
    got = (await client.get(f"/api/admin/v1/seckill/sessions/{sid}", headers=w["boss"])).json()["items"][0]
    assert (got["pool"], got["price_fen"]) == (25, 770)
    assert await _sku_stock(db, w["sku"]) == 75


async def test_finance_cannot_open_the_session_editor(client, db):
    w = await _sale(client, db)
    await console(client, db, "finance")
    assert (await client.get(f"/admin/seckill/{w['sess']['id']}/edit")).status_code == 403
