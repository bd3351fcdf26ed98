"""Refusals: each a 4xx with a stable code, and nothing changed (a snapshot of every bargaining row, the
SKUs' stock and the orders before and after)."""

from __future__ import annotations

from datetime import timedelta

from fissionmall.core import clock
from tests.bargain.helpers import ADMIN, API, activity_body, friends, help_, make_activity, order, snapshot, start
from tests.helpers import admin, pay, product, run_jobs, shopper


async def _refused(client, db, call, status: int, code: str) -> None:
    before = await snapshot(db)
    r = await call()
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert await snapshot(db) == before


async def test_a_friend_helping_twice_and_the_starter_helping_themselves_are_refused(client, db):
    boss = await admin(client, db)
    act = await make_activity(client, boss, await product(client, boss, prices=(9900,)))
    me = await shopper(client, "starter")
    bid = (await start(client, me, act))["bargain_id"]
    friend = (await friends(client, 1))[0]
    assert (await help_(client, friend, bid)).status_code == 200
    await _refused(client, db, lambda: help_(client, friend, bid), 409, "ALREADY_HELPED")
    await _refused(client, db, lambda: help_(client, me, bid), 409, "SELF_HELP")


async def test_help_after_expiry_is_refused_and_the_timer_expires_it_once(client, db):
    boss = await admin(client, db)
    act = await make_activity(client, boss, await product(client, boss, prices=(9900,)), duration_minutes=60)
    bid = (await start(client, await shopper(client, "starter"), act))["bargain_id"]
    friend = (await friends(client, 1))[0]
    clock.advance(3601)
    await _refused(client, db, lambda: help_(client, friend, bid), 409, "BARGAIN_EXPIRED")
    assert await run_jobs(db) >= 1
    assert (await client.get(f"{API}/{bid}")).json()["status"] == "expired"
    # The timer fired again (a redelivery) finds it done: nothing changes.
    from fissionmall.bargain.bargains import expire

    before = await snapshot(db)
    async with db.tx() as s:
        assert await expire(s, bargain_id=bid) is False
    assert await snapshot(db) == before


async def test_help_after_purchase_is_refused(client, db):
    boss = await admin(client, db)
    act = await make_activity(
        client, boss, await product(client, boss, prices=(9900,)), helpers_needed=1, min_cut_fen=None, max_cut_fen=None
    )
    me = await shopper(client, "starter")
    bid = (await start(client, me, act))["bargain_id"]
    f1, f2 = await friends(client, 2)
    assert (await help_(client, f1, bid)).status_code == 200
    r = await order(client, me, bid)
    assert r.status_code == 201, r.text
    await _refused(client, db, lambda: help_(client, f2, bid), 409, "BARGAIN_ORDERED")
    await pay(client, me, r.json()["order"]["id"])
    await run_jobs(db)
    await _refused(client, db, lambda: help_(client, f2, bid), 409, "BARGAIN_BOUGHT")
    await _refused(client, db, lambda: order(client, me, bid), 409, "BARGAIN_BOUGHT")


async def test_help_beyond_the_daily_limit_is_refused_across_activities(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,))
    a1 = await make_activity(client, boss, p, daily_help_limit=2, duration_minutes=3 * 1440, max_starts_per_user=3)
    a2 = await make_activity(client, boss, p, daily_help_limit=2, duration_minutes=3 * 1440)
    starters = await friends(client, 3, "starter")
    bids = [(await start(client, who, a))["bargain_id"] for who, a in zip(starters, (a1, a2, a1), strict=True)]
    friend = await shopper(client, "busy")
    assert (await help_(client, friend, bids[0])).status_code == 200
    assert (await help_(client, friend, bids[1])).status_code == 200
    await _refused(client, db, lambda: help_(client, friend, bids[2]), 409, "DAILY_HELP_LIMIT")
    clock.advance(24 * 3600)  # the next day the friend may help again
    assert (await help_(client, friend, bids[2])).status_code == 200


async def test_starting_beyond_the_per_shopper_limit_is_refused(client, db):
    boss = await admin(client, db)
    act = await make_activity(client, boss, await product(client, boss, prices=(9900,)), max_starts_per_user=1)
    me = await shopper(client, "starter")
    await start(client, me, act)
    await _refused(
        client, db, lambda: client.post(f"{API}/activities/{act['id']}/start", headers=me), 409, "START_LIMIT_REACHED"
    )


