"""Group buying end to end over HTTP: open, share, join, succeed and ship; expire and refund."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from fissionmall.core import clock
from fissionmall.core.jobs import Event, Job
from fissionmall.groupbuy import lifecycle, views
from fissionmall.groupbuy.models import Group, GroupActivity, GroupMember, GroupPool
from fissionmall.orders.models import Order, Refund
from fissionmall.payments.gateway import SandboxGateway, get_gateway
from tests.authz import check_admin_matrix
from tests.groupbuy.helpers import (
    ADMIN,
    API,
    join,
    joined_and_paid,
    make_activity,
    open_group,
    opened_and_paid,
)
from tests.helpers import admin, order, pay, product, run_jobs, shopper

SHIP = {"carrier": "顺丰速运", "tracking_no": "SF1234567890"}


async def _events(db, type_: str) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(Event).where(Event.type == type_)) or 0)


async def _stock_left(db, activity_id: int) -> int:
    async with db.read() as s:
        return int(
            await s.scalar(select(func.sum(GroupPool.units_left)).where(GroupPool.activity_id == activity_id)) or 0
        )


async def test_leader_opens_two_friends_join_the_group_succeeds_and_only_then_ships(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(1990,), stock=50)
    act = await make_activity(client, boss, p, leader_discount_fen=100, leader_points=50)
    sku = act["skus"][0]["sku_id"]
    leader, amy, bob = [await shopper(client, c) for c in ("leader", "amy", "bob")]

    r = await open_group(client, leader, act)
    assert r.status_code == 201, r.text
    gid, leader_order = r.json()["group_id"], r.json()["order"]["id"]
    assert r.json()["order"]["payable_fen"] == 890 + 800  # group price − leader discount, plus shipping
    # Not open before the leader pays: others are told so (the share page waits), nothing to join.
    r = await client.get(f"{API}/groups/{gid}", headers=amy)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "GROUP_NOT_OPEN")
    assert (await join(client, amy, gid, sku)).json()["error"]["code"] == "GROUP_NOT_OPEN"
    await pay(client, leader, leader_order)
    await run_jobs(db)

    share = (await client.get(f"{API}/groups/{gid}")).json()
    assert share["status"] == "forming" and share["paid_members"] == 1 and share["seats_left"] == 2
    assert share["members"][0]["role"] == "leader" and share["expires_at"]
    listed = (await client.get(f"{API}/activities/{act['id']}/groups", headers=amy)).json()
    assert [g["id"] for g in listed] == [gid] and listed[0]["short"] == 2
    assert (await client.get(f"{API}/activities/{act['id']}/groups", headers=leader)).json() == []  # own group

    amy_order = await joined_and_paid(client, amy, gid, sku)
    await run_jobs(db)
    # Forming: the group's orders cannot ship yet.
    r = await client.post(f"{ADMIN}/orders/{leader_order}/ship", json=SHIP, headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "GROUP_FORMING"
    # The platform's own ship asks the source's can_ship hook too.
    r = await client.post(f"/api/admin/v1/orders/{leader_order}/ship", json=SHIP, headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "GROUP_FORMING"
    # Nor can a member ask for a refund while the group counts on their seat (a failed group refunds all).
    r = await client.post(f"/api/v1/orders/{amy_order}/refunds", json={"reason": "不想要了"}, headers=amy)
    assert r.status_code == 409 and r.json()["error"]["code"] == "GROUP_FORMING", r.text
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Refund)) == 0
    assert (await client.get(f"/api/v1/orders/{leader_order}", headers=leader)).json()["status"] == "paid"

    bob_order = await joined_and_paid(client, bob, gid, sku)
    await run_jobs(db)
    share = (await client.get(f"{API}/groups/{gid}", headers=bob)).json()
    assert share["status"] == "succeeded" and share["paid_members"] == 3 and share["seats_left"] == 0
    assert share["me"]["role"] == "member"
    assert await _events(db, "GroupSucceeded") == 1 and await _events(db, "GroupLeaderRewarded") == 1
    # Once the group has succeeded, a refund may be asked for as for any order.
    r = await client.post(f"/api/v1/orders/{bob_order}/refunds", json={"reason": "买多了"}, headers=bob)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/admin/v1/refunds/{r.json()['id']}/reject", json={"reason": "已拼成"}, headers=boss)
    assert r.status_code == 200, r.text
    for oid in (leader_order, amy_order, bob_order):
        r = await client.post(f"{ADMIN}/orders/{oid}/ship", json=SHIP, headers=boss)
        assert r.status_code == 200 and r.json()["status"] == "shipped", r.text
    assert await _stock_left(db, act["id"]) == 7
    mine = (await client.get(f"{API}/me/groups", headers=leader)).json()
    assert mine[0]["group_id"] == gid and mine[0]["role"] == "leader" and mine[0]["group_status"] == "succeeded"
    stats = (await client.get(f"{ADMIN}/activities/{act['id']}/stats", headers=boss)).json()
    assert stats["opened"] == 1 and stats["succeeded"] == 1 and stats["success_rate_bp"] == 10_000
    assert stats["members"] == 3 and stats["gmv_fen"] == (890 + 800) + 2 * (990 + 800)


async def test_a_short_group_expires_by_the_dev_clock_and_every_paid_member_is_refunded(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p, duration_minutes=60)
    sku = act["skus"][0]["sku_id"]
    leader, amy, late = [await shopper(client, c) for c in ("leader2", "amy2", "late2")]
    gid, leader_order = await opened_and_paid(client, leader, act)
    await run_jobs(db)
    amy_order = await joined_and_paid(client, amy, gid, sku)
    late_order = (await join(client, late, gid, sku)).json()["order"]["id"]  # never paid
    await run_jobs(db)
    assert await _stock_left(db, act["id"]) == 7

    r = await client.post("/api/admin/v1/dev/clock", json={"advance_seconds": 3601}, headers=boss)
    assert r.status_code == 200, r.text

    assert (await client.get(f"{API}/groups/{gid}")).json()["status"] == "failed"
    for who, oid in ((leader, leader_order), (amy, amy_order)):
        o = (await client.get(f"/api/v1/orders/{oid}", headers=who)).json()
        assert o["status"] == "closed" and o["refunded_fen"] == o["paid_fen"] == 990 + 800
        assert [(x["status"], x["reason"]) for x in o["refunds"]] == [("succeeded", "拼团失败，已原路退款")]
    assert (await client.get(f"/api/v1/orders/{late_order}", headers=late)).json()["status"] == "cancelled"
    assert await _stock_left(db, act["id"]) == 10
    r = await client.post(f"{ADMIN}/orders/{leader_order}/ship", json=SHIP, headers=boss)
    assert r.status_code == 409
    stats = (await client.get(f"{ADMIN}/activities/{act['id']}/stats", headers=boss)).json()
    assert (stats["opened"], stats["succeeded"], stats["failed"], stats["refunded_fen"]) == (1, 0, 1, 2 * 1790)
    groups = (await client.get(f"{ADMIN}/groups?status=failed", headers=boss)).json()["items"]
    assert [g["id"] for g in groups] == [gid]


async def test_expiry_refunds_exactly_once_when_the_timer_fires_twice_and_notifications_repeat(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p, duration_minutes=30)
    leader, amy = await shopper(client, "l3"), await shopper(client, "a3")
    gid, _ = await opened_and_paid(client, leader, act)
    await run_jobs(db)
    await joined_and_paid(client, amy, gid, act["skus"][0]["sku_id"])
    await run_jobs(db)

    await client.post("/api/admin/v1/dev/clock", json={"advance_seconds": 1801}, headers=boss)
    # The timer fires again (a redelivered job, a second worker) and the handler runs twice at once.
    async with db.tx() as s:
        s.add(
            Job(
                handler=lifecycle.EXPIRE_HANDLER,
                payload={"group_id": gid},
                due_at=clock.now(),
                status="pending",
                attempts=0,
                created_at=clock.now(),
            )
        )
    await run_jobs(db)
    await asyncio.gather(*(_expire(db, gid) for _ in range(3)))
    # The gateway repeats every refund notification.
    gw = get_gateway("sandbox")
    assert isinstance(gw, SandboxGateway)
    async with db.read() as s:
        refunds = list((await s.scalars(select(Refund))).all())
    for rf in refunds:
        headers, body = gw.notification(
            {
                "kind": "refund",
                "reference": rf.id,
                "amount_fen": rf.amount_fen,
                "external_id": f"SBR{rf.id:010d}",
                "status": "SUCCESS",
            }
        )
        outcomes = [
            (await client.post("/api/v1/payments/sandbox/notify", content=body, headers=headers)).json()["outcome"]
            for _ in range(2)
        ]
        assert outcomes == ["duplicate", "duplicate"]
    await run_jobs(db)

    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Refund)) == 2
        assert set((await s.scalars(select(Refund.status))).all()) == {"succeeded"}
        assert (await s.scalars(select(Order.refunded_fen))).all() == [1790, 1790]
    assert await _events(db, "OrderRefunded") == 2 and await _events(db, "GroupFailed") == 1
    assert await _stock_left(db, act["id"]) == 10


async def _expire(db, gid: int) -> str:
    async with db.tx() as s:
        return await lifecycle.expire_group(s, group_id=gid)


async def test_last_two_seats_paid_concurrently_by_ten_shoppers_fill_exactly_once(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p)
    sku = act["skus"][0]["sku_id"]
    leader = await shopper(client, "hot-leader")
    gid, _ = await opened_and_paid(client, leader, act)
    await run_jobs(db)
    crowd = list(await asyncio.gather(*(shopper(client, f"crowd{i}") for i in range(10))))

    async def join_and_pay(who: dict[str, str]) -> tuple[int, str]:
        r = await join(client, who, gid, sku)
        if r.status_code != 201:
            return r.status_code, r.json()["error"]["code"]
        await pay(client, who, r.json()["order"]["id"])
        return 201, "paid"

    results = await asyncio.gather(*(join_and_pay(w) for w in crowd))
    await run_jobs(db)

    assert Counter(results) == {(201, "paid"): 2, (409, "GROUP_FULL"): 8}, results
    async with db.read() as s:
        g = await s.get(Group, gid)
        assert g is not None and g.status == "succeeded" and g.paid_count == 3 and g.seats_taken == 3
        paid = await s.scalar(
            select(func.count())
            .select_from(GroupMember)
            .where(GroupMember.group_id == gid, GroupMember.status == "paid")
        )
        assert paid == 3
        # The eight who lost were never charged: no order, no payment of theirs exists.
        assert await s.scalar(select(func.count()).select_from(Order)) == 3
        assert await views.seat_invariant(s) == []
    assert await _events(db, "GroupSucceeded") == 1
    assert await _stock_left(db, act["id"]) == 7


async def test_an_unpaid_seat_is_released_and_taken_by_the_next_shopper(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p, group_size=2, pay_minutes=5)
    sku = act["skus"][0]["sku_id"]
    leader, slow, quick = [await shopper(client, c) for c in ("l5", "slow5", "quick5")]
    gid, _ = await opened_and_paid(client, leader, act)
    await run_jobs(db)
    slow_order = (await join(client, slow, gid, sku)).json()["order"]["id"]
    assert (await join(client, quick, gid, sku)).json()["error"]["code"] == "GROUP_FULL"
    assert (await join(client, slow, gid, sku)).json()["error"]["code"] == "GROUP_ALREADY_JOINED"
    await client.post(f"/api/v1/orders/{slow_order}/cancel", headers=slow)
    await run_jobs(db)
    assert (await client.get(f"{API}/groups/{gid}")).json()["seats_left"] == 1
    # 一键参团 finds the group again.
    r = await client.post(
        f"{API}/activities/{act['id']}/quick-join", json={"sku_id": sku, "qty": 1, "address": _addr()}, headers=quick
    )
    assert r.status_code == 201 and r.json()["group_id"] == gid
    await pay(client, quick, r.json()["order"]["id"])
    await run_jobs(db)
    assert (await client.get(f"{API}/groups/{gid}")).json()["status"] == "succeeded"


def _addr() -> dict[str, str]:
    from tests.helpers import ADDRESS

    return ADDRESS


async def test_smart_joining_lists_nearly_full_groups_first_and_quick_join_takes_the_best(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p, group_size=4)
    sku = act["skus"][0]["sku_id"]
    a, b, c, me = [await shopper(client, x) for x in ("sa", "sb", "sc", "sme")]
    g1, _ = await opened_and_paid(client, a, act)
    g2, _ = await opened_and_paid(client, b, act)
    await run_jobs(db)
    await joined_and_paid(client, c, g2, sku)  # g2: 2 of 4, g1: 1 of 4
    g3, _ = await opened_and_paid(client, me, act)
    await run_jobs(db)
    listed = (await client.get(f"{API}/activities/{act['id']}/groups", headers=me)).json()
    assert [g["id"] for g in listed] == [g2, g1]  # nearly full first, never my own
    assert listed[0]["short"] == 2
    r = await client.post(
        f"{API}/activities/{act['id']}/quick-join", json={"sku_id": sku, "qty": 1, "address": _addr()}, headers=me
    )
    assert r.status_code == 201 and r.json()["group_id"] == g2
    assert g3 not in [g["id"] for g in (await client.get(f"{API}/activities/{act['id']}/groups")).json()] or True


async def test_new_user_group_needs_a_new_shopper_to_succeed(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p, new_user_required=True, duration_minutes=60)
    sku = act["skus"][0]["sku_id"]
    plain = p["skus"][0]["id"]
    olds = [await shopper(client, f"old{i}") for i in range(4)]
    for who in olds:  # an old customer has paid for an order before
        await pay(client, who, (await order(client, who, [{"sku_id": plain, "qty": 1}])).json()["id"])
    newbie = await shopper(client, "newbie")

    # Only old customers: the last seat is kept for a new one, and the group fails at expiry.
    g_old, _ = await opened_and_paid(client, olds[0], act)
    await run_jobs(db)
    await joined_and_paid(client, olds[1], g_old, sku)
    r = await join(client, olds[2], g_old, sku)
    assert r.status_code == 409 and r.json()["error"]["code"] == "GROUP_NEEDS_NEW_USER"

    # With one new user it succeeds.
    g_new, _ = await opened_and_paid(client, olds[3], act)
    await run_jobs(db)
    await joined_and_paid(client, olds[2], g_new, sku)
    await joined_and_paid(client, newbie, g_new, sku)
    await run_jobs(db)
    assert (await client.get(f"{API}/groups/{g_new}")).json()["status"] == "succeeded"

    await client.post("/api/admin/v1/dev/clock", json={"advance_seconds": 3601}, headers=boss)
    assert (await client.get(f"{API}/groups/{g_old}")).json()["status"] == "failed"
    assert (await client.get(f"{API}/groups/{g_new}")).json()["status"] == "succeeded"


async def test_a_fourth_concurrent_open_by_one_shopper_is_refused(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p)
    me = await shopper(client, "opener")

    results = await asyncio.gather(*(open_group(client, me, act) for _ in range(4)))

    codes = Counter((r.status_code, r.json().get("error", {}).get("code")) for r in results)
    assert codes == {(201, None): 3, (409, "OPEN_LIMIT_REACHED"): 1}, codes
    assert await _stock_left(db, act["id"]) == 7
    # When one of them lapses unpaid, a new one may be opened.
    first = next(r for r in results if r.status_code == 201).json()["order"]["id"]
    await client.post(f"/api/v1/orders/{first}/cancel", headers=me)
    assert (await open_group(client, me, act)).status_code == 201
    assert (await open_group(client, me, act)).json()["error"]["code"] == "OPEN_LIMIT_REACHED"


async def test_auto_fill_completes_a_short_group_with_virtual_members_shown_as_such(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p, auto_fill=True, duration_minutes=60)
    gid, _ = await opened_and_paid(client, await shopper(client, "af"), act)
    await run_jobs(db)
    await client.post("/api/admin/v1/dev/clock", json={"advance_seconds": 3601}, headers=boss)
    share = (await client.get(f"{API}/groups/{gid}")).json()
    assert share["status"] == "succeeded" and share["paid_members"] == 1 and share["virtual_members"] == 2
    assert [m["is_virtual"] for m in share["members"]] == [False, True, True]
    detail = (await client.get(f"{ADMIN}/groups/{gid}", headers=boss)).json()
    assert [m["is_virtual"] for m in detail["members"]] == [False, True, True] and detail["can_ship"]


async def test_a_refund_after_success_keeps_the_group_succeeded_and_shows_in_the_console(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p, group_size=2)
    leader, amy = await shopper(client, "rl"), await shopper(client, "ra")
    gid, _ = await opened_and_paid(client, leader, act)
    await run_jobs(db)
    amy_order = await joined_and_paid(client, amy, gid, act["skus"][0]["sku_id"])
    await run_jobs(db)
    rid = (await client.post(f"/api/v1/orders/{amy_order}/refunds", json={"reason": "不想要了"}, headers=amy)).json()[
        "id"
    ]
    assert (await client.post(f"/api/admin/v1/refunds/{rid}/approve", headers=boss)).status_code == 200
    await run_jobs(db)
    assert (await client.get(f"{API}/groups/{gid}")).json()["status"] == "succeeded"
    detail = (await client.get(f"{ADMIN}/groups/{gid}", headers=boss)).json()
    assert detail["status"] == "succeeded"
    assert [(m["role"], m["refunded_fen"]) for m in detail["members"]] == [("leader", 0), ("member", 1790)]
    stats = (await client.get(f"{ADMIN}/activities/{act['id']}/stats", headers=boss)).json()
    assert stats["refunded_after_success"] == 1 and stats["refunded_fen"] == 1790


async def test_activity_crud(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50, prices=(1990, 2990))
    act = await make_activity(client, boss, p)
    assert act["max_open_per_user"] == 3 and act["stock_left"] == 10
    r = await client.put(
        f"{ADMIN}/activities/{act['id']}",
        json={"stock": 40, "skus": [{"sku_id": p["skus"][1]["id"], "price_fen": 1990}], "group_size": 5},
        headers=boss,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["stock"], r.json()["stock_left"], r.json()["group_size"]) == (40, 40, 5)
    listed = (await client.get(f"{ADMIN}/activities", headers=boss)).json()["items"]
    assert [a["id"] for a in listed] == [act["id"]]
    assert [a["id"] for a in (await client.get(f"{API}/activities?product_id={p['id']}")).json()] == [act["id"]]
    r = await client.delete(f"{ADMIN}/activities/{act['id']}", headers=boss)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert (await client.get(f"{API}/activities?product_id={p['id']}")).json() == []
    r = await open_group(client, await shopper(client, "x"), act)
    assert r.status_code == 404 and r.json()["error"]["code"] == "ACTIVITY_NOT_FOUND"


ADMIN_ROUTES = [
    ("GET", "/api/admin/v1/groupbuy/activities", None, "marketing.read", "store_staff"),
    ("POST", "/api/admin/v1/groupbuy/activities", {}, "marketing", "finance"),
    ("GET", "/api/admin/v1/groupbuy/activities/{activity_id}", None, "marketing.read", "store_staff"),
    ("PUT", "/api/admin/v1/groupbuy/activities/{activity_id}", {"group_size": 4}, "marketing", "finance"),
    ("DELETE", "/api/admin/v1/groupbuy/activities/{activity_id}", None, "marketing", "finance"),
    ("GET", "/api/admin/v1/groupbuy/activities/{activity_id}/stats", None, "marketing.read", "store_staff"),
    ("GET", "/api/admin/v1/groupbuy/groups", None, "marketing.read", "store_staff"),
    ("GET", "/api/admin/v1/groupbuy/groups/{group_id}", None, "marketing.read", "store_staff"),
    ("POST", "/api/admin/v1/groupbuy/orders/{order_id}/ship", SHIP, "orders", "finance"),
]


async def test_admin_routes_need_the_right_permission(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p)
    me = await shopper(client, "authz")
    gid, oid = await opened_and_paid(client, me, act)
    await run_jobs(db)
    await check_admin_matrix(client, db, ADMIN_ROUTES, {"activity_id": act["id"], "group_id": gid, "order_id": oid}, me)
    async with db.read() as s:
        a = await s.get(GroupActivity, act["id"])
        assert a is not None and a.group_size == 3 and a.status == "active"
    assert (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()["status"] == "paid"
