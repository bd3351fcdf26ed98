"""A session can come back daily: tomorrow's is made when today's starts, with its pool taken then."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from fissionmall.catalog.models import Sku
from fissionmall.core import clock
from fissionmall.seckill.models import SeckillSession
from tests.helpers import admin, product, run_jobs


async def test_a_daily_session_repeats_the_days_asked_then_stops(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    start = clock.now() + timedelta(hours=1)
    body = {
        "title": "10点场",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "items": [{"sku_id": sku, "price_fen": 990, "per_user_limit": 1, "stock": 20}],
        "repeat_days": 2,
    }
    r = await client.post("/api/admin/v1/seckill/sessions", json=body, headers=boss)
    assert r.status_code == 201 and r.json()["repeat_left"] == 2

    async def sessions() -> list[tuple[object, int, int]]:
        async with db.read() as s:
            rows = (await s.scalars(select(SeckillSession).order_by(SeckillSession.id))).all()
            return [(x.starts_at, x.repeat_left, x.items[0].pool) for x in rows]

    async def stock() -> int:
        async with db.read() as s:
            return int(await s.scalar(select(Sku.stock).where(Sku.id == sku)) or 0)

    assert len(await sessions()) == 1 and await stock() == 80  # tomorrow's pool is not locked today
    for _ in range(4):  # today, tomorrow, the day after, and one more day that must bring nothing
        clock.advance(timedelta(days=1).total_seconds() if _ else timedelta(hours=1, seconds=1).total_seconds())
        await run_jobs(db)
    got = await sessions()
    assert [(t - start, left, pool) for t, left, pool in got] == [
        (timedelta(0), 2, 20),
        (timedelta(days=1), 1, 20),
        (timedelta(days=2), 0, 20),
    ]
    assert await stock() == 40


async def test_a_bad_repeat_count_is_refused(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    start = clock.now() + timedelta(hours=1)
    body = {
        "title": "x",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "items": [{"sku_id": sku, "price_fen": 990, "per_user_limit": 1}],
        "repeat_days": 31,
    }
    r = await client.post("/api/admin/v1/seckill/sessions", json=body, headers=boss)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
    async with db.read() as s:
        assert (await s.scalars(select(SeckillSession))).all() == []
