"""Coupons over HTTP: claims under concurrency, the order lifecycle, best choice, timers, the new-user pack."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from fissionmall.checkout import service as checkout
from fissionmall.checkout.plans import Plan, PlannedLine
from fissionmall.checkout.schemas import CheckoutRequest
from fissionmall.core import clock
from fissionmall.core.errors import AppError
from fissionmall.core.jobs import Event
from fissionmall.coupons.models import Coupon, CouponTemplate
from fissionmall.orders.models import Order
from fissionmall.orders.sources import register_source
from tests.authz import check_admin_matrix
from tests.helpers import ADDRESS, admin, order, pay, product, run_jobs, shopper
from tests.platform.test_bad_input import snapshot
from tests.pricing.helpers import ADMIN, claim, coupon_status, iso, preview, promotion, template

# (method, path template, body, permission the route needs, a role that lacks it)
ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
    ("GET", "/api/admin/v1/coupons/templates", None, "marketing.read", "finance"),
    (
        "POST",
        "/api/admin/v1/coupons/templates",
        {"name": "x", "kind": "amount", "amount_fen": 100, "valid_days": 1},
        "marketing",
        "finance",
    ),
    ("GET", "/api/admin/v1/coupons/templates/{template_id}", None, "marketing.read", "store_staff"),
    ("PUT", "/api/admin/v1/coupons/templates/{template_id}", {"status": "paused"}, "marketing", "finance"),
    ("DELETE", "/api/admin/v1/coupons/templates/{template_id}", None, "marketing", "finance"),
    ("POST", "/api/admin/v1/coupons/templates/{template_id}/issue", {"customer_ids": [1]}, "marketing", "finance"),
    ("GET", "/api/admin/v1/promotions", None, "marketing.read", "finance"),
    (
        "POST",
        "/api/admin/v1/promotions",
        {
            "kind": "free_shipping",
            "name": "包邮",
            "starts_at": "2026-01-01T00:00:00+08:00",
            "ends_at": "2027-01-01T00:00:00+08:00",
            "threshold": 100,
        },
        "marketing",
        "finance",
    ),
    ("GET", "/api/admin/v1/promotions/{promotion_id}", None, "marketing.read", "store_staff"),
    ("PUT", "/api/admin/v1/promotions/{promotion_id}", {"status": "paused"}, "marketing", "finance"),
    ("DELETE", "/api/admin/v1/promotions/{promotion_id}", None, "marketing", "finance"),
]


@pytest.fixture
async def shop(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(5000, 3000), stock=100, title="茶叶")
    other = await product(client, boss, prices=(1000,), stock=100, title="茶杯")
    me = await shopper(client, "alice")
    return {
        "boss": boss,
        "me": me,
        "a": p["skus"][0]["id"],
        "b": p["skus"][1]["id"],
        "cup": other["skus"][0]["id"],
        "product": p["id"],
        "cup_product": other["id"],
    }


async def test_100_concurrent_claims_of_a_10_coupon_template_issue_exactly_10(client, db, shop):
    t = await template(client, shop["boss"], total=10)
    buyers = await asyncio.gather(*(shopper(client, f"claimer{i}") for i in range(100)))

    results = await asyncio.gather(*(client.post(f"/api/v1/coupons/{t['id']}/claim", headers=h) for h in buyers))

    codes = Counter((r.status_code, r.json().get("error", {}).get("code")) for r in results)
    assert codes == {(201, None): 10, (409, "COUPON_SOLD_OUT"): 90}, codes
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Coupon)) == 10
        assert await s.scalar(select(CouponTemplate.issued).where(CouponTemplate.id == t["id"])) == 10


async def test_one_shopper_claiming_20_times_at_once_never_passes_the_per_user_limit(client, db, shop):
    t = await template(client, shop["boss"], total=100, per_user_limit=2)

    results = await asyncio.gather(
        *(client.post(f"/api/v1/coupons/{t['id']}/claim", headers=shop["me"]) for _ in range(20))
    )

    codes = Counter((r.status_code, r.json().get("error", {}).get("code")) for r in results)
    assert codes == {(201, None): 2, (409, "CLAIM_LIMIT_REACHED"): 18}, codes
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Coupon)) == 2
        assert await s.scalar(select(CouponTemplate.issued).where(CouponTemplate.id == t["id"])) == 2


async def test_coupon_centre_lists_what_i_can_claim_and_what_i_hold(client, shop):
    t = await template(client, shop["boss"], total=3)
    await template(client, shop["boss"], name="新人券", issue_mode="new_user")
    centre = (await client.get("/api/v1/coupons", headers=shop["me"])).json()
    assert [(c["id"], c["headline"], c["remaining"], c["can_claim"]) for c in centre] == [
        (t["id"], "满100减20元", 3, True)
    ]
    await claim(client, shop["me"], t["id"])
    centre = (await client.get("/api/v1/coupons", headers=shop["me"])).json()
    assert (centre[0]["claimed"], centre[0]["remaining"], centre[0]["can_claim"]) == (1, 2, False)


async def test_preview_picks_the_best_coupon_and_says_why_the_others_do_not_apply(client, shop):
    boss, me = shop["boss"], shop["me"]
    big = await template(client, boss, name="满100减20")
    small = await template(client, boss, name="无门槛5元", amount_fen=500, threshold_fen=0)
    far = await template(client, boss, name="满200减50", amount_fen=5000, threshold_fen=20_000)
    for t in (big, small, far):
        await claim(client, me, t["id"])
    r = await preview(client, me, [{"sku_id": shop["a"], "qty": 2}])  # 100 yuan
    body = r.json()
    assert r.status_code == 200, r.text
    assert body["coupon"]["name"] == "满100减20" and body["coupon"]["discount_fen"] == 2000
    assert [c["name"] for c in body["coupons_available"]] == ["满100减20", "无门槛5元"]
    assert [(c["name"], c["reason"]) for c in body["coupons_unavailable"]] == [("满200减50", "还差100元可用")]
    assert [(s["kind"], s["amount_fen"]) for s in body["steps"]] == [
        ("goods", 10_000),
        ("coupon", -2000),
        ("shipping", 800),
    ]
    assert body["payable_fen"] == 8800


async def test_a_coupon_is_locked_by_its_order_used_when_paid_and_released_when_cancelled(client, db, shop):
    """litemall #163: a cancelled order must give its coupon back."""
    boss, me = shop["boss"], shop["me"]
    t = await template(client, boss, per_user_limit=2)
    first = await claim(client, me, t["id"])
    second = await claim(client, me, t["id"])

    paid = await order(client, me, [{"sku_id": shop["a"], "qty": 2}], coupon_id=first["id"])
    assert paid.status_code == 201 and paid.json()["payable_fen"] == 8800, paid.text
    assert await coupon_status(client, me, first["id"]) == "locked"
    await pay(client, me, paid.json()["id"])
    await run_jobs(db)
    assert await coupon_status(client, me, first["id"]) == "used"

    again = await order(client, me, [{"sku_id": shop["a"], "qty": 2}], coupon_id=first["id"])
    assert (again.status_code, again.json()["error"]["code"]) == (409, "COUPON_USED")

    held = await order(client, me, [{"sku_id": shop["a"], "qty": 2}], coupon_id=second["id"])
    assert held.status_code == 201
    r = await client.post(f"/api/v1/orders/{held.json()['id']}/cancel", headers=me)
    assert r.status_code == 200
    await run_jobs(db)
    assert await coupon_status(client, me, second["id"]) == "available"
    lines = (await client.get(f"/api/v1/orders/{paid.json()['id']}", headers=me)).json()["lines"]
    assert sum(ln["discount_fen"] for ln in lines) == 2000
    async with db.read() as s:
        assert await s.scalar(select(CouponTemplate.used).where(CouponTemplate.id == t["id"])) == 1


