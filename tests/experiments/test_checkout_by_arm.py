"""The checkout really prices by arm, over HTTP: 满100减20 for one arm, 买2送1 for the other; the product
page shows neither to a page that knows no shopper; keeping the winner gives its plan to everyone."""

from __future__ import annotations

from sqlalchemy import select

from fissionmall.analytics.models import AnalyticsEvent
from fissionmall.experiments.models import Exposure
from fissionmall.promotions.models import Promotion
from tests.experiments.helpers import body, experiment, shoppers_by_arm
from tests.helpers import admin, order, pay, product, run_jobs
from tests.pricing.helpers import ADMIN, iso, promotion


async def _shop(client, db):
    boss = await admin(client, db)
    tea = await product(client, boss, prices=(6000,), stock=100, title="茶叶")
    sku = tea["skus"][0]["id"]
    minus = await promotion(
        client, boss, kind="full_reduction", name="满100减20", tiers=[{"threshold": 10000, "amount_fen": 2000}]
    )
    gift = await promotion(
        client, boss, kind="gift", name="买2送1", basis="count", threshold=2, gift_sku_id=sku, gift_qty=1, gift_stock=50
    )
    return boss, tea, sku, minus, gift


def _kinds(preview: dict) -> list[tuple[str, int]]:
    return [(s["kind"], s["amount_fen"]) for s in preview["steps"]]


