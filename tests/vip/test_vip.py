"""付费会员: subscribe as a virtual order, activation once, renewal, monthly grants, expiry at the second,
the cooling-off refund, member prices and member-only products."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from fissionmall.core import clock, jobs
from fissionmall.coupons.models import Coupon
from fissionmall.orders import service as orders
from fissionmall.orders.models import Order, Refund
from fissionmall.vip import service
from fissionmall.vip.models import VipGrant, VipMember, VipPurchase
from tests.authz import check_admin_matrix
from tests.helpers import admin, order, pay, run_jobs, shopper
from tests.vip.helpers import ADMIN, API, buy, member, mine, preview, shop, when

ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
    ("GET", f"{ADMIN}/membership/plans", None, "marketing.read", "finance"),
    ("POST", f"{ADMIN}/membership/plans", {"name": "x", "price_fen": 100}, "marketing", "finance"),
    ("GET", f"{ADMIN}/membership/plans/{{plan_id}}", None, "marketing.read", "store_staff"),
    ("PUT", f"{ADMIN}/membership/plans/{{plan_id}}", {"name": "改名"}, "marketing", "finance"),
    ("DELETE", f"{ADMIN}/membership/plans/{{plan_id}}", None, "marketing", "finance"),
    ("GET", f"{ADMIN}/membership/member-prices", None, "marketing.read", "store_staff"),
    ("PUT", f"{ADMIN}/membership/member-prices", {"prices": []}, "marketing", "finance"),
    ("GET", f"{ADMIN}/membership/purchases", None, "customers.read", "store_staff"),
    ("POST", f"{ADMIN}/membership/purchases/{{purchase_id}}/refund", {}, "refunds", "operator"),
]


async def _count(db, model) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def _coupons(db, status: str | None = None) -> list[Coupon]:
    async with db.read() as s:
        q = select(Coupon).where(Coupon.source == "vip").order_by(Coupon.id)
        if status:
            q = q.where(Coupon.status == status)
        return list((await s.scalars(q)).all())


async def test_a_paid_plan_activates_once_grants_the_first_month_and_shows_on_me(client, db):
    s = await shop(client, db)
    h = await shopper(client, "ann")
    plans = (await client.get(f"{API}/membership/plans")).json()
    assert plans == [
        {
            "id": s["plan"]["id"],
            "name": "尊享会员",
            "price_fen": 9900,
            "days": 365,
            "discount_bp": 9500,
            "benefits": [
                "全场商品9.5折",
                "每月赠送2张无门槛减5元券",
                "有效期365天，到期可续费",
                "开通7天内可无理由退款",
            ],
        }
    ]
    r = await client.post(f"{API}/membership/subscribe", json={"plan_id": s["plan"]["id"]}, headers=h)
    assert r.status_code == 201 and r.json()["payable_fen"] == 9900 and r.json()["status"] == "pending_payment"
    again = await client.post(f"{API}/membership/subscribe", json={"plan_id": s["plan"]["id"]}, headers=h)
    assert again.json()["id"] == r.json()["id"]  # a double tap answers the order waiting for payment
    assert (await mine(client, h))["active"] is False
    paid_at = clock.now()
    await pay(client, h, r.json()["id"])
    got = await mine(client, h)
    assert got["active"] is True and got["plan"]["name"] == "尊享会员"
    assert abs(when(got["until"]) - (paid_at + timedelta(days=365))) < timedelta(seconds=30)
    me = (await client.get(f"{API}/me", headers=h)).json()
    assert me["paid_member_until"] == got["until"]
    await run_jobs(db)
    assert len(await _coupons(db, "available")) == 2
    assert (await mine(client, h))["coupons_received"] == 2
    async with db.tx() as tx:
        o = await orders.get_order(tx, order_id=r.json()["id"])
        assert o.status == "completed"
        assert await service.activate(tx, order=o) is None  # the hook again: nothing moves
    assert (await mine(client, h))["until"] == got["until"]


async def test_monthly_grants_are_once_per_month_even_when_the_timer_fires_twice_and_stop_at_expiry(client, db):
    s = await shop(client, db, days=45)
    await member(client, db, s)
    assert len(await _coupons(db)) == 2  # month 0, at activation
    async with db.read() as tx:
        m = await tx.scalar(select(VipMember))
        assert m is not None
        due1 = service.due_at(m, 1)
    clock.advance((due1 - clock.now()).total_seconds() + 1)
    # the same month's timer twice: a duplicate row without a key, beside the keyed one
    async with db.tx() as tx:
        payload = {"customer_id": m.customer_id, "run_no": m.run_no, "month": 1}
        await jobs.schedule(tx, service.GRANT_JOB, payload, due_at=clock.now())
    await run_jobs(db)
    async with db.tx() as tx:
        assert await service.grant_month(tx, customer_id=m.customer_id, run_no=m.run_no, month=1) is None
    assert len(await _coupons(db)) == 4
    assert await _count(db, VipGrant) == 2
    # month 2 falls after the 45 days: no timer, and a forced one grants nothing
    clock.advance(40 * 86400)
    await run_jobs(db)
    async with db.tx() as tx:
        assert await service.grant_month(tx, customer_id=m.customer_id, run_no=m.run_no, month=2) is None
    assert len(await _coupons(db)) == 4


async def test_benefits_end_at_the_second_of_expiry_through_checkout(client, db):
    s = await shop(client, db)
    h = await member(client, db, s)
    until = when((await mine(client, h))["until"])
    clock.advance((until - clock.now()).total_seconds() - 1)
    h = await shopper(client, "vip")  # a new token: the old one expired over the year
    r = await preview(client, h, s["skus"][1])
    assert r.status_code == 200, r.text
    assert r.json()["payable_fen"] < 5000 + r.json().get("shipping_fen", 10**9)
    steps = {st["kind"]: st["amount_fen"] for st in r.json()["steps"]}
    assert steps["member"] == -250  # 5000 × 9.5折, at until − 1 s
    clock.advance(2)
    r = await preview(client, h, s["skus"][1])
    assert "member" not in {st["kind"] for st in r.json()["steps"]}  # until + 1 s: full price
    assert (await client.get(f"{API}/me", headers=h)).json()["paid_member_until"] is None
    async with db.read() as tx:
        cid = await tx.scalar(select(VipMember.customer_id))
        assert not await service.is_member(tx, customer_id=cid, at=until)
        assert await service.is_member(tx, customer_id=cid, at=until - timedelta(seconds=1))


async def test_a_lapsed_membership_renews_from_now_and_an_active_one_from_its_expiry(client, db):
    s = await shop(client, db, days=30)
    h = await member(client, db, s)
    first = when((await mine(client, h))["until"])
    await buy(client, db, h, s["plan"]["id"])  # renewed while active: extends from the expiry
    assert when((await mine(client, h))["until"]) == first + timedelta(days=30)
    clock.advance(31 * 86400)
    await run_jobs(db)  # the second month's coupons, inside the renewed period
    clock.advance(59 * 86400)  # lapsed 30 days ago
    h = await shopper(client, "vip")
    assert (await mine(client, h))["active"] is False
    now = clock.now()
    await buy(client, db, h, s["plan"]["id"])
    again = when((await mine(client, h))["until"])
    assert abs(again - (now + timedelta(days=30))) < timedelta(seconds=30)  # CRMEB: from the past expiry
    assert again > first + timedelta(days=60) + timedelta(days=29)
    assert len(await _coupons(db)) == 6  # 2 at the first run's start, 2 a month on (the renewal), 2 at the new run


async def test_member_prices_apply_to_members_only_and_the_product_page_shows_them(client, db):
    s = await shop(client, db)
    a, b = s["skus"]
    r = await client.put(
        f"{ADMIN}/membership/member-prices", json={"prices": [{"sku_id": a, "price_fen": 8000}]}, headers=s["boss"]
    )
    assert r.status_code == 200, r.text
    page = (await client.get(f"{API}/products/{s['product']['id']}")).json()
    assert page["member_prices"] == {str(a): 8000} and page["member_price_fen"] == 8000
    card = next(p for p in (await client.get(f"{API}/products")).json()["items"] if p["id"] == s["product"]["id"])
    assert card["member_price_fen"] == 8000
    plain = await shopper(client, "plain")
    r = await preview(client, plain, a)
    assert "member" not in {st["kind"] for st in r.json()["steps"]}
    h = await member(client, db, s)
    r = await preview(client, h, a)
    assert {st["kind"]: st["amount_fen"] for st in r.json()["steps"]}["member"] == -2000  # 会员价 beats 9.5折
    r = await preview(client, h, b)
    assert {st["kind"]: st["amount_fen"] for st in r.json()["steps"]}["member"] == -250


async def test_a_member_only_product_is_refused_to_others_in_preview_and_order(client, db):
    s = await shop(client, db)
    pid = s["product"]["id"]
    r = await client.put(
        f"{ADMIN}/membership/member-prices", json={"member_only_product_ids": [pid]}, headers=s["boss"]
    )
    assert r.status_code == 200, r.text
    assert (await client.get(f"{API}/products/{pid}")).json()["member_only"] is True
    plain = await shopper(client, "plain")
    r = await preview(client, plain, s["skus"][0])
    assert r.status_code == 403 and r.json()["error"]["code"] == "MEMBER_ONLY"
    before = await _count(db, Order)
    r = await order(client, plain, [{"sku_id": s["skus"][0], "qty": 1}])
    assert r.status_code == 403 and r.json()["error"]["code"] == "MEMBER_ONLY"
    assert await _count(db, Order) == before
    h = await member(client, db, s)
    assert (await order(client, h, [{"sku_id": s["skus"][0], "qty": 1}])).status_code == 201


async def test_a_cooling_off_refund_ends_the_plan_takes_back_unused_coupons_and_keeps_what_was_used(client, db):
    s = await shop(client, db)
    h = await member(client, db, s)
    c1, _ = await _coupons(db)
    r = await order(client, h, [{"sku_id": s["skus"][1], "qty": 1}], coupon_id=c1.id)
    assert r.status_code == 201, r.text
    await pay(client, h, r.json()["id"])
    await run_jobs(db)
    got = await mine(client, h)
    assert got["refundable"] is True and got["refund_fen"] == 9400
    r = await client.post(f"{API}/membership/subscription/refund", json={}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False and r.json()["refundable"] is False
    assert [c.status for c in await _coupons(db)] == ["used", "expired"]
    await run_jobs(db)
    async with db.read() as tx:
        refund = await tx.scalar(select(Refund).where(Refund.key.like("vip-refund:%")))
        assert refund is not None and refund.amount_fen == 9400 and refund.status == "succeeded"
        p = await tx.scalar(select(VipPurchase))
        assert p is not None and p.status == "refunded" and p.refund_fen == 9400
    r = await preview(client, h, s["skus"][1])
    assert "member" not in {st["kind"] for st in r.json()["steps"]}
    # the month's timer after the refund grants nothing
    clock.advance(32 * 86400)
    await run_jobs(db)
    assert len(await _coupons(db)) == 2


async def test_a_refund_outside_the_window_is_refused_and_changes_nothing(client, db):
    s = await shop(client, db)
    h = await member(client, db, s)
    clock.advance(7 * 86400 + 1)
    h = await shopper(client, "vip")
    s["boss"] = await admin(client, db, "owner", username="boss-later")
    before = await mine(client, h)
    assert before["refundable"] is False
    r = await client.post(f"{API}/membership/subscription/refund", json={}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "VIP_REFUND_WINDOW_CLOSED"
    async with db.read() as tx:
        pid = await tx.scalar(select(VipPurchase.id))
    r = await client.post(f"{ADMIN}/membership/purchases/{pid}/refund", json={}, headers=s["boss"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "VIP_REFUND_WINDOW_CLOSED"
    assert await mine(client, h) == before
    assert await _count(db, Refund) == 0
    assert len(await _coupons(db, "available")) == 2


async def test_the_merchant_refunds_inside_the_window_from_the_api(client, db):
    s = await shop(client, db)
    h = await member(client, db, s)
    page = (await client.get(f"{ADMIN}/membership/purchases", headers=s["boss"])).json()
    (p,) = page["items"]
    assert p["refundable"] is True and p["customer_nickname"]
    r = await client.post(
        f"{ADMIN}/membership/purchases/{p['id']}/refund", json={"reason": "顾客来电"}, headers=s["boss"]
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "refunded" and r.json()["refund_fen"] == 9900
    assert (await mine(client, h))["active"] is False
    assert len(await _coupons(db, "available")) == 0


async def test_bad_input_unknown_or_stopped_plan_and_wrong_member_prices_change_nothing(client, db):
    s = await shop(client, db)
    h = await shopper(client, "bad")
    r = await client.post(f"{API}/membership/subscribe", json={"plan_id": 999_999}, headers=h)
    assert r.status_code == 404 and r.json()["error"]["code"] == "VIP_PLAN_NOT_FOUND"
    r = await client.put(f"{ADMIN}/membership/plans/{s['plan']['id']}", json={"active": False}, headers=s["boss"])
    assert r.status_code == 200
    r = await client.post(f"{API}/membership/subscribe", json={"plan_id": s["plan"]["id"]}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "VIP_PLAN_INACTIVE"
    for body in ({"plan_id": "1"}, {"plan_id": 0}, {}):
        r = await client.post(f"{API}/membership/subscribe", json=body, headers=h)
        assert r.status_code == 422, body
    assert await _count(db, VipPurchase) == 0 and await _count(db, Order) == 0
    r = await client.put(
        f"{ADMIN}/membership/member-prices",
        json={"prices": [{"sku_id": s["skus"][1], "price_fen": 5000}]},
        headers=s["boss"],
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "VIP_MEMBER_PRICE_TOO_HIGH"
    r = await client.put(
        f"{ADMIN}/membership/member-prices", json={"prices": [{"sku_id": 999_999, "price_fen": 1}]}, headers=s["boss"]
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "VIP_SKU_NOT_FOUND"
    assert (await client.get(f"{ADMIN}/membership/member-prices", headers=s["boss"])).json() == {
        "prices": [],
        "member_only_product_ids": [],
    }
    r = await client.post(
        f"{ADMIN}/membership/plans",
        json={"name": "坏", "price_fen": 100, "grant_template_id": 999_999, "grant_count": 1},
        headers=s["boss"],
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "VIP_TEMPLATE_NOT_FOUND"
    r = await client.post(f"{ADMIN}/membership/plans", json={"name": "零元", "price_fen": 0}, headers=s["boss"])
    assert r.status_code == 422
    assert len((await client.get(f"{ADMIN}/membership/plans", headers=s["boss"])).json()) == 1


async def test_authorization_matrix_and_a_sold_plan_cannot_be_deleted(client, db):
    s = await shop(client, db)
    h = await member(client, db, s)
    async with db.read() as tx:
        pid = await tx.scalar(select(VipPurchase.id))
    ids = {"plan_id": s["plan"]["id"], "purchase_id": pid}
    await check_admin_matrix(client, db, ADMIN_ROUTES, ids, h)
    assert (await mine(client, h))["active"] is True
    r = await client.delete(f"{ADMIN}/membership/plans/{s['plan']['id']}", headers=s["boss"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "VIP_PLAN_IN_USE"


async def test_the_demo_seed_sells_a_99_yuan_year_with_member_prices_on_two_skus(client, db):
    from fissionmall.demo import vip as demo

    boss = await admin(client, db)
    ps = {}
    for title, fen in (("甲", 10000), ("乙", 2990)):
        p = await client.post(
            f"{ADMIN}/products",
            json={"title": title, "skus": [{"name": "默认", "price_fen": fen, "stock": 5}]},
            headers=boss,
        )
        ps[title] = p.json()
    got = await demo.seed(client, boss, ps)
    assert [x["price_fen"] for x in got["member_prices"]] == [9000, 2691]
    (plan,) = (await client.get(f"{API}/membership/plans")).json()
    assert (plan["name"], plan["price_fen"], plan["discount_bp"]) == ("尊享会员", 9900, 9500)