async def test_a_helper_who_is_not_a_new_shopper_is_refused_where_the_activity_wants_new_ones(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,))
    act = await make_activity(client, boss, p, new_user_only=True)
    bid = (await start(client, await shopper(client, "starter"), act))["bargain_id"]
    old = await shopper(client, "regular")
    from tests.helpers import order as plain_order

    r = await plain_order(client, old, [{"sku_id": p["skus"][0]["id"], "qty": 1}])
    await pay(client, old, r.json()["id"])
    await _refused(client, db, lambda: help_(client, old, bid), 409, "HELPER_NOT_NEW")


async def test_bad_input_gets_a_stable_code_each(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(9900,), stock=20)
    me = await shopper(client, "starter")
    cases = [
        (activity_body(p, min_cut_fen=0), "CUT_BOUNDS_INVALID"),
        (activity_body(p, min_cut_fen=-100), "CUT_BOUNDS_INVALID"),
        (activity_body(p, max_cut_fen=-1), "CUT_BOUNDS_INVALID"),
        (activity_body(p, min_cut_fen=2000, max_cut_fen=100), "CUT_BOUNDS_INVALID"),
        (activity_body(p, target_fen=9900), "TARGET_NOT_BELOW_START"),
        (activity_body(p, target_fen=12000), "TARGET_NOT_BELOW_START"),
        (activity_body(p, helpers_needed=0), "HELPERS_OUT_OF_RANGE"),
        (activity_body(p, helpers_needed=101), "HELPERS_OUT_OF_RANGE"),
        (activity_body(p, max_cut_fen=500), "CUT_BOUNDS_UNREACHABLE"),
        (activity_body(p, min_cut_fen=1500), "CUT_BOUNDS_TOO_LARGE"),
        (activity_body(p, start_fen=10_000), "START_ABOVE_PRICE"),
        (activity_body(p, stock=21), "INSUFFICIENT_STOCK"),
    ]
    for body, code in cases:
        before = await snapshot(db)
        r = await client.post(f"{ADMIN}/activities", json=body, headers=boss)
        assert 400 <= r.status_code < 500 and r.json()["error"]["code"] == code, (body, r.text)
        assert await snapshot(db) == before
    r = await client.post(f"{API}/activities/999999/start", headers=me)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "BARGAIN_ACTIVITY_NOT_FOUND")
    for path in (f"{API}/999999",):
        r = await client.get(path)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "BARGAIN_NOT_FOUND")
    r = await help_(client, me, 999999)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "BARGAIN_NOT_FOUND")

    later = await make_activity(client, boss, p, starts_at=(clock.now() + timedelta(hours=1)).isoformat(), stock=1)
    await _refused(
        client,
        db,
        lambda: client.post(f"{API}/activities/{later['id']}/start", headers=me),
        409,
        "ACTIVITY_NOT_STARTED",
    )
    ended = await make_activity(client, boss, p, stock=1, ends_at=(clock.now() + timedelta(minutes=10)).isoformat())
    clock.advance(601)
    await _refused(
        client, db, lambda: client.post(f"{API}/activities/{ended['id']}/start", headers=me), 409, "ACTIVITY_ENDED"
    )
    none_left = await make_activity(client, boss, p, stock=0)
    await _refused(
        client, db, lambda: client.post(f"{API}/activities/{none_left['id']}/start", headers=me), 409, "SOLD_OUT"
    )
    one = await make_activity(
        client, boss, p, stock=1, helpers_needed=1, min_cut_fen=None, max_cut_fen=None, max_starts_per_user=2
    )
    bid = (await start(client, me, one))["bargain_id"]
    assert (await help_(client, (await friends(client, 1))[0], bid)).status_code == 200
    await _refused(client, db, lambda: order(client, me, bid, qty=2), 400, "QTY_MUST_BE_ONE")
    await _refused(client, db, lambda: order(client, me, bid, qty=0), 400, "QTY_MUST_BE_ONE")
    other = await shopper(client, "stranger")
    await _refused(client, db, lambda: order(client, other, bid), 403, "NOT_YOUR_BARGAIN")
    assert (await order(client, me, bid)).status_code == 201
    # The one unit is held by that order: a second bargain is refused at its start.
    await _refused(client, db, lambda: client.post(f"{API}/activities/{one['id']}/start", headers=me), 409, "SOLD_OUT")
