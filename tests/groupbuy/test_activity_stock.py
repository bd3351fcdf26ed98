"""A group-buying activity's stock is real stock: moved out of the SKU when the activity is made, moved
back when it is edited down or ends, never sold twice; without a stock of its own it sells from the SKU."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from fissionmall.catalog.models import Sku
from fissionmall.core import clock
from fissionmall.groupbuy.models import GroupMember, GroupPool
from tests.groupbuy.helpers import ADMIN, API, activity_body, join, make_activity, open_group, opened_and_paid
from tests.helpers import admin, order, pay, product, run_jobs, shopper


async def _sku(db, sku_id: int) -> tuple[int, int]:
    """(stock, sold) of a SKU."""
    async with db.read() as s:
        row = (await s.execute(select(Sku.stock, Sku.sold).where(Sku.id == sku_id))).one()
        return int(row.stock), int(row.sold)


async def _pool(db, activity_id: int, sku_id: int) -> tuple[int, int, bool] | None:
    async with db.read() as s:
        row = (
            await s.execute(
                select(GroupPool.pool, GroupPool.units_left, GroupPool.closed).where(
                    GroupPool.activity_id == activity_id, GroupPool.sku_id == sku_id
                )
            )
        ).one_or_none()
        return None if row is None else (int(row.pool), int(row.units_left), bool(row.closed))


async def _group_units(db, activity_id: int) -> int:
    """Units held by live group orders (reserved or paid members)."""
    async with db.read() as s:
        n = await s.scalar(
            select(func.coalesce(func.sum(GroupMember.qty), 0)).where(
                GroupMember.activity_id == activity_id, GroupMember.status.in_(("reserved", "paid"))
            )
        )
        return int(n or 0)


def _contract_body(p: dict[str, Any], **over: Any) -> dict[str, Any]:
    """Exactly the fields /work/shared/API.md names for POST /admin/groupbuy/activities."""
    body = activity_body(p, **over)
    keys = (
        "product_id",
        "skus",
        "group_size",
        "duration_minutes",
        "new_user_required",
        "leader_discount_fen",
        "max_open_per_user",
        "starts_at",
        "ends_at",
    )
    return {k: body[k] for k in keys}


# ---- the pool leaves the SKU and comes back ------------------------------------------------------


async def test_a_pool_bigger_than_the_skus_stock_is_refused_and_nothing_is_made(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=3)
    sku = p["skus"][0]["id"]
    r = await client.post(f"{ADMIN}/activities", json=activity_body(p, stock=1000), headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "INSUFFICIENT_STOCK", r.text
    assert await _sku(db, sku) == (3, 0)
    assert (await client.get(f"{ADMIN}/activities", headers=boss)).json()["items"] == []


async def test_the_pool_moves_out_of_the_sku_and_edits_move_units_both_ways(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=10)
    sku = p["skus"][0]["id"]
    act = await make_activity(client, boss, p, stock=6)
    assert (act["stock"], act["stock_left"]) == (6, 6)
    assert await _sku(db, sku) == (4, 0)

    leader = await shopper(client, "pool-leader")
    r = await open_group(client, leader, act, qty=2)
    assert r.status_code == 201, r.text
    assert await _sku(db, sku) == (4, 0)  # the group order drew on the pool, not the SKU a second time
    assert await _pool(db, act["id"], sku) == (6, 4, False)

    url = f"{ADMIN}/activities/{act['id']}"
    r = await client.put(url, json={"stock": 9}, headers=boss)
    assert r.status_code == 200 and (r.json()["stock"], r.json()["stock_left"]) == (9, 7), r.text
    assert await _sku(db, sku) == (1, 0)
    r = await client.put(url, json={"stock": 11}, headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    r = await client.put(url, json={"stock": 1}, headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "STOCK_BELOW_RESERVED"
    r = await client.put(url, json={"stock": 2}, headers=boss)
    assert r.status_code == 200 and (r.json()["stock"], r.json()["stock_left"]) == (2, 0), r.text
    assert await _sku(db, sku) == (8, 0)
    r = await open_group(client, await shopper(client, "pool-late"), act)
    assert r.status_code == 409 and r.json()["error"]["code"] == "SOLD_OUT"


async def test_at_ends_at_the_unsold_units_go_back_once_and_later_returns_go_to_the_sku(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=10)
    sku = p["skus"][0]["id"]
    ends = clock.now() + timedelta(minutes=10)  # before the unpaid order's 15-minute pay window closes
    act = await make_activity(client, boss, p, stock=5, duration_minutes=60 * 24, ends_at=ends.isoformat())
    leader, friend = await shopper(client, "end-leader"), await shopper(client, "end-friend")
    gid, _ = await opened_and_paid(client, leader, act)
    await run_jobs(db)
    unpaid = (await join(client, friend, gid, sku)).json()["order"]["id"]
    assert await _sku(db, sku) == (5, 0)

    clock.advance(10 * 60 + 1)
    await run_jobs(db)
    assert await _pool(db, act["id"], sku) == (2, 0, True)  # what the two orders hold stays with them
    assert await _sku(db, sku) == (8, 0)
    await run_jobs(db)
    r = await client.delete(f"{ADMIN}/activities/{act['id']}", headers=boss)  # closing later gives nothing twice
    assert r.status_code == 200
    assert await _sku(db, sku) == (8, 0)
    r = await client.put(f"{ADMIN}/activities/{act['id']}", json={"stock": 5}, headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "ACTIVITY_ENDED"

    r = await client.post(f"/api/v1/orders/{unpaid}/cancel", headers=friend)
    assert r.status_code == 200, r.text
    assert await _pool(db, act["id"], sku) == (1, 0, True)
    assert await _sku(db, sku) == (9, 0)  # the activity is over: the unit goes to the SKU


async def test_moving_ends_at_gives_the_pool_back_at_the_new_time(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=10)
    sku = p["skus"][0]["id"]
    act = await make_activity(client, boss, p, stock=5)
    past = await make_activity(client, boss, p, stock=5)
    r = await client.put(
        f"{ADMIN}/activities/{past['id']}",
        json={"ends_at": (clock.now() - timedelta(seconds=1)).isoformat()},
        headers=boss,
    )
    assert r.status_code == 200 and r.json()["stock_left"] == 0, r.text  # ended by the edit itself
    assert await _sku(db, sku) == (5, 0)

    sooner = clock.now() + timedelta(hours=1)
    r = await client.put(f"{ADMIN}/activities/{act['id']}", json={"ends_at": sooner.isoformat()}, headers=boss)
    assert r.status_code == 200, r.text
    clock.advance(3601)
    await run_jobs(db)
    assert await _sku(db, sku) == (10, 0)
    assert await _pool(db, act["id"], sku) == (0, 0, True)
    clock.advance(7 * 24 * 3600)  # the job for the first ends_at finds nothing left to give
    await run_jobs(db)
    assert await _sku(db, sku) == (10, 0)


async def test_closing_early_returns_the_pool_and_a_failed_group_refund_returns_to_the_sku(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=10)
    sku = p["skus"][0]["id"]
    act = await make_activity(client, boss, p, stock=4, duration_minutes=60)
    gid, _ = await opened_and_paid(client, await shopper(client, "close-leader"), act)
    await run_jobs(db)
    r = await client.delete(f"{ADMIN}/activities/{act['id']}", headers=boss)
    assert r.status_code == 200 and (r.json()["stock"], r.json()["stock_left"]) == (1, 0), r.text
    assert await _sku(db, sku) == (9, 0)

    clock.advance(3601)  # the group is short at expiry: it fails and the leader is refunded
    await run_jobs(db)
    assert (await client.get(f"{API}/groups/{gid}")).json()["status"] == "failed"
    assert await _pool(db, act["id"], sku) == (0, 0, True)
    assert await _sku(db, sku) == (10, 0)


async def test_a_refund_of_a_failed_group_goes_back_to_the_open_pool(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=10)
    sku = p["skus"][0]["id"]
    act = await make_activity(client, boss, p, stock=4, duration_minutes=60)
    await opened_and_paid(client, await shopper(client, "fail-leader"), act)
    await run_jobs(db)
    assert await _pool(db, act["id"], sku) == (4, 3, False)
    clock.advance(3601)
    await run_jobs(db)
    assert await _pool(db, act["id"], sku) == (4, 4, False)
    assert await _sku(db, sku) == (6, 0)


async def test_several_skus_take_each_its_own_pool(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=10, prices=(1990, 2990))
    a, b = p["skus"][0]["id"], p["skus"][1]["id"]
    both = [{"sku_id": a, "price_fen": 990}, {"sku_id": b, "price_fen": 1990}]
    r = await client.post(f"{ADMIN}/activities", json=activity_body(p, skus=both, stock=6), headers=boss)
    assert r.status_code == 422 and r.json()["error"]["code"] == "STOCK_SPLIT_REQUIRED", r.text
    split = [{**both[0], "stock": 4}, {**both[1], "stock": 2}]
    act = await make_activity(client, boss, p, skus=split, stock=6)
    assert [(x["sku_id"], x["pool"]) for x in act["pools"]] == sorted([(a, 4), (b, 2)])
    assert (await _sku(db, a), await _sku(db, b)) == ((6, 0), (8, 0))
    r = await client.put(f"{ADMIN}/activities/{act['id']}", json={"skus": [both[1]]}, headers=boss)
    assert r.status_code == 200, r.text
    assert await _sku(db, a) == (10, 0)  # a SKU dropped from the activity gets its pool back
    assert await _pool(db, act["id"], a) == (0, 0, True)


# ---- the contract's body: no stock of its own ----------------------------------------------------


async def test_the_contract_body_is_accepted_and_sells_from_the_skus_own_stock(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=2)
    sku = p["skus"][0]["id"]
    r = await client.post(f"{ADMIN}/activities", json=_contract_body(p, duration_minutes=60), headers=boss)
    assert r.status_code == 201, r.text
    act = r.json()
    assert (act["stock"], act["stock_left"], act["pools"]) == (None, None, [])
    assert await _sku(db, sku) == (2, 0)

    leader, friend = await shopper(client, "sku-leader"), await shopper(client, "sku-friend")
    gid, _ = await opened_and_paid(client, leader, act)
    await run_jobs(db)
    assert await _sku(db, sku) == (1, 1)
    unpaid = (await join(client, friend, gid, sku)).json()["order"]["id"]
    assert await _sku(db, sku) == (0, 2)
    r = await order(client, await shopper(client, "sku-plain"), [{"sku_id": sku, "qty": 1}])
    assert r.status_code == 409 and r.json()["error"]["code"] == "OUT_OF_STOCK"
    assert (await client.post(f"/api/v1/orders/{unpaid}/cancel", headers=friend)).status_code == 200
    assert await _sku(db, sku) == (1, 1)
    clock.advance(3601)  # short at expiry: the paid leader is refunded and the unit goes back
    await run_jobs(db)
    assert (await client.get(f"{API}/groups/{gid}")).json()["status"] == "failed"
    assert await _sku(db, sku) == (2, 0)


# ---- the leader pays at least 1 fen for the goods ------------------------------------------------


async def test_a_leader_discount_that_swallows_a_group_price_is_refused(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=20, prices=(1990, 2990))
    a, b = p["skus"][0]["id"], p["skus"][1]["id"]
    both = [{"sku_id": a, "price_fen": 990}, {"sku_id": b, "price_fen": 500}]
    for discount in (500, 501, 100_000):
        r = await client.post(
            f"{ADMIN}/activities", json=_contract_body(p, skus=both, leader_discount_fen=discount), headers=boss
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "LEADER_DISCOUNT_TOO_HIGH", r.text
    act = await make_activity(client, boss, p, skus=both, leader_discount_fen=499, stock=None)
    url = f"{ADMIN}/activities/{act['id']}"
    r = await client.put(url, json={"leader_discount_fen": 990}, headers=boss)
    assert r.status_code == 422 and r.json()["error"]["code"] == "LEADER_DISCOUNT_TOO_HIGH"
    r = await client.put(url, json={"skus": [{"sku_id": a, "price_fen": 499}]}, headers=boss)
    assert r.status_code == 422 and r.json()["error"]["code"] == "LEADER_DISCOUNT_TOO_HIGH"
    r = await client.get(url, headers=boss)
    assert r.json()["leader_discount_fen"] == 499 and r.json()["skus"] == both

    r = await open_group(client, await shopper(client, "cheap-leader"), act)
    assert r.status_code == 201, r.text
    assert r.json()["order"]["payable_fen"] > 800  # 990 - 499 for the goods, plus shipping


# ---- concurrency: SKU stock 3, a crowd, at most 3 units out ---------------------------------------


async def _crowd(client, db, act: dict[str, Any], sku: int, tag: str, groups: int, plain: int) -> Counter[int]:
    """Leaders opening groups, friends joining one open group, and ordinary orders, all at once."""
    seed_leader = await shopper(client, f"{tag}-seed")
    seed = await open_group(client, seed_leader, act)
    gids = []
    if seed.status_code == 201:
        await pay(client, seed_leader, seed.json()["order"]["id"])
        await run_jobs(db)  # the paid leader makes the group joinable
        gids.append(seed.json()["group_id"])
    leaders = [await shopper(client, f"{tag}-l{i}") for i in range(groups)]
    friends = [await shopper(client, f"{tag}-f{i}") for i in range(groups)]
    buyers = [await shopper(client, f"{tag}-b{i}") for i in range(plain)]
    results = await asyncio.gather(
        *(open_group(client, h, act) for h in leaders),
        *(join(client, h, gids[0], sku) for h in friends if gids),
        *(order(client, h, [{"sku_id": sku, "qty": 1}]) for h in buyers),
    )
    odd = [r.text for r in results if r.status_code not in (201, 409)]
    assert not odd, odd
    return Counter(r.status_code for r in results) + Counter({seed.status_code: 1})


async def test_with_a_pool_a_crowd_never_takes_more_than_the_sku_had_and_the_end_conserves_it(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=3)
    sku = p["skus"][0]["id"]
    act = await make_activity(client, boss, p, stock=2, group_size=5)
    await run_jobs(db)

    codes = await _crowd(client, db, act, sku, "pool", groups=12, plain=8)
    await run_jobs(db)

    assert codes[201] == 3, codes  # 2 from the pool, 1 ordinary order from the SKU's last unit
    stock, sold = await _sku(db, sku)
    assert (stock, sold) == (0, 1)
    assert await _group_units(db, act["id"]) == 2
    assert await _pool(db, act["id"], sku) == (2, 0, False)
    r = await client.delete(f"{ADMIN}/activities/{act['id']}", headers=boss)
    assert r.status_code == 200
    stock, sold = await _sku(db, sku)
    pool = await _pool(db, act["id"], sku)
    assert pool is not None and stock + sold + pool[0] == 3  # conserved after the activity ends


async def test_without_a_pool_a_crowd_sells_at_most_the_skus_stock(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=3)
    sku = p["skus"][0]["id"]
    r = await client.post(f"{ADMIN}/activities", json=_contract_body(p, group_size=5), headers=boss)
    assert r.status_code == 201, r.text
    act = r.json()
    await run_jobs(db)

    codes = await _crowd(client, db, act, sku, "nopool", groups=12, plain=8)
    await run_jobs(db)

    assert codes[201] == 3, codes
    stock, sold = await _sku(db, sku)
    assert (stock, sold) == (0, 3)
    r = await client.delete(f"{ADMIN}/activities/{act['id']}", headers=boss)
    assert r.status_code == 200 and await _sku(db, sku) == (0, 3)
