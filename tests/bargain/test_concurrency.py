"""Concurrent helps and orders, on SQLite and PostgreSQL alike (FISSIONMALL_TEST_DB=postgres): requests are
fired together through the app, so on PostgreSQL each runs in its own transaction on its own connection."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select

from fissionmall.bargain import views
from fissionmall.bargain.models import Bargain, BargainActivity, BargainHelp
from fissionmall.orders.models import Order
from tests.bargain.helpers import friends, help_, make_activity, order, start
from tests.helpers import admin, product, shopper


async def test_20_friends_helping_a_10_help_bargain_at_once_give_exactly_10_cuts_ending_at_the_target(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,))
    act = await make_activity(client, boss, p, helpers_needed=10, min_cut_fen=None, max_cut_fen=None)
    bid = (await start(client, await shopper(client, "starter"), act))["bargain_id"]
    crowd = await friends(client, 20)

    results = await asyncio.gather(*(help_(client, f, bid) for f in crowd))

    codes = Counter(r.status_code for r in results)
    assert codes == {200: 10, 409: 10}, [r.text for r in results if r.status_code not in (200, 409)]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"BARGAIN_REACHED"}
    assert sum(r.json()["cut_fen"] for r in results if r.status_code == 200) == 9900 - 3900
    assert sorted(r.json()["helps"] for r in results if r.status_code == 200) == list(range(1, 11))
    async with db.read() as s:
        b = await s.get(Bargain, bid)
        assert (b.price_fen, b.helps, b.status) == (3900, 10, "reached")
        assert await s.scalar(select(func.count()).select_from(BargainHelp)) == 10
        assert await views.sum_breaks(s) == []


async def test_one_friend_tapping_help_five_times_at_once_cuts_once(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,))
    act = await make_activity(client, boss, p)
    bid = (await start(client, await shopper(client, "starter"), act))["bargain_id"]
    friend = await shopper(client, "eager")

    results = await asyncio.gather(*(help_(client, friend, bid) for _ in range(5)))

    assert Counter(r.status_code for r in results) == {200: 1, 409: 4}
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"ALREADY_HELPED"}
    async with db.read() as s:
        b = await s.get(Bargain, bid)
        assert b.helps == 1 and b.price_fen == 9900 - next(r.json()["cut_fen"] for r in results if r.status_code == 200)
        assert await views.sum_breaks(s) == []


async def test_5_concurrent_orders_of_one_reached_bargain_make_one_order(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,))
    act = await make_activity(client, boss, p, helpers_needed=2, min_cut_fen=None, max_cut_fen=None)
    me = await shopper(client, "starter")
    bid = (await start(client, me, act))["bargain_id"]
    for f in await friends(client, 2):
        assert (await help_(client, f, bid)).status_code == 200

    results = await asyncio.gather(*(order(client, me, bid) for _ in range(5)))

    assert Counter(r.status_code for r in results) == {201: 1, 409: 4}, [r.text for r in results]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"BARGAIN_ORDERED"}
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Order).where(Order.source == "bargain")) == 1
        a = await s.get(BargainActivity, act["id"])
        assert a.stock_left == a.stock - 1  # one unit held, not five


@pytest.mark.slow
async def test_helps_racing_over_many_bargains_keep_every_sum(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,), stock=200)
    act = await make_activity(
        client,
        boss,
        p,
        helpers_needed=8,
        min_cut_fen=200,
        max_cut_fen=1500,
        stock=50,
        max_starts_per_user=1,
        daily_help_limit=100,
    )
    starters = await friends(client, 6, "starter")
    bids = [(await start(client, who, act))["bargain_id"] for who in starters]
    crowd = await friends(client, 12, "crowd")

    results = await asyncio.gather(*(help_(client, f, bid) for f in crowd for bid in bids))

    ok = [r for r in results if r.status_code == 200]
    assert len(ok) == 8 * len(bids)
    assert {r.status_code for r in results} <= {200, 409}
    async with db.read() as s:
        rows = (await s.scalars(select(Bargain))).all()
        assert all((b.price_fen, b.helps, b.status) == (3900, 8, "reached") for b in rows)
        assert await views.sum_breaks(s) == []
