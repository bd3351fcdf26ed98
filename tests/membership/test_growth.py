"""Growth value: once per order, refunds take back exactly the returned goods, the level moves up on payment
and down by the daily job as old growth leaves the window; concurrent grants add up exactly."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from fissionmall.core import clock
from fissionmall.membership import growth
from fissionmall.membership.models import GrowthEntry, MemberProfile
from tests.helpers import admin, product, run_jobs, shopper
from tests.membership.helpers import levels, me_level, paid_order


async def _entries(db, customer_id=None):
    async with db.read() as s:
        q = select(GrowthEntry.kind, GrowthEntry.amount_fen).order_by(GrowthEntry.id)
        if customer_id is not None:
            q = q.where(GrowthEntry.customer_id == customer_id)
        return [tuple(r) for r in (await s.execute(q)).all()]


async def _refund(client, db, boss, me, o, line, qty):
    r = await client.post(
        f"/api/v1/orders/{o['id']}/refunds",
        json={"lines": [{"line_id": line["id"], "qty": qty}], "reason": "x"},
        headers=me,
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/admin/v1/refunds/{r.json()['id']}/approve", headers=boss)
    assert r.status_code == 200, r.text
    await run_jobs(db)
    await run_jobs(db)


async def test_below_every_threshold_is_the_base_level_and_payment_upgrades_at_once(client, db):
    boss = await admin(client, db)
    await levels(client, boss)
    me = await shopper(client, "alice")
    assert (await me_level(client, me))["level"] == "普通会员"
    assert (await client.get("/api/v1/me", headers=me)).json()["level"] == "普通会员"
    cheap = (await product(client, boss, prices=(50_000,), title="茶具"))["skus"][0]["id"]
    dear = (await product(client, boss, prices=(200_000,), title="茶台"))["skus"][0]["id"]
    await paid_order(client, db, me, cheap)  # 500 元: below 白银's 1000
    got = await me_level(client, me)
    assert got["level"] == "普通会员" and got["growth_fen"] == 50_000
    assert got["next_level"] == "白银会员" and got["next_at_fen"] == 100_000 and got["to_next_fen"] == 50_000
    await paid_order(client, db, me, dear, qty=2)  # +4000 元 = 4500: 白银, not yet 黄金 (5000)
    got = await me_level(client, me)
    assert got["level"] == "白银会员" and got["growth_fen"] == 450_000 and got["is_member"]
    await paid_order(client, db, me, cheap)  # 5000: 黄金
    got = await me_level(client, me)
    assert got["level"] == "黄金会员" and got["benefits"][0] == "全场商品9折"
    assert (await client.get("/api/v1/me", headers=me)).json()["level"] == "黄金会员"
    assert [lv["name"] for lv in got["levels"]] == ["普通会员", "白银会员", "黄金会员", "钻石会员"]


async def test_an_order_paid_event_delivered_again_grows_once(client, db):
    boss = await admin(client, db)
    me = await shopper(client, "alice")
    sku = (await product(client, boss, prices=(120_000,)))["skus"][0]["id"]
    o = await paid_order(client, db, me, sku)
    lines = [(ln["id"], ln["payable_fen"] - ln["shipping_fen"]) for ln in o["lines"]]
    async with db.tx() as s:
        cid = (await s.scalars(select(MemberProfile.customer_id))).one()
        again = await growth.grant_order(s, order_id=o["id"], customer_id=cid, lines=lines, at=clock.now())
    assert again == 0
    assert await _entries(db) == [("order", 120_000)]


async def test_a_refund_takes_back_exactly_the_refunded_goods_and_can_drop_the_level(client, db):
    boss = await admin(client, db)
    me = await shopper(client, "alice")
    sku = (await product(client, boss, prices=(35_000,)))["skus"][0]["id"]
    o = await paid_order(client, db, me, sku, qty=3)  # 1050 元: 白银
    assert (await me_level(client, me))["level"] == "白银会员"
    line = o["lines"][0]
    await _refund(client, db, boss, me, o, line, 1)
    got = await me_level(client, me)
    assert got["growth_fen"] == 70_000 and got["level"] == "普通会员"
    await _refund(client, db, boss, me, o, line, 2)  # the last refund also carries the shipping: no growth
    assert await _entries(db) == [("order", 105_000), ("refund", -35_000), ("refund", -70_000)]
    assert (await me_level(client, me))["growth_fen"] == 0


async def test_the_daily_job_downgrades_as_growth_leaves_the_window_and_is_idempotent(client, db):
    boss = await admin(client, db)
    me = await shopper(client, "alice")
    sku = (await product(client, boss, prices=(120_000,)))["skus"][0]["id"]
    small = (await product(client, boss, prices=(10_000,), title="小样"))["skus"][0]["id"]
    await paid_order(client, db, me, sku)
    assert (await me_level(client, me))["level"] == "白银会员"
    clock.advance(200 * 86400)
    me = await shopper(client, "alice")
    await paid_order(client, db, me, small)
    clock.advance(200 * 86400)
    me = await shopper(client, "alice")  # the first order is 400 days old: out of the 12-month window
    async with db.tx() as s:
        assert await growth.recompute_all(s, at=clock.now()) == 1
    async with db.tx() as s:
        assert await growth.recompute_all(s, at=clock.now()) == 0
    got = await me_level(client, me)
    assert got["level"] == "普通会员" and got["growth_fen"] == 10_000


async def test_the_daily_job_runs_through_the_dev_clock(client, db):
    boss = await admin(client, db)
    me = await shopper(client, "alice")
    sku = (await product(client, boss, prices=(120_000,)))["skus"][0]["id"]
    await paid_order(client, db, me, sku)
    r = await client.post("/api/admin/v1/dev/clock", json={"advance_seconds": 366 * 86400}, headers=boss)
    assert r.status_code == 200, r.text
    await run_jobs(db)
    async with db.read() as s:
        assert (await s.scalars(select(MemberProfile.level_id))).one() is None
    assert (await me_level(client, await shopper(client, "alice")))["level"] == "普通会员"


async def test_concurrent_growth_grants_add_up_exactly(client, db):
    boss = await admin(client, db)
    await levels(client, boss)
    await shopper(client, "alice")
    async with db.read() as s:
        from fissionmall.accounts.models import Customer

        cid = (await s.scalars(select(Customer.id))).one()
    n = 10

    async def grant(i: int) -> None:
        async with db.tx() as s:
            await growth.grant_order(s, order_id=1000 + i, customer_id=cid, lines=[(i + 1, 10_000)], at=clock.now())

    await asyncio.gather(*(grant(i) for i in range(n)))
    async with db.read() as s:
        total = await s.scalar(select(func.sum(GrowthEntry.amount_fen)).where(GrowthEntry.customer_id == cid))
        p = await s.get(MemberProfile, cid)
        assert total == n * 10_000 and p is not None and p.total_fen == n * 10_000
    assert (await me_level(client, await shopper(client, "alice")))["level"] == "白银会员"


async def test_a_growth_change_that_crosses_no_threshold_keeps_the_level(client, db):
    boss = await admin(client, db)
    me = await shopper(client, "alice")
    sku = (await product(client, boss, prices=(150_000,)))["skus"][0]["id"]
    o = await paid_order(client, db, me, sku, qty=1)
    async with db.read() as s:
        before = (await s.scalars(select(MemberProfile))).one()
        changed_at = before.level_changed_at
    await paid_order(client, db, me, sku)  # 3000 元: still 白银
    _ = o
    async with db.read() as s:
        after = (await s.scalars(select(MemberProfile))).one()
    assert after.level_id == before.level_id and after.level_changed_at == changed_at
    assert (await me_level(client, me))["level"] == "白银会员"
