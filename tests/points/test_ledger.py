"""The ledger under real concurrent transactions (both databases): a spend never takes the balance below
zero, a ref is posted once however many times it is replayed, and the balance is the sum of entries."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from fissionmall.core.errors import AppError
from fissionmall.points import ledger
from fissionmall.points.models import PointsEntry
from tests.points.helpers import balance_and_sum, customer


async def _grant(db, cid: int, points: int, ref: str | None, kind: str = "adjust") -> ledger.Posted:
    async with db.tx() as s:
        return await ledger.grant(s, customer_id=cid, points=points, kind=kind, ref=ref)


async def _spend(db, cid: int, points: int, ref: str | None) -> bool:
    try:
        async with db.tx() as s:
            await ledger.spend(s, customer_id=cid, points=points, kind="spend", ref=ref)
        return True
    except AppError as e:
        assert e.code == "INSUFFICIENT_POINTS"
        return False


async def test_concurrent_spends_never_go_below_zero(client, db):
    _, cid = await customer(client)
    await _grant(db, cid, 100, "seed")
    ok = await asyncio.gather(*(_spend(db, cid, 30, f"o{i}") for i in range(10)))
    assert sum(ok) == 3
    assert await balance_and_sum(db, cid) == (10, 10)


async def test_20_concurrent_grants_add_exactly(client, db):
    # fuint's points gifts raced: 20 concurrent gifts of 100 turned 100 points into 2,000 (a read-modify-write).
    _, cid = await customer(client)
    await asyncio.gather(*(_grant(db, cid, 100, f"gift{i}") for i in range(20)))
    assert await balance_and_sum(db, cid) == (2000, 2000)


async def test_a_replayed_ref_posts_once_even_concurrently(client, db):
    _, cid = await customer(client)
    got = await asyncio.gather(*(_grant(db, cid, 50, "order:7", kind="earn") for _ in range(10)))
    assert sum(p.created for p in got) == 1
    assert await balance_and_sum(db, cid) == (50, 50)
    assert await _spend(db, cid, 20, "o1") and await _spend(db, cid, 20, "o1")  # the second writes nothing
    assert await balance_and_sum(db, cid) == (30, 30)


async def test_a_short_spend_changes_nothing_even_when_the_caller_commits(client, db):
    _, cid = await customer(client)
    await _grant(db, cid, 10, "seed")
    async with db.tx() as s:
        with pytest.raises(AppError) as e:
            await ledger.spend(s, customer_id=cid, points=11, kind="spend", ref="x")
        assert e.value.code == "INSUFFICIENT_POINTS"
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(PointsEntry).where(PointsEntry.ref == "x")) == 0
    assert await balance_and_sum(db, cid) == (10, 10)


async def test_take_back_with_or_without_debt(client, db):
    _, cid = await customer(client)
    await _grant(db, cid, 100, "seed")
    await _spend(db, cid, 80, "o1")
    async with db.tx() as s:
        capped = await ledger.take_back(s, customer_id=cid, points=50, kind="earn_back", ref="r1", allow_debt=False)
    assert capped.points == -20 and await balance_and_sum(db, cid) == (0, 0)
    async with db.tx() as s:
        debt = await ledger.take_back(s, customer_id=cid, points=50, kind="earn_back", ref="r2")
    assert debt.balance == -50
    await _grant(db, cid, 70, "later")  # later earnings pay the debt first
    assert await balance_and_sum(db, cid) == (20, 20)
    assert not await _spend(db, cid, 21, "o2")
