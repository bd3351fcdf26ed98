"""Points at checkout: the preview's usable maximum, bad input refused with nothing changed, the debit in the
order's transaction, cancel gives back, refunds give back and take back exactly the refunded units' points."""

from __future__ import annotations

import asyncio

from fissionmall.points import ledger
from tests.helpers import ADDRESS, admin, order, pay, product, run_jobs
from tests.points.helpers import balance_and_sum, customer, give, set_rules


async def _preview(client, h, items, points=None):
    body = {"items": items, "address": ADDRESS}
    if points is not None:
        body["points"] = points
    return await client.post("/api/v1/checkout/preview", json=body, headers=h)


async def test_preview_tells_the_usable_maximum_and_bad_points_are_refused(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss)
    p = await product(client, boss, prices=(10000,))  # 100 元
    h, cid = await customer(client)
    await give(db, cid, 8000)
    items = [{"sku_id": p["skus"][0]["id"], "qty": 1}]
    r = await _preview(client, h, items)
    assert r.status_code == 200, r.text
    info = r.json()["points"]
    assert info["usable_max"] == 5000 and info["usable_max_value_fen"] == 5000  # cap 50% of 100 元
    r = await _preview(client, h, items, points=3000)
    assert r.status_code == 200 and r.json()["payable_fen"] == r.json()["total_fen"]
    assert any(st["kind"] == "points" and st["amount_fen"] == -3000 for st in r.json()["steps"])
    for pts, code in ((150, "POINTS_NOT_WHOLE_UNIT"), (6000, "POINTS_ABOVE_CAP"), (9000, "POINTS_ABOVE_BALANCE")):
        r = await order(client, h, items, points=pts)
        assert r.status_code in (400, 409), r.text
        assert r.json()["error"]["code"] == code
    r = await order(client, h, items, points=-100)
    assert r.status_code == 422
    assert await balance_and_sum(db, cid) == (8000, 8000)


async def test_points_disabled_refuses_points(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss, enabled=False)
    p = await product(client, boss)
    h, cid = await customer(client)
    await give(db, cid, 500)
    r = await order(client, h, [{"sku_id": p["skus"][0]["id"], "qty": 1}], points=100)
    assert r.status_code == 409 and r.json()["error"]["code"] == "POINTS_DISABLED"


async def test_concurrent_orders_never_overspend(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss)
    p = await product(client, boss, prices=(10000,))
    h, cid = await customer(client)
    await give(db, cid, 1000)
    rs = await asyncio.gather(
        *(order(client, h, [{"sku_id": p["skus"][0]["id"], "qty": 1}], points=400) for _ in range(5))
    )
    assert sorted(r.status_code for r in rs).count(201) == 2, [r.text for r in rs]
    assert await balance_and_sum(db, cid) == (200, 200)


async def test_cancel_gives_back(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss)
    p = await product(client, boss, prices=(10000,))
    h, cid = await customer(client)
    await give(db, cid, 1000)
    r = await order(client, h, [{"sku_id": p["skus"][0]["id"], "qty": 1}], points=500)
    assert r.status_code == 201, r.text
    assert r.json()["payable_fen"] % 100 == 0  # 100 元 − 5 元 of points + shipping
    assert await balance_and_sum(db, cid) == (500, 500)
    r = await client.post(f"/api/v1/orders/{r.json()['id']}/cancel", headers=h)
    assert r.status_code == 200, r.text
    assert await balance_and_sum(db, cid) == (1000, 1000)


async def _refund(client, h, boss, db, order_id, line_id, qty):
    r = await client.post(
        f"/api/v1/orders/{order_id}/refunds",
        json={"lines": [{"line_id": line_id, "qty": qty}], "reason": "不想要了"},
        headers=h,
    )
    assert r.status_code in (200, 201), r.text
    r = await client.post(f"/api/admin/v1/refunds/{r.json()['id']}/approve", headers=boss)
    assert r.status_code == 200, r.text
    await run_jobs(db)


async def test_refunds_return_and_take_back_line_by_line(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss)
    p = await product(client, boss, prices=(10000, 3000))
    h, cid = await customer(client)
    await give(db, cid, 3000)
    items = [{"sku_id": p["skus"][0]["id"], "qty": 3}, {"sku_id": p["skus"][1]["id"], "qty": 1}]
    r = await order(client, h, items, points=3000)  # 30 元 of 330 元, split 300:30 → 2727 + 273 points
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    await pay(client, h, oid)
    await run_jobs(db)
    # paid 300 元 of goods: 300 points earned (1 per 元), split by what each line paid
    assert (await balance_and_sum(db, cid))[0] == 300
    got = (await client.get(f"/api/v1/orders/{oid}", headers=h)).json()
    big = next(ln for ln in got["lines"] if ln["qty"] == 3)
    await _refund(client, h, boss, db, oid, big["id"], 1)
    bal1 = (await balance_and_sum(db, cid))[0]
    # one of 3 units: a third of 2727 spent back (909), a third of its earned points taken back
    async with db.read() as s:
        from sqlalchemy import select

        from fissionmall.points.models import OrderLinePoints

        rows = {(r.line_id, r.kind): r for r in (await s.scalars(select(OrderLinePoints))).all()}
    spent, earned = rows[(big["id"], "spend")].points, rows[(big["id"], "earn")].points
    assert spent + rows[(next(x["id"] for x in got["lines"] if x["qty"] == 1), "spend")].points == 3000
    assert bal1 == 300 + spent // 3 - earned // 3
    await _refund(client, h, boss, db, oid, big["id"], 2)
    bal2, total = await balance_and_sum(db, cid)
    assert bal2 == total == 300 + spent - earned  # the last units close the line exactly


async def test_debt_policy_takes_back_spent_points_and_later_earnings_pay_first(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss)
    p = await product(client, boss, prices=(50000, 100))
    h, cid = await customer(client)
    r = await order(client, h, [{"sku_id": p["skus"][0]["id"], "qty": 1}])
    oid = r.json()["id"]
    await pay(client, h, oid)
    await run_jobs(db)
    assert (await balance_and_sum(db, cid))[0] == 500
    async with db.tx() as s:  # the earned points are spent elsewhere (e.g. the points mall)
        await ledger.spend(s, customer_id=cid, points=400, kind="redeem", ref="x")
    line = (await client.get(f"/api/v1/orders/{oid}", headers=h)).json()["lines"][0]
    await _refund(client, h, boss, db, oid, line["id"], 1)
    assert await balance_and_sum(db, cid) == (-400, -400)
    me = (await client.get("/api/v1/points", headers=h)).json()
    assert me["points"] == 0 and me["debt"] == 400
    r = await order(client, h, [{"sku_id": p["skus"][1]["id"], "qty": 1}], points=100)
    assert r.json()["error"]["code"] == "POINTS_ABOVE_BALANCE"
    await give(db, cid, 450, "later")
    assert (await client.get("/api/v1/points", headers=h)).json()["points"] == 50