async def test_a_fully_refunded_order_returns_its_coupon(client, db, shop):
    boss, me = shop["boss"], shop["me"]
    t = await template(client, boss)
    c = await claim(client, me, t["id"])
    oid = (await order(client, me, [{"sku_id": shop["a"], "qty": 2}], coupon_id=c["id"])).json()["id"]
    await pay(client, me, oid)
    await run_jobs(db)
    refund = (await client.post(f"/api/v1/orders/{oid}/refunds", json={"reason": "不要了"}, headers=me)).json()
    r = await client.post(f"{ADMIN}/refunds/{refund['id']}/approve", headers=boss)
    assert r.status_code == 200, r.text
    await run_jobs(db)
    await run_jobs(db)
    assert (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()["refunded_fen"] == 8800
    assert await coupon_status(client, me, c["id"]) == "available"


async def test_two_orders_racing_for_one_coupon_only_one_gets_it(client, db, shop):
    t = await template(client, shop["boss"])
    c = await claim(client, shop["me"], t["id"])
    results = await asyncio.gather(
        *(order(client, shop["me"], [{"sku_id": shop["a"], "qty": 2}], coupon_id=c["id"]) for _ in range(5))
    )
    codes = Counter((r.status_code, r.json().get("error", {}).get("code")) for r in results)
    assert codes == {(201, None): 1, (409, "COUPON_USED"): 4}, codes
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 1


async def test_a_stale_coupon_below_its_threshold_after_the_cart_changed_is_refused(client, db, shop):
    """litemall #147: the coupon chosen for a 100-yuan cart must not stay on a 50-yuan cart."""
    t = await template(client, shop["boss"])
    c = await claim(client, shop["me"], t["id"])
    ok = await preview(client, shop["me"], [{"sku_id": shop["a"], "qty": 2}], coupon_id=c["id"])
    assert ok.json()["coupon"]["id"] == c["id"]
    before = await snapshot(db)
    r = await order(client, shop["me"], [{"sku_id": shop["a"], "qty": 1}], coupon_id=c["id"])
    assert (r.status_code, r.json()["error"]["code"]) == (409, "COUPON_BELOW_THRESHOLD")
    assert r.json()["error"]["message"] == "还差50元可用"
    assert await snapshot(db) == before


async def test_a_scoped_coupon_discounts_only_its_products(client, db, shop):
    t = await template(
        client,
        shop["boss"],
        name="茶杯券",
        threshold_fen=0,
        amount_fen=300,
        scope="products",
        scope_ids=[shop["cup_product"]],
    )
    c = await claim(client, shop["me"], t["id"])
    r = await order(
        client, shop["me"], [{"sku_id": shop["a"], "qty": 1}, {"sku_id": shop["cup"], "qty": 1}], coupon_id=c["id"]
    )
    assert r.status_code == 201, r.text
    o = (await client.get(f"/api/v1/orders/{r.json()['id']}", headers=shop["me"])).json()
    assert {ln["sku_id"]: ln["discount_fen"] for ln in o["lines"]} == {shop["a"]: 0, shop["cup"]: 300}


async def test_coupons_expire_by_timer_and_remind_a_day_before(client, db, shop):
    t = await template(client, shop["boss"], valid_days=3)
    c = await claim(client, shop["me"], t["id"])
    clock.advance(2 * 86400 + 60)
    await run_jobs(db)
    async with db.read() as s:
        reminders = (await s.scalars(select(Event).where(Event.type == "CouponExpiring"))).all()
    assert [e.payload["coupon_id"] for e in reminders] == [c["id"]]
    assert await coupon_status(client, shop["me"], c["id"]) == "available"
    clock.advance(86400)
    await run_jobs(db)
    assert await coupon_status(client, shop["me"], c["id"]) == "expired"
    r = await order(client, shop["me"], [{"sku_id": shop["a"], "qty": 2}], coupon_id=c["id"])
    assert (r.status_code, r.json()["error"]["code"]) == (409, "COUPON_EXPIRED")


async def test_the_new_user_pack_is_granted_once_at_first_login(client, db, shop):
    a = await template(client, shop["boss"], name="新人5元", amount_fen=500, threshold_fen=0, issue_mode="new_user")
    b = await template(
        client, shop["boss"], name="新人满50减15", amount_fen=1500, threshold_fen=5000, issue_mode="new_user"
    )
    newbie = await shopper(client, "newbie")
    await run_jobs(db)
    await shopper(client, "newbie")  # a second login is not a registration
    await run_jobs(db)
    mine = (await client.get("/api/v1/me/coupons", headers=newbie)).json()["items"]
    assert sorted((c["template_id"], c["source"]) for c in mine) == [(a["id"], "new_user"), (b["id"], "new_user")]
    r = await client.post(f"/api/v1/coupons/{a['id']}/claim", headers=newbie)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "COUPON_NOT_CLAIMABLE")


