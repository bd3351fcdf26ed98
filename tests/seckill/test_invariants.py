"""The flash-sale invariants under real concurrent requests, and under consumer and Redis faults.

The same tests run on SQLite (embedded path: conditional updates, orders created synchronously) and on
PostgreSQL + Redis (the Lua path, a stream, consumers); fault tests that need Redis skip without it.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from fissionmall.core import clock
from fissionmall.orders.models import Order
from fissionmall.seckill import consumer
from fissionmall.seckill.hot import GROUP, get_hot
from fissionmall.seckill.models import SeckillAttempt
from tests.helpers import admin, pay, product, run_jobs
from tests.seckill.helpers import attempt, drain, facts, loosen, session, shoppers, token


async def _storm(client, buyers, item, per_buyer: int) -> Counter[str]:
    """Every buyer fetches `per_buyer` path tokens, then all the attempts are fired at once."""
    wanted = [h for h in buyers for _ in range(per_buyer)]
    tokens: list[str] = []
    for i in range(0, len(wanted), 250):
        tokens += await asyncio.gather(*(token(client, h, item) for h in wanted[i : i + 250]))

    async def one(h, tok):
        r = await attempt(client, h, item, tok=tok)
        return "OK" if r.status_code == 202 else r.json()["error"]["code"]

    return Counter(await asyncio.gather(*(one(h, t) for h, t in zip(wanted, tokens, strict=True))))


async def _agree(client, db, item: int, expect_sold: int) -> dict:
    f = await facts(db, item)
    assert f["sold"] == expect_sold == f["live_orders"] == f["buyers"], f
    if f["redis_left"] is not None:
        assert f["redis_left"] == f["pool"] - f["sold"], f
    r = await client.get("/api/v1/seckill/sessions")
    listed = {i["id"]: i for s in r.json()["sessions"] for i in s["items"]}
    assert listed[item]["remaining"] == f["pool"] - f["sold"]
    return f


@pytest.mark.slow
async def test_2000_attempts_from_500_shoppers_on_a_pool_of_50_make_exactly_50_orders(client, db):
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=1000))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=50, limit=1))["items"][0]["id"]
    buyers = await shoppers(client, 500)

    got = await _storm(client, buyers, item, per_buyer=4)

    assert got["OK"] == 50, got
    assert set(got) <= {"OK", "SOLD_OUT", "LIMIT_REACHED"}, got
    await drain(db)
    f = await _agree(client, db, item, 50)
    assert f["orders"] == 50


async def test_unpaid_cancellations_are_sold_again_and_never_more_than_the_pool(client, db):
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=1000))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=20, limit=1))["items"][0]["id"]
    first = await shoppers(client, 60, "first")
    got = await _storm(client, first, item, per_buyer=2)
    assert got["OK"] == 20, got
    await drain(db)
    async with db.read() as s:
        won = list((await s.scalars(select(Order).where(Order.source == "seckill").order_by(Order.id))).all())
    by_customer = {}
    for h in first:
        me = (await client.get("/api/v1/me", headers=h)).json()
        by_customer[me["id"]] = h
    for o in won[:12]:  # 12 pay, 8 do not
        await pay(client, by_customer[o.customer_id], o.id)
    clock.advance(5 * 60 + 1)
    await run_jobs(db)
    await _agree(client, db, item, 12)

    second = await shoppers(client, 60, "second")
    got = await _storm(client, second, item, per_buyer=2)
    assert got["OK"] == 8, got
    await drain(db)
    await run_jobs(db)
    f = await _agree(client, db, item, 20)
    assert f["orders"] == 28


def _redis_only():
    if get_hot() is None:
        pytest.skip("needs Redis (FISSIONMALL_TEST_DB=postgres)")


async def test_a_consumer_killed_mid_batch_leaves_nothing_lost_or_doubled(client, db, settings):
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=30, limit=1))["items"][0]["id"]
    _redis_only()
    hot = get_hot()
    buyers = await shoppers(client, 30)
    assert (await _storm(client, buyers, item, 1))["OK"] == 30
    await hot.ensure_group()
    # Consumer "doomed" reads 10 entries and dies before doing anything.
    await hot.redis.xreadgroup(GROUP, "doomed", {hot.stream: ">"}, count=10)
    # Consumer "crashy" reads 10, commits their orders, and dies before acknowledging them.
    raw = await hot.redis.xreadgroup(GROUP, "crashy", {hot.stream: ">"}, count=10)
    entries = consumer._entries(raw[0][1])

    async def die(**_kw):
        raise ConnectionError("killed")

    real_finish = hot.finish
    hot.finish = die  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await consumer._process(db, hot, settings, entries)
    hot.finish = real_finish  # type: ignore[method-assign]

    # A live consumer takes the rest and reclaims what the dead ones left pending.
    await drain(db, consumer="survivor", claim_idle_ms=0)

    async with db.read() as s:
        refs = (await s.scalars(select(Order.source_ref).where(Order.source == "seckill"))).all()
        attempts = (await s.scalars(select(SeckillAttempt.status))).all()
    assert len(refs) == len(set(refs)) == 30
    assert Counter(attempts) == {"succeeded": 30}
    assert (await hot.redis.xpending(hot.stream, GROUP))["pending"] == 0
    await _agree(client, db, item, 30)


async def test_redis_flushed_mid_sale_is_rebuilt_from_the_database_with_no_oversell(client, db, settings):
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=50, limit=1))["items"][0]["id"]
    _redis_only()
    hot = get_hot()
    first = await shoppers(client, 40, "a")
    assert (await _storm(client, first, item, 1))["OK"] == 40
    await hot.ensure_group()
    # 30 become orders (and are paid); a consumer has read the last 10 but not yet written them.
    raw = await hot.redis.xreadgroup(GROUP, "c1", {hot.stream: ">"}, count=30)
    await consumer._process(db, hot, settings, consumer._entries(raw[0][1]))
    async with db.read() as s:
        paid_ids = (await s.scalars(select(Order.id).where(Order.source == "seckill"))).all()
    raw = await hot.redis.xreadgroup(GROUP, "c2", {hot.stream: ">"}, count=10)
    in_flight = consumer._entries(raw[0][1])
    assert len(in_flight) == 10

    keys = [k async for k in hot.redis.scan_iter(match=settings.redis_prefix + "*", count=1000)]
    await hot.redis.delete(*keys)  # Redis comes back empty (our keys only: the server is shared)

    later = await shoppers(client, 60, "b")
    got = await _storm(client, later, item, 1)
    assert got["OK"] == 20, got  # rebuilt: 50 - 30 sold in the database
    await consumer._process(db, hot, settings, in_flight)  # the slow consumer finishes after the rebuild
    await drain(db)

    async with db.read() as s:
        live = (await s.scalars(select(Order.id).where(Order.source == "seckill", Order.status != "cancelled"))).all()
        failed = (await s.scalars(select(SeckillAttempt.reason).where(SeckillAttempt.status == "failed"))).all()
        still = (await s.scalars(select(Order.id).where(Order.id.in_(paid_ids)))).all()
    assert len(live) == 50  # never more than the pool
    assert Counter(failed) == {"SOLD_OUT": 10}  # the database wall refused what Redis let through twice
    assert sorted(still) == sorted(paid_ids)
    f = await facts(db, item)
    assert f["sold"] == 50 and f["buyers"] == 50
