"""Sign-in (10 taps at once sign in once; the streak shown before today's sign-in; cycling never pays more),
the expiry job run twice expires once, adjustments (20 at once add exactly; bad input changes nothing),
group leader rewards once per group, multipliers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fissionmall.core import clock, jobs
from fissionmall.points import earning, expiry, rules, signin
from fissionmall.points.schemas import RulesUpdate, StreakStep
from tests.helpers import admin, order, pay, product, run_jobs
from tests.points.helpers import balance_and_sum, customer, set_rules

DAY = 86400


async def test_ten_taps_at_once_sign_in_one_day(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss)
    h, cid = await customer(client)
    rs = await asyncio.gather(*(client.post("/api/v1/points/sign-in", headers=h) for _ in range(10)))
    assert all(r.status_code == 200 for r in rs), [r.text for r in rs]
    assert sorted(r.json()["granted"] for r in rs) == [0] * 9 + [5]
    assert await balance_and_sum(db, cid) == (5, 5)
    cal = (await client.get("/api/v1/points/sign-in", headers=h)).json()
    assert cal["signed_today"] and cal["streak"] == 1 and len(cal["days"]) == 1


async def test_the_streak_is_shown_before_today_and_grows(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss)
    h, _ = await customer(client)
    got = []
    for _ in range(3):
        got.append((await client.post("/api/v1/points/sign-in", headers=h)).json())
        clock.advance(DAY)
    cal = (await client.get("/api/v1/points/sign-in", headers=h)).json()
    assert not cal["signed_today"] and cal["streak"] == 3  # not 0 before today's sign-in (CRMEB showed 0)
    assert cal["today_points"] == 5 + 2
    assert cal["tomorrow_points"] == 5 + 2  # day 5 of the streak, once today (day 4) is signed
    assert [g["streak"] for g in got] == [1, 2, 3] and [g["granted"] for g in got] == [5, 5, 7]
    clock.advance(DAY)  # a day missed
    cal = (await client.get("/api/v1/points/sign-in", headers=h)).json()
    assert cal["streak"] == 0


def test_breaking_a_streak_never_pays_more_than_keeping_it():
    r = RulesUpdate(enabled=True, streak_bonus=[StreakStep(day=3, points=2), StreakStep(day=7, points=20)])

    def total(pattern: str) -> int:  # "1" signed, "0" missed
        streak = out = 0
        for ch in pattern:
            streak = streak + 1 if ch == "1" else 0
            out += signin.day_points(r, streak) if ch == "1" else 0
        return out

    keep = total("1" * 30)
    for cut in range(1, 30):  # cycling: break once anywhere (and sign the day after)
        assert total("1" * cut + "0" + "1" * (29 - cut)) < keep
    assert total("1111111" + "0" + "1111111" + "0" + "1" * 14) < keep


async def test_bad_streak_tables_and_units_are_refused(client, db):
    boss = await admin(client, db)
    for over, code in (
        ({"streak_bonus": [{"day": 3, "points": 9}, {"day": 7, "points": 2}]}, "STREAK_BONUS_DECREASING"),
        ({"streak_bonus": [{"day": 3, "points": 1}, {"day": 3, "points": 2}]}, "STREAK_DAY_DUPLICATE"),
        ({"spend_points_per_yuan": 300, "spend_unit": 100}, "UNIT_INEXACT"),
    ):
        r = await client.put("/api/admin/v1/points/rules", json={"enabled": True, **over}, headers=boss)
        assert r.status_code == 400 and r.json()["error"]["code"] == code, r.text
    assert (await client.get("/api/admin/v1/points/rules", headers=boss)).json()["enabled"] is False


async def test_expiry_runs_twice_and_expires_once(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss)
    h, cid = await customer(client)
    r = await client.post(
        f"/api/admin/v1/customers/{cid}/points-adjustments", json={"delta": 300, "reason": "补偿"}, headers=boss
    )
    assert r.status_code == 201, r.text
    async with db.tx() as s:  # some of it spent
        from fissionmall.points import ledger

        await ledger.spend(s, customer_id=cid, points=100, kind="spend", ref="o1")
    deadline = rules.year_end_after_next(clock.now(), expiry.shop_tz())
    async with db.tx() as s:
        assert await expiry.run_expiry(s, at=deadline.replace(year=deadline.year - 1)) == 0  # not yet
    for _ in range(2):
        async with db.tx() as s:
            n = await expiry.run_expiry(s, at=deadline)
        assert n in (200, 0)
    assert await balance_and_sum(db, cid) == (0, 0)
    ledger_rows = (await client.get("/api/v1/points/ledger", headers=h)).json()["items"]
    assert [e["kind"] for e in ledger_rows].count("expire") == 1
    async with db.read() as s:
        assert (
            await s.scalar(__import__("sqlalchemy").select(jobs.Job.id).where(jobs.Job.handler == expiry.HANDLER))
            is not None
        )


async def test_20_concurrent_adjustments_add_exactly_and_bad_ones_change_nothing(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss)
    _, cid = await customer(client)
    url = f"/api/admin/v1/customers/{cid}/points-adjustments"
    rs = await asyncio.gather(
        *(client.post(url, json={"delta": 100, "reason": "活动赠送"}, headers=boss) for _ in range(20))
    )
    assert all(r.status_code == 201 for r in rs)
    assert await balance_and_sum(db, cid) == (2000, 2000)
    for body, code in (
        ({"delta": 100, "reason": "  "}, "REASON_REQUIRED"),
        ({"delta": 100}, "REASON_REQUIRED"),
        ({"delta": 0, "reason": "x"}, "DELTA_ZERO"),
        ({"delta": -2001, "reason": "扣错了"}, "ADJUSTMENT_BELOW_ZERO"),
    ):
        r = await client.post(url, json=body, headers=boss)
        assert 400 <= r.status_code < 500 and r.json()["error"]["code"] == code, r.text
    r = await client.post(
        "/api/admin/v1/customers/999999/points-adjustments", json={"delta": 1, "reason": "x"}, headers=boss
    )
    assert r.status_code == 404
    assert await balance_and_sum(db, cid) == (2000, 2000)
    r = await client.post(url, json={"delta": -2000, "reason": "清零"}, headers=boss)
    assert r.status_code == 201 and r.json()["balance"] == 0
    finance = await admin(client, db, role="finance")
    r = await client.post(url, json={"delta": 5, "reason": "x"}, headers=finance)
    assert r.status_code == 403


async def test_group_leader_reward_once_per_group(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss, leader_points=30)
    _, cid = await customer(client)
    for _ in range(2):
        async with db.tx() as s:
            await jobs.publish(s, "GroupLeaderRewarded", {"group_id": 9, "leader_id": cid, "points": 0})
        await run_jobs(db)
    assert await balance_and_sum(db, cid) == (30, 30)


async def test_a_multiplier_doubles_earnings_and_a_redelivery_grants_once(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss)
    p = await product(client, boss, prices=(9950,))

    async def double(s, *, customer_id: int, at: datetime) -> int:
        assert at.tzinfo is UTC or at.utcoffset() is not None
        return 20000

    earning.register_multiplier(double)
    try:
        h, cid = await customer(client)
        r = await order(client, h, [{"sku_id": p["skus"][0]["id"], "qty": 1}])
        await pay(client, h, r.json()["id"])
        await run_jobs(db)
        async with db.tx() as s:
            await earning.earn_for_order(s, order_id=r.json()["id"])  # delivered again
    finally:
        earning.unregister_multiplier(double)
    assert await balance_and_sum(db, cid) == (199, 199)  # floor(99.5 元 × 1 × 2)
    me = (await client.get("/api/v1/me", headers=h)).json()
    assert me["points"] == 199