async def test_an_operator_issues_a_template_to_a_list_once_per_batch(client, db, shop):
    t = await template(client, shop["boss"], issue_mode="operator", total=10, per_user_limit=3)
    bob = await shopper(client, "bob")
    ids = [(await client.get("/api/v1/me", headers=h)).json()["id"] for h in (shop["me"], bob)]
    body = {"customer_ids": [*ids, 999_999], "batch": "vip-1"}
    r = await client.post(f"{ADMIN}/coupons/templates/{t['id']}/issue", json=body, headers=shop["boss"])
    assert r.json() == {"issued": 2, "skipped": [{"customer_id": 999_999, "code": "CUSTOMER_NOT_FOUND"}]}
    r = await client.post(f"{ADMIN}/coupons/templates/{t['id']}/issue", json=body, headers=shop["boss"])
    assert r.json()["issued"] == 0
    assert (await client.get(f"{ADMIN}/coupons/templates/{t['id']}", headers=shop["boss"])).json()["issued"] == 2


async def test_a_paused_template_cannot_be_claimed_and_edits_keep_it_sane(client, shop):
    t = await template(client, shop["boss"])
    r = await client.put(f"{ADMIN}/coupons/templates/{t['id']}", json={"status": "paused"}, headers=shop["boss"])
    assert r.json()["status"] == "paused"
    r = await client.post(f"/api/v1/coupons/{t['id']}/claim", headers=shop["me"])
    assert (r.status_code, r.json()["error"]["code"]) == (409, "COUPON_NOT_CLAIMABLE")
    r = await client.put(f"{ADMIN}/coupons/templates/{t['id']}", json={"threshold_fen": 1000}, headers=shop["boss"])
    assert (r.status_code, r.json()["error"]["code"]) == (422, "THRESHOLD_BELOW_DISCOUNT")


