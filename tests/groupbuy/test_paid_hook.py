"""What a payment changes in a group, the shopper sees at once: the `paid` hook of the groupbuy source.

The test app runs no worker (embedded_worker=False), and nothing here calls run_jobs until it says so:
that is the worker stopped. Every notification goes down the sandbox's signed notify route, the path a
real gateway callback takes.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select, text

from fissionmall.core import clock
from fissionmall.core.jobs import Event, Job
from fissionmall.groupbuy import lifecycle, rules, views
from fissionmall.groupbuy.models import Group, GroupActivity, GroupMember, GroupPool, GroupQuota
from fissionmall.orders import service as order_service
from fissionmall.orders.models import Order, Refund
from fissionmall.payments import service as payment_service
from fissionmall.payments.gateway import SandboxGateway, get_gateway
from tests.groupbuy.helpers import API, join, make_activity, open_group
from tests.helpers import admin, product, run_jobs, shopper

SHIP = {"carrier": "顺丰速运", "tracking_no": "SF1234567890"}
GROUPBUY_TABLES = (GroupActivity, GroupPool, Group, GroupMember, GroupQuota)


async def _start_payment(client, who: dict[str, str], order_id: int) -> tuple[int, int]:
    r = await client.post(f"/api/v1/orders/{order_id}/pay", json={"method": "gateway"}, headers=who)
    assert r.status_code == 200, r.text
    return r.json()["payment_id"], r.json()["amount_fen"]


def _notification(payment_id: int, amount_fen: int) -> tuple[dict[str, str], bytes]:
    gw = get_gateway("sandbox")
    assert isinstance(gw, SandboxGateway)
    return gw.notification(
        {
            "kind": "payment",
            "reference": payment_id,
            "amount_fen": amount_fen,
            "external_id": f"SBX{payment_id:010d}",
            "status": "SUCCESS",
        }
    )


async def _notify(client, payment_id: int, amount_fen: int) -> str:
    headers, body = _notification(payment_id, amount_fen)
    r = await client.post("/api/v1/payments/sandbox/notify", content=body, headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["outcome"])


async def _pay_by_notification(client, who: dict[str, str], order_id: int) -> None:
    assert await _notify(client, *(await _start_payment(client, who, order_id))) == "applied"


async def _events(db, type_: str) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(Event).where(Event.type == type_)) or 0)


async def _snapshot(db) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every groupbuy table, and the group timers: what the events must leave alone."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with db.read() as s:
        for model in GROUPBUY_TABLES:
            table = model.__table__
            rows = (await s.execute(select(table).order_by(*table.primary_key.columns))).all()
            out[table.name] = [tuple(r) for r in rows]
        timers = await s.execute(
            select(Job.key, Job.due_at, Job.status).where(Job.key.like("group-expire:%")).order_by(Job.key)
        )
        out["timers"] = [tuple(r) for r in timers.all()]
    return out


async def _pending_jobs(db, handler: str) -> int:
    async with db.read() as s:
        q = select(func.count()).select_from(Job).where(Job.handler == handler, Job.status == "pending")
        return int(await s.scalar(q) or 0)


async def test_the_leaders_payment_opens_the_group_at_once_and_the_events_later_change_nothing(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p, leader_discount_fen=100, leader_points=20)
    sku = act["skus"][0]["sku_id"]
    leader, amy, bob = [await shopper(client, c) for c in ("hook-leader", "hook-amy", "hook-bob")]
    r = await open_group(client, leader, act)
    gid, leader_order = r.json()["group_id"], r.json()["order"]["id"]

    await _pay_by_notification(client, leader, leader_order)

    # The worker has not run (its OrderPaid delivery is still queued), yet the group is there for anyone.
    assert await _pending_jobs(db, "groupbuy.member_paid") == 1
    share = await client.get(f"{API}/groups/{gid}")
    assert share.status_code == 200, share.text
    assert (share.json()["status"], share.json()["paid_members"], share.json()["seats_left"]) == ("forming", 1, 2)
    listed = (await client.get(f"{API}/activities/{act['id']}/groups", headers=amy)).json()
    assert [g["id"] for g in listed] == [gid]
    mine = (await client.get(f"{API}/me/groups", headers=leader)).json()
    assert [(g["group_id"], g["member_status"], g["group_status"]) for g in mine] == [(gid, "paid", "forming")]
    assert rules.GROUP_STATUS_ZH[mine[0]["group_status"]] == "拼团中"
    assert (await client.get(f"/api/v1/orders/{leader_order}", headers=leader)).json()["status"] == "paid"
    joined = await join(client, amy, gid, sku)
    assert joined.status_code == 201, joined.text
    assert await _events(db, "GroupOpened") == 1

    # The worker starts: every queued delivery runs once, and the groupbuy tables stay as the hook left them.
    before = await _snapshot(db)
    assert await run_jobs(db) > 0
    assert await _snapshot(db) == before
    async with db.read() as s:
        runs = (await s.scalars(select(Job.status).where(Job.handler == "groupbuy.member_paid"))).all()
        assert runs == ["done"]
        due = select(func.count()).select_from(Job).where(Job.status != "done", Job.due_at <= clock.now())
        assert await s.scalar(due) == 0  # nothing failed, nothing left for later
    assert await _events(db, "GroupOpened") == 1

    # The last seat, with the worker stopped again: the group succeeds in the payment's own commit.
    await _pay_by_notification(client, amy, joined.json()["order"]["id"])
    last = await join(client, bob, gid, sku)
    assert last.status_code == 201, last.text
    bob_order = last.json()["order"]["id"]
    await _pay_by_notification(client, bob, bob_order)
    share = (await client.get(f"{API}/groups/{gid}")).json()
    assert (share["status"], share["paid_members"], share["short"]) == ("succeeded", 3, 0)
    assert await _events(db, "GroupSucceeded") == 1 and await _events(db, "GroupLeaderRewarded") == 1
    # Succeeded means shippable now, and the leader may open another group (the open slot came back).
    r = await client.post(f"/api/admin/v1/groupbuy/orders/{bob_order}/ship", json=SHIP, headers=boss)
    assert r.status_code == 200, r.text
    async with db.read() as s:
        g = await s.get(Group, gid)
        assert g is not None
        open_now = await s.scalar(
            select(GroupQuota.open_now).where(
                GroupQuota.activity_id == act["id"], GroupQuota.customer_id == g.leader_id
            )
        )
        assert open_now == 0

    before = await _snapshot(db)
    await run_jobs(db)
    assert await _snapshot(db) == before
    assert await _events(db, "GroupSucceeded") == 1 and await _events(db, "GroupOpened") == 1


async def test_20_concurrent_notifications_for_the_leaders_payment_open_the_group_once(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p)
    leader = await shopper(client, "hook-hot-leader")
    r = await open_group(client, leader, act)
    gid, oid = r.json()["group_id"], r.json()["order"]["id"]
    headers, body = _notification(*(await _start_payment(client, leader, oid)))

    results = await asyncio.gather(
        *(client.post("/api/v1/payments/sandbox/notify", content=body, headers=headers) for _ in range(20))
    )

    assert all(r.status_code == 200 for r in results), [r.text for r in results if r.status_code != 200]
    assert Counter(r.json()["outcome"] for r in results) == {"applied": 1, "duplicate": 19}
    async with db.read() as s:
        paid = await s.scalar(
            select(func.count())
            .select_from(GroupMember)
            .where(GroupMember.group_id == gid, GroupMember.status == "paid")
        )
        assert paid == 1
        g = await s.get(Group, gid)
        assert g is not None and (g.status, g.paid_count, g.seats_taken) == ("forming", 1, 1)
        timers = await s.scalar(select(func.count()).select_from(Job).where(Job.key == f"group-expire:{gid}"))
        assert timers == 1
    assert await _events(db, "GroupOpened") == 1 and await _events(db, "OrderPaid") == 1
    await run_jobs(db)
    assert await _events(db, "GroupOpened") == 1


async def test_a_join_before_the_leader_paid_is_told_the_group_is_not_open_yet(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p)
    sku = act["skus"][0]["sku_id"]
    leader, amy = await shopper(client, "hook-early-leader"), await shopper(client, "hook-early-amy")
    r = await open_group(client, leader, act)
    gid, oid = r.json()["group_id"], r.json()["order"]["id"]

    r = await join(client, amy, gid, sku)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "GROUP_NOT_OPEN")
    for who in (amy, {}):
        r = await client.get(f"{API}/groups/{gid}", headers=who)
        assert (r.status_code, r.json()["error"]["code"]) == (409, "GROUP_NOT_OPEN")
    mine = await client.get(f"{API}/groups/{gid}", headers=leader)  # the leader sees it waiting for payment
    assert mine.status_code == 200 and mine.json()["status"] == "pending"
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(GroupMember).where(GroupMember.group_id == gid)) == 1

    await _pay_by_notification(client, leader, oid)
    r = await join(client, amy, gid, sku)
    assert r.status_code == 201, r.text

    # A group whose leader never paid is gone for good: not found, not "not open".
    r = await open_group(client, leader, act)
    gid2, oid2 = r.json()["group_id"], r.json()["order"]["id"]
    assert (await client.post(f"/api/v1/orders/{oid2}/cancel", headers=leader)).status_code == 200
    r = await join(client, amy, gid2, sku)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "GROUP_NOT_FOUND")
    assert (await client.get(f"{API}/groups/{gid2}")).status_code == 404


async def test_20_concurrent_notifications_for_every_shopper_who_held_the_last_seat_pay_it_once(client, db):
    """Twenty shoppers held the last seat in turn, each opened a payment and (but the last) let its order
    be cancelled; then every one of their payments is confirmed at once. Only the seat's holder is paid;
    the others' money goes straight back, and the group succeeds exactly once."""
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p, group_size=2)
    sku = act["skus"][0]["sku_id"]
    leader = await shopper(client, "hook-seat-leader")
    r = await open_group(client, leader, act)
    gid = r.json()["group_id"]
    await _pay_by_notification(client, leader, r.json()["order"]["id"])
    crowd = [await shopper(client, f"hook-seat{i}") for i in range(20)]
    payments = []
    for i, who in enumerate(crowd):
        r = await join(client, who, gid, sku)
        assert r.status_code == 201, r.text
        oid = r.json()["order"]["id"]
        payments.append(await _start_payment(client, who, oid))
        if i < len(crowd) - 1:
            assert (await client.post(f"/api/v1/orders/{oid}/cancel", headers=who)).status_code == 200
    notes = [_notification(pid, amount) for pid, amount in payments]

    results = await asyncio.gather(
        *(client.post("/api/v1/payments/sandbox/notify", content=body, headers=headers) for headers, body in notes)
    )

    assert all(r.status_code == 200 for r in results), [r.text for r in results if r.status_code != 200]
    outcomes = [r.json()["outcome"] for r in results]
    assert Counter(outcomes) == {"applied": 1, "refunded_late_payment": 19}
    assert outcomes[-1] == "applied"  # the holder's
    async with db.read() as s:
        g = await s.get(Group, gid)
        assert g is not None and (g.status, g.paid_count, g.seats_taken) == ("succeeded", 2, 2)
        paid = await s.scalar(
            select(func.count())
            .select_from(GroupMember)
            .where(GroupMember.group_id == gid, GroupMember.status == "paid")
        )
        assert paid == 2
        assert await views.seat_invariant(s) == []
        assert await s.scalar(select(GroupPool.units_left).where(GroupPool.activity_id == act["id"])) == 8
    assert await _events(db, "GroupSucceeded") == 1
    await run_jobs(db)
    async with db.read() as s:
        assert await views.seat_invariant(s) == []
        assert (await s.get(Group, gid)).paid_count == 2  # type: ignore[union-attr]
    assert await _events(db, "GroupSucceeded") == 1


