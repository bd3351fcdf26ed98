"""Commissions end to end: who earns (two levels, never three), on what, and what a refund takes back."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from fissionmall.core import clock, jobs
from fissionmall.distribution.models import Commission, Statement
from tests.distribution.helpers import (
    buy,
    complete,
    configure,
    count_commissions,
    customer_id,
    distributor,
    ledger_rows,
    login,
    me,
    settle_now,
    settle_period,
)
from tests.helpers import admin, order, product, run_jobs


async def test_depth_pays_two_levels_and_never_the_third(client, db):
    boss = await admin(client, db)
    await configure(client, boss)
    sku = (await product(client, boss, prices=(10000,)))["skus"][0]["id"]
    a, code_a = await distributor(client, db, "a")
    b, code_b = await distributor(client, db, "b", ref=code_a)
    c, code_c = await distributor(client, db, "c", ref=code_b)
    d = await login(client, "d", ref=code_c)
    await run_jobs(db)

    o = await buy(client, db, d, [{"sku_id": sku, "qty": 1}])

    ids = {k: await customer_id(client, h) for k, h in {"a": a, "b": b, "c": c}.items()}
    line = o["lines"][0]["id"]
    assert await ledger_rows(db) == [
        (ids["c"], line, 1, "accrue", "frozen", 1000),
        (ids["b"], line, 2, "accrue", "frozen", 500),
    ]
    c_me = await me(client, c)
    assert c_me["pending_fen"] == 1000
    assert [(o["order_id"], o["level"], o["bind_origin"]) for o in c_me["orders"]] == [(o["id"], 1, "registration")]
    assert (await me(client, b))["pending_fen"] == 500
    assert (await me(client, a))["pending_fen"] == 0
    assert (await me(client, b))["level1_count"] == 1 and (await me(client, b))["level2_count"] == 1
    # Each earner is told once (for a subscribe message), with what they earned.
    from sqlalchemy import select

    from fissionmall.core.jobs import Event

    async with db.read() as s:
        told = (await s.scalars(select(Event.payload).where(Event.type == "CommissionAccrued"))).all()
    assert sorted((p["customer_id"], p["level"], p["amount_fen"]) for p in told) == [
        (ids["b"], 2, 500),
        (ids["c"], 1, 1000),
    ]
    assert (await me(client, a))["level2_count"] == 1


async def test_commission_is_on_goods_paid_never_on_shipping_and_levels_one_only_when_configured(client, db):
    boss = await admin(client, db)
    await configure(client, boss, levels=1, level1_rate_bp=1500, level2_rate_bp=0)
    sku = (await product(client, boss, prices=(3333,)))["skus"][0]["id"]
    _, code_a = await distributor(client, db, "a")
    _b, code_b = await distributor(client, db, "b", ref=code_a)
    c = await login(client, "c", ref=code_b)
    await run_jobs(db)
    o = await buy(client, db, c, [{"sku_id": sku, "qty": 3}])
    assert o["paid_fen"] > 9999  # shipping was paid too
    rows = await ledger_rows(db)
    assert [(r[2], r[5]) for r in rows] == [(1, 1500)]  # 9999 × 15% = 1499.85 → 1500; no level 2


async def test_self_purchase_off_earns_the_buyer_nothing_and_on_pays_them(client, db):
    boss = await admin(client, db)
    await configure(client, boss, self_purchase_commission=False)
    sku = (await product(client, boss, prices=(10000,)))["skus"][0]["id"]
    up, code_up = await distributor(client, db, "up")
    me_h, my_code = await distributor(client, db, "me", ref=code_up)
    r = await client.post("/api/v1/distribution/bind", json={"ref": my_code}, headers=me_h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "REF_SELF"

    await buy(client, db, me_h, [{"sku_id": sku, "qty": 1}])
    mine = await customer_id(client, me_h)
    assert await count_commissions(db, distributor_customer_id=mine) == 0
    assert (await me(client, up))["pending_fen"] == 1000  # the buyer's own upline earns as usual

    await configure(client, boss, self_purchase_commission=True)
    await buy(client, db, me_h, [{"sku_id": sku, "qty": 1}])
    assert (await me(client, me_h))["pending_fen"] == 1000
    assert (await me(client, up))["pending_fen"] == 1000 + 500


async def _two_line_order(client, db):
    boss = await admin(client, db)
    await configure(client, boss, frozen_days=7)
    p = await product(client, boss, prices=(10000, 5000))
    skus = [k["id"] for k in p["skus"]]
    _, code_b = await distributor(client, db, "b")
    c, code_c = await distributor(client, db, "c", ref=code_b)
    d = await login(client, "d", ref=code_c)
    await run_jobs(db)
    o = await buy(client, db, d, [{"sku_id": skus[0], "qty": 1}, {"sku_id": skus[1], "qty": 1}])
    return boss, d, o, {"b": await customer_id(client, (await login(client, "b"))), "c": await customer_id(client, c)}


async def _deliver_line_refund(db, o, line_index: int, refund_id: int = 9001) -> None:
    """The OrderLineRefunded contract event (the platform's after-sales closes at completion, so a refund of
    an already settled line arrives as this event, e.g. from a system refund)."""
    ln = o["lines"][line_index]
    async with db.tx() as s:
        await jobs.publish(
            s,
            "OrderLineRefunded",
            {
                "order_id": o["id"],
                "refund_id": refund_id,
                "line_id": ln["id"],
                "qty": ln["qty"],
                "amount_fen": ln["payable_fen"],
                "customer_id": 0,
                "source": "normal",
            },
        )
    await run_jobs(db)


async def test_refund_of_a_line_after_it_became_available_reverses_exactly_that_line_on_both_levels(client, db):
    boss, d, o, _ids = await _two_line_order(client, db)
    await complete(client, db, boss, d, o["id"])
    await settle_now(db)
    assert (await me(client, await login(client, "c")))["available_fen"] == 1000 + 500
    assert (await me(client, await login(client, "b")))["available_fen"] == 500 + 250

    await _deliver_line_refund(db, o, 0)
    await _deliver_line_refund(db, o, 0)  # the same refund delivered again changes nothing

    c_me, b_me = await me(client, await login(client, "c")), await me(client, await login(client, "b"))
    assert c_me["available_fen"] == 500 and b_me["available_fen"] == 250
    assert c_me["pending_fen"] == 0 and b_me["pending_fen"] == 0
    line0 = o["lines"][0]["id"]
    async with db.read() as s:
        rev = (
            await s.execute(
                select(Commission.level, Commission.bucket, Commission.amount_fen)
                .where(Commission.kind == "reverse", Commission.order_line_id == line0)
                .order_by(Commission.level)
            )
        ).all()
    assert [tuple(r) for r in rev] == [(1, "available", -1000), (2, "available", -500)]


async def test_refund_of_a_frozen_line_voids_it_and_a_cancelled_order_pays_nothing(client, db):
    boss, d, o, _ids = await _two_line_order(client, db)
    line1 = o["lines"][1]
    r = await client.post(
        f"/api/v1/orders/{o['id']}/refunds",
        json={"lines": [{"line_id": line1["id"], "qty": 1}], "reason": "x"},
        headers=d,
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/admin/v1/refunds/{r.json()['id']}/approve", headers=boss)
    assert r.status_code == 200, r.text
    await run_jobs(db)
    await run_jobs(db)
    c_me = await me(client, await login(client, "c"))
    assert c_me["pending_fen"] == 1000 and c_me["available_fen"] == 0
    assert (await me(client, await login(client, "b")))["pending_fen"] == 500

    sku = o["lines"][0]["sku_id"]
    before = await count_commissions(db)
    oid = (await order(client, d, [{"sku_id": sku, "qty": 1}])).json()["id"]
    assert (await client.post(f"/api/v1/orders/{oid}/cancel", headers=d)).status_code == 200
    await run_jobs(db)
    assert await count_commissions(db) == before


async def test_order_paid_delivered_five_times_at_once_accrues_once_per_line(client, db):
    boss = await admin(client, db)
    await configure(client, boss, approval="auto")
    p = await product(client, boss, prices=(10000, 2000))
    _, code_b = await distributor(client, db, "b")
    _, code_c = await distributor(client, db, "c", ref=code_b)
    d = await login(client, "d", ref=code_c)
    await run_jobs(db)
    items = [{"sku_id": k["id"], "qty": 2} for k in p["skus"]]
    oid = (await order(client, d, items)).json()["id"]
    from tests.helpers import pay

    await pay(client, d, oid)
    async with db.tx() as s:
        original = (await s.scalars(select(jobs.Job).where(jobs.Job.handler == "distribution.accrue"))).one()
        for _ in range(4):
            s.add(
                jobs.Job(
                    handler=original.handler,
                    event_id=original.event_id,
                    payload=original.payload,
                    due_at=original.due_at,
                    status="pending",
                    attempts=0,
                    created_at=clock.now(),
                )
            )

    await asyncio.gather(*(jobs.run_due(db, batch=1) for _ in range(5)))

    assert await count_commissions(db, kind="accrue") == 4  # 2 lines × 2 levels
    async with db.read() as s:
        states = (await s.scalars(select(jobs.Job.status).where(jobs.Job.handler == "distribution.accrue"))).all()
    assert sorted(states) == ["done"] * 5


async def test_the_monthly_settlement_run_twice_settles_once(client, db):
    boss, d, o, ids = await _two_line_order(client, db)
    await complete(client, db, boss, d, o["id"])
    clock.advance(8 * 86400)
    first, second = await asyncio.gather(settle_period(db, "2099-01"), settle_period(db, "2099-01"))
    assert [x is None for x in (first, second)].count(True) == 1
    assert await settle_period(db, "2099-01") is None
    assert await count_commissions(db, kind="mature_in") == 4
    async with db.read() as s:
        stmts = (await s.scalars(select(Statement).where(Statement.period == "2099-01"))).all()
    assert sorted((st.distributor_customer_id, st.matured_fen) for st in stmts) == sorted(
        [(ids["c"], 1500), (ids["b"], 750)]
    )
    # A later month finds nothing more to mature.
    await settle_period(db, "2099-02")
    assert await count_commissions(db, kind="mature_in") == 4