class NoCouponTool:
    """A stand-in activity (seckill-like): its own price, and no coupon on its orders."""

    name = "test_pricing_nocoupon"

    @staticmethod
    def plan(body: CheckoutRequest, settings: Any) -> Plan:
        lines = tuple(
            PlannedLine(sku_id=k, qty=n, activity_price_fen=990, activity_label="秒杀价")
            for k, n in checkout.merge_items(body.items, settings.max_line_qty)
        )
        return Plan(lines=lines, source=NoCouponTool.name, allows_coupons=False)

    async def cancelled(self, s, *, order) -> None:
        return None


register_source(NoCouponTool())


async def test_activity_orders_take_no_coupon_and_no_promotion(client, db, settings, shop):
    t = await template(client, shop["boss"], threshold_fen=0, amount_fen=100)
    c = await claim(client, shop["me"], t["id"])
    await promotion(
        client, shop["boss"], kind="full_reduction", name="满5减1", tiers=[{"threshold": 500, "amount_fen": 100}]
    )
    cid = (await client.get("/api/v1/me", headers=shop["me"])).json()["id"]
    body = CheckoutRequest(items=[{"sku_id": shop["a"], "qty": 1}], address=ADDRESS, coupon_id=c["id"])
    with pytest.raises(AppError) as refused:
        async with db.tx() as s:
            await checkout.place(
                s, customer_id=cid, body=body, settings=settings, plan=NoCouponTool.plan(body, settings)
            )
    assert refused.value.code == "COUPON_NOT_APPLICABLE"
    async with db.tx() as s:
        plain = body.model_copy(update={"coupon_id": None})
        o = await checkout.place(
            s, customer_id=cid, body=plain, settings=settings, plan=NoCouponTool.plan(plain, settings)
        )
        assert [st["kind"] for st in o.steps] == ["goods", "activity", "shipping"]
        assert o.payable_fen == 990 + 800
    assert await coupon_status(client, shop["me"], c["id"]) == "available"


@pytest.fixture
async def matrix_world(client, db, shop):
    t = await template(client, shop["boss"])
    p = await promotion(client, shop["boss"], kind="free_shipping", name="满99包邮", threshold=9900)
    return {"template_id": t["id"], "promotion_id": p["id"]}


async def test_admin_coupon_and_promotion_routes_refuse_whoever_lacks_the_permission(client, db, shop, matrix_world):
    before = await snapshot(db)
    await check_admin_matrix(client, db, ADMIN_ROUTES, matrix_world, shop["me"])
    after = await snapshot(db)
    # The matrix logs in admins of each role; nothing of ours changed.
    for table in ("coupon_templates", "coupons", "promotions"):
        assert after[table] == before[table]


async def test_admin_routes_let_the_owner_through(client, db, shop, matrix_world):
    for method, path, body, *_ in ADMIN_ROUTES:
        r = await client.request(method, path.format(**matrix_world), json=body, headers=shop["boss"])
        assert r.status_code not in (401, 403) and r.status_code < 500, (method, path, r.text)


BAD = [
    ("someone else's coupon", "theirs", {}, 404, "COUPON_NOT_FOUND"),
    ("an expired coupon", "expired", {}, 409, "COUPON_EXPIRED"),
    ("a used coupon", "used", {}, 409, "COUPON_USED"),
    ("a coupon below threshold", "mine", {"qty": 1}, 409, "COUPON_BELOW_THRESHOLD"),
    ("negative points", "mine", {"points": -5}, 422, "VALIDATION_ERROR"),
    ("a coupon id as a string", "string", {}, 422, "VALIDATION_ERROR"),
]