async def _someone_waits_on_a_lock(db) -> bool:
    async with db.read() as s:
        n = await s.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(n)


async def test_a_payment_confirmed_while_the_group_expires_does_not_deadlock_with_the_timer(client, db):
    """A confirmation holds its order's lock and then (the hook) takes the group's row. The expiry timer
    must not hold the group's row while it waits for such an order, or each waits for the other."""
    if db.is_sqlite:
        pytest.skip("SQLite runs one writing transaction at a time: nothing to interleave")
    boss = await admin(client, db)
    p = await product(client, boss, stock=50)
    act = await make_activity(client, boss, p, group_size=3, duration_minutes=5, pay_minutes=15)
    sku = act["skus"][0]["sku_id"]
    leader, first, second = [await shopper(client, c) for c in ("hook-exp-l", "hook-exp-1", "hook-exp-2")]
    r = await open_group(client, leader, act)
    gid = r.json()["group_id"]
    await _pay_by_notification(client, leader, r.json()["order"]["id"])
    first_order = (await join(client, first, gid, sku)).json()["order"]["id"]
    second_order = (await join(client, second, gid, sku)).json()["order"]["id"]
    headers, body = _notification(*(await _start_payment(client, second, second_order)))
    gw = get_gateway("sandbox")
    note = gw.parse_notification({k.lower(): v for k, v in headers.items()}, body)
    clock.advance(5 * 60 + 1)

    async def expire() -> str:
        async with db.tx() as s:
            return await lifecycle.expire_group(s, group_id=gid)

    async with db.tx() as s:
        # The second member's confirmation has taken its order's lock when the timer fires.
        await order_service.lock_order(s, order_id=second_order)
        timer = asyncio.create_task(expire())
        for _ in range(200):
            if await _someone_waits_on_a_lock(db) or timer.done():
                break
            await asyncio.sleep(0.05)
        assert not timer.done()  # the timer waits for the order this confirmation holds
        assert await payment_service.apply_notification(s, gateway="sandbox", note=note) == "applied"
    assert await timer == "failed"  # two of three seats paid at the deadline

    async with db.read() as s:
        kinds = dict((await s.execute(select(Refund.order_id, Refund.kind))).all())
        # The first member never paid and was cancelled; the second paid in time and is refunded in full.
        assert (await s.get(Order, first_order)).status == "cancelled"  # type: ignore[union-attr]
        assert kinds.get(second_order) == "system"
        assert await views.seat_invariant(s) == []