async def test_each_arm_is_priced_its_own_plan_and_exposed_once(client, db):
    boss, tea, sku, minus, gift = await _shop(client, db)
    exp = await experiment(client, boss, **body([[minus["id"]], [gift["id"]]], product_id=tea["id"]))
    (a,), (b,) = await shoppers_by_arm(client, exp)
    items = [{"sku_id": sku, "qty": 2}]

    qa = (await client.post("/api/v1/checkout/preview", json={"items": items}, headers=a)).json()
    qb = (await client.post("/api/v1/checkout/preview", json={"items": items}, headers=b)).json()
    assert ("reduction", -2000) in _kinds(qa) and not any(k == "gift" for k, _ in _kinds(qa))
    assert not any(k == "reduction" for k, _ in _kinds(qb)), qb
    assert len(qb["lines"]) == 2 and qb["lines"][1]["payable_fen"] == 0  # the free third tea
    assert qa["payable_fen"] == 12000 - 2000 + qa["shipping_fen"]
    assert qb["payable_fen"] == 12000 + qb["shipping_fen"]

    # Orders are priced as previewed; a second preview and the order add no second exposure.
    await client.post("/api/v1/checkout/preview", json={"items": items}, headers=a)
    ra, rb = await order(client, a, items), await order(client, b, items)
    assert ra.status_code == rb.status_code == 201, (ra.text, rb.text)
    assert ra.json()["payable_fen"] == qa["payable_fen"] and rb.json()["payable_fen"] == qb["payable_fen"]
    await pay(client, a, ra.json()["id"])
    await run_jobs(db)
    async with db.read() as s:
        rows = (await s.execute(select(Exposure.customer_id, Exposure.arm_id))).all()
    assert sorted(r.arm_id for r in rows) == sorted(arm["id"] for arm in exp["arms"])
    # The data centre's order events carry the arm (a's order only: b never paid).
    arm_of = {r.customer_id: r.arm_id for r in rows}
    a_id = (await client.get("/api/v1/me", headers=a)).json()["id"]
    names = {arm["id"]: arm["name"] for arm in exp["arms"]}
    async with db.read() as s:
        got = (
            await s.execute(
                select(AnalyticsEvent.kind, AnalyticsEvent.customer_id, AnalyticsEvent.variant).where(
                    AnalyticsEvent.kind.in_(("order_created", "order_paid"))
                )
            )
        ).all()
    assert {(k, v) for k, c, v in got if c == a_id} == {
        ("order_created", f"{exp['id']}:{names[arm_of[a_id]]}"),
        ("order_paid", f"{exp['id']}:{names[arm_of[a_id]]}"),
    }
    # …and so do the shop's own events of an exposed shopper.
    r = await client.post("/api/v1/events", json={"type": "page_view", "page": f"product:{tea['id']}"}, headers=a)
    assert r.status_code == 202, r.text
    async with db.read() as s:
        seen = await s.scalar(select(AnalyticsEvent.variant).where(AnalyticsEvent.kind == "page_view"))
    assert seen == f"{exp['id']}:{names[arm_of[a_id]]}"

    # The product page (no shopper) shows neither arm's promotion; the promotion list says the same.
    page = (await client.get(f"/api/v1/products/{tea['id']}")).json()
    assert page["promotions"] == []
    assert (await client.get("/api/v1/promotions", params={"product_id": tea["id"]})).json() == []

    res = (await client.get(f"{ADMIN}/experiments/{exp['id']}/results", headers=boss)).json()
    by_id = {r["id"]: r for r in res["arms"]}
    arm_a = exp["arms"][0]["id"]
    assert by_id[arm_a]["visitors"] == 1 and by_id[arm_a]["conversions"] == 1
    assert by_id[arm_a]["revenue_fen"] == qa["payable_fen"]
    assert res["verdict"] == "insufficient_sample" and res["winner_arm_id"] is None

    # Keep 买2送1: the test ends, shopper A now gets the gift too, 满100减20 is paused.
    r = await client.post(
        f"{ADMIN}/experiments/{exp['id']}/keep-winner", json={"arm_id": exp["arms"][1]["id"]}, headers=boss
    )
    assert r.status_code == 200 and r.json()["status"] == "ended", r.text
    qa2 = (await client.post("/api/v1/checkout/preview", json={"items": items}, headers=a)).json()
    assert len(qa2["lines"]) == 2 and not any(k == "reduction" for k, _ in _kinds(qa2))
    async with db.read() as s:
        assert (await s.get(Promotion, minus["id"])).status == "paused"
    assert [p["id"] for p in (await client.get(f"/api/v1/products/{tea['id']}")).json()["promotions"]] == [gift["id"]]
    r = await client.post(
        f"{ADMIN}/experiments/{exp['id']}/keep-winner", json={"arm_id": exp["arms"][1]["id"]}, headers=boss
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "EXPERIMENT_ENDED"


async def test_outside_the_test_shoppers_see_the_control_and_coverage_never_moves_anyone(client, db):
    boss, tea, sku, minus, gift = await _shop(client, db)
    b = body([[minus["id"]], [gift["id"]]], coverage_bp=0)
    b["arms"][0]["control"] = True
    exp = await experiment(client, boss, **b)
    # Coverage 0: nobody is in the test; everyone gets the control's 满100减20, nobody is exposed.
    from tests.helpers import shopper

    me = await shopper(client, "outsider")
    q = (await client.post("/api/v1/checkout/preview", json={"items": [{"sku_id": sku, "qty": 2}]}, headers=me)).json()
    assert ("reduction", -2000) in _kinds(q) and len(q["lines"]) == 1
    async with db.read() as s:
        assert (await s.execute(select(Exposure))).first() is None
    page = (await client.get(f"/api/v1/products/{tea['id']}")).json()
    assert [p["id"] for p in page["promotions"]] == [minus["id"]]
    # Widening the coverage: arms do not change; then the arms cannot be changed once someone was exposed.
    r = await client.put(f"{ADMIN}/experiments/{exp['id']}", json={"coverage_bp": 10000}, headers=boss)
    assert r.status_code == 200, r.text
    (x,), (y,) = await shoppers_by_arm(client, r.json(), prefix="w")
    two = {"items": [{"sku_id": sku, "qty": 2}]}
    q = (await client.post("/api/v1/checkout/preview", json=two, headers=y)).json()
    assert len(q["lines"]) == 2 and not any(k == "reduction" for k, _ in _kinds(q))
    q = (await client.post("/api/v1/checkout/preview", json=two, headers=x)).json()
    assert ("reduction", -2000) in _kinds(q) and len(q["lines"]) == 1
    r = await client.put(f"{ADMIN}/experiments/{exp['id']}", json={"arms": b["arms"]}, headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "EXPERIMENT_STARTED"
    r = await client.delete(f"{ADMIN}/experiments/{exp['id']}", headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "EXPERIMENT_IN_USE"


async def test_before_the_start_everyone_sees_what_outsiders_see_and_nobody_is_exposed(client, db):
    boss, _tea, sku, minus, gift = await _shop(client, db)
    b = body([[minus["id"]], [gift["id"]]], starts_at=iso(1), ends_at=iso(8))
    b["arms"][0]["control"] = True
    exp = await experiment(client, boss, **b)
    assert exp["running"] is False
    _, (in_b,) = await shoppers_by_arm(client, exp)
    q = (
        await client.post("/api/v1/checkout/preview", json={"items": [{"sku_id": sku, "qty": 2}]}, headers=in_b)
    ).json()
    assert ("reduction", -2000) in _kinds(q) and len(q["lines"]) == 1
    async with db.read() as s:
        assert (await s.execute(select(Exposure))).first() is None