@pytest.fixture
async def coupon_world(client, db, shop):
    boss, me = shop["boss"], shop["me"]
    t = await template(client, boss, per_user_limit=3)
    short = await template(client, boss, name="短券", valid_days=1)
    bob = await shopper(client, "bob")
    used = await claim(client, me, t["id"])
    oid = (await order(client, me, [{"sku_id": shop["a"], "qty": 2}], coupon_id=used["id"])).json()["id"]
    await pay(client, me, oid)
    expired = await claim(client, me, short["id"])
    clock.advance(86400 + 1)
    await run_jobs(db)
    return {
        "mine": (await claim(client, me, t["id"]))["id"],
        "theirs": (await claim(client, bob, t["id"]))["id"],
        "used": used["id"],
        "expired": expired["id"],
        "string": str(used["id"]),
    }


@pytest.mark.parametrize(("name", "which", "extra", "status", "code"), BAD, ids=[b[0] for b in BAD])
@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/coupons/checkout-preview"])
async def test_bad_coupon_input_is_refused_with_a_code_and_changes_nothing(
    client, db, shop, coupon_world, name, which, extra, status, code, path
):
    extra = dict(extra)
    body: dict[str, Any] = {
        "items": [{"sku_id": shop["a"], "qty": extra.pop("qty", 2)}],
        "coupon_id": coupon_world[which],
        "address": ADDRESS,
        **extra,
    }
    before = await snapshot(db)
    r = await client.post(path, json=body, headers=shop["me"])
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert await snapshot(db) == before


BAD_RULES = [
    (
        "threshold below discount",
        "/coupons/templates",
        {"name": "x", "kind": "amount", "amount_fen": 2000, "threshold_fen": 1000, "valid_days": 3},
        422,
        "THRESHOLD_BELOW_DISCOUNT",
    ),
    (
        "percent over 100%",
        "/coupons/templates",
        {"name": "x", "kind": "percent", "percent_bp": 12000, "valid_days": 3},
        422,
        "VALIDATION_ERROR",
    ),
    ("no validity", "/coupons/templates", {"name": "x", "kind": "amount", "amount_fen": 100}, 422, "VALIDITY_INVALID"),
    (
        "overlapping tiers",
        "/promotions",
        {
            "kind": "full_reduction",
            "name": "满减",
            "tiers": [{"threshold": 10000, "amount_fen": 2000}, {"threshold": 10000, "amount_fen": 3000}],
        },
        422,
        "TIERS_OVERLAP",
    ),
    (
        "a higher tier giving less",
        "/promotions",
        {
            "kind": "full_reduction",
            "name": "满减",
            "tiers": [{"threshold": 10000, "amount_fen": 2000}, {"threshold": 30000, "amount_fen": 1000}],
        },
        422,
        "TIERS_OVERLAP",
    ),
    (
        "reduction threshold below discount",
        "/promotions",
        {"kind": "full_reduction", "name": "满减", "tiers": [{"threshold": 1000, "amount_fen": 2000}]},
        422,
        "THRESHOLD_BELOW_DISCOUNT",
    ),
    (
        "window backwards",
        "/promotions",
        {"kind": "free_shipping", "name": "包邮", "threshold": 1, "flip": True},
        422,
        "PROMOTION_WINDOW_INVALID",
    ),
    (
        "money as float",
        "/promotions",
        {"kind": "free_shipping", "name": "包邮", "threshold": 99.5},
        422,
        "VALIDATION_ERROR",
    ),
]


@pytest.mark.parametrize(("name", "path", "body", "status", "code"), BAD_RULES, ids=[b[0] for b in BAD_RULES])
async def test_bad_rules_are_refused_with_a_code_and_change_nothing(client, db, shop, name, path, body, status, code):
    body = dict(body)
    if path == "/promotions":
        start, end = iso(-1), iso(7)
        if body.pop("flip", False):
            start, end = end, start
        body = {"starts_at": start, "ends_at": end, **body}
    before = await snapshot(db)
    r = await client.post(ADMIN + path, json=body, headers=shop["boss"])
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert await snapshot(db) == before


def test_a_card_headline_reads_as_a_shopper_says_it():
    from types import SimpleNamespace as T

    from fissionmall.coupons.rules import headline

    def cut(off: int, threshold: int) -> T:
        return T(kind="amount", amount_fen=off, threshold_fen=threshold, percent_bp=0, max_discount_fen=0)

    assert headline(cut(3000, 19900)) == "满199减30元"
    assert headline(cut(500, 0)) == "无门槛减5元"
    rate = T(kind="percent", amount_fen=0, threshold_fen=19900, percent_bp=1500, max_discount_fen=2000)
    assert headline(rate) == "满199元享8.5折 最多减20元"  # never '满1998.5折'
