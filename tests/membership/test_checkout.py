"""The level's checkout contribution through the real checkout: 会员价, member vs limited-time discount,
the member day by the dev clock, free shipping judged on the member price, then the coupon in sequence."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from fissionmall.core import clock
from fissionmall.membership import benefits, growth
from tests.helpers import admin, order, product, shopper
from tests.membership.helpers import ADMIN, member_day
from tests.pricing.helpers import claim, promotion, template

GOLD = 500_000
DIAMOND = 2_000_000


async def _grow(client, db, me, fen: int) -> None:
    """Give a shopper growth as a paid order would (the level moves at once)."""
    cid = (await client.get("/api/v1/me", headers=me)).json()["id"]
    async with db.tx() as s:
        await growth.grant_order(s, order_id=10**9 + cid, customer_id=cid, lines=[(1, fen)], at=clock.now())


async def _preview(client, me, sku, qty=1, **extra):
    r = await client.post(
        "/api/v1/checkout/preview", json={"items": [{"sku_id": sku, "qty": qty}], **extra}, headers=me
    )
    assert r.status_code == 200, r.text
    return r.json()


def _rows(q):
    return [(st["kind"], st["label"], st["amount_fen"]) for st in q["steps"]]


@pytest.fixture
async def shop(client, db):
    boss = await admin(client, db)
    tea = await product(client, boss, prices=(10_000,), title="茶叶")
    me = await shopper(client, "gold")
    await _grow(client, db, me, GOLD)
    return {"boss": boss, "me": me, "tea": tea["skus"][0]["id"], "tea_product": tea["id"]}


async def test_gold_pays_nine_tenths_in_the_preview_and_the_order(client, db, shop):
    q = await _preview(client, shop["me"], shop["tea"])
    assert _rows(q) == [("goods", "商品金额", 10_000), ("member", "会员价", -1000), ("shipping", "运费", 800)]
    assert q["payable_fen"] == 9800
    r = await order(client, shop["me"], [{"sku_id": shop["tea"], "qty": 1}])
    assert r.status_code == 201 and r.json()["payable_fen"] == 9800
    plain = await shopper(client, "plain")
    assert _rows(await _preview(client, plain, shop["tea"])) == [
        ("goods", "商品金额", 10_000),
        ("shipping", "运费", 800),
    ]


async def test_the_better_of_member_and_limited_time_discount_unless_stacking_is_on(client, db, shop):
    boss = shop["boss"]
    await promotion(
        client, boss, kind="limited_discount", name="限时8折", items=[{"sku_id": shop["tea"], "percent_bp": 2000}]
    )
    q = await _preview(client, shop["me"], shop["tea"])
    assert _rows(q) == [("goods", "商品金额", 10_000), ("limited", "限时8折", -2000), ("shipping", "运费", 800)]
    r = await client.put(f"{ADMIN}/settings", json={"window_months": 12, "stacks_with_limited": True}, headers=boss)
    assert r.status_code == 200
    q = await _preview(client, shop["me"], shop["tea"])
    assert _rows(q) == [
        ("goods", "商品金额", 10_000),
        ("limited", "限时8折", -2000),
        ("member", "会员价", -800),  # 9折 on what the limited discount left
        ("shipping", "运费", 800),
    ]


async def test_the_member_discount_wins_over_a_smaller_limited_discount(client, db, shop):
    await promotion(
        client,
        shop["boss"],
        kind="limited_discount",
        name="限时95折",
        items=[{"sku_id": shop["tea"], "percent_bp": 500}],
    )
    q = await _preview(client, shop["me"], shop["tea"])
    assert _rows(q) == [("goods", "商品金额", 10_000), ("member", "会员价", -1000), ("shipping", "运费", 800)]


def _seconds_to(day: int) -> int:
    zone = ZoneInfo("Asia/Shanghai")
    now = clock.now().astimezone(zone)
    y, m = (now.year, now.month) if now.day < day else ((now.year + (now.month == 12)), now.month % 12 + 1)
    target = datetime.combine(now.date().replace(year=y, month=m, day=day), time(10, 0), tzinfo=zone)
    return int((target - now).total_seconds())


async def test_member_day_pricing_on_the_18th_and_not_on_the_17th(client, db, shop):
    boss = shop["boss"]
    await member_day(client, boss, extra_rate_bp=8000)
    r = await client.post("/api/admin/v1/dev/clock", json={"advance_seconds": _seconds_to(17)}, headers=boss)
    assert r.status_code == 200, r.text
    me, plain = await shopper(client, "gold"), await shopper(client, "plain")
    q = await _preview(client, me, shop["tea"])
    assert [st["kind"] for st in q["steps"]] == ["goods", "member", "shipping"]
    assert not (await client.get("/api/v1/membership/member-day")).json()["today"]
    r = await client.post(
        "/api/admin/v1/dev/clock", json={"advance_seconds": 86400}, headers=await admin(client, db, username="boss2")
    )
    assert r.status_code == 200
    me, plain = await shopper(client, "gold"), await shopper(client, "plain")
    q = await _preview(client, me, shop["tea"])
    assert _rows(q) == [
        ("goods", "商品金额", 10_000),
        ("member", "会员价", -1000),
        ("member", "会员日8折", -1800),  # 8折 on the 9000 the member price left
        ("shipping", "运费", 800),
    ]
    assert q["payable_fen"] == 7200 + 800
    banner = (await client.get("/api/v1/membership/member-day")).json()
    assert banner["today"] and banner["label"] == "每月18日会员日 · 会员再享8折 · 双倍积分"
    # the base level is no member: no member day for them
    assert [st["kind"] for st in (await _preview(client, plain, shop["tea"]))["steps"]] == ["goods", "shipping"]

    # a paid member (a registered check) at the base level gets the member day
    async def vip(s, *, customer_id, at):
        return True

    benefits.register_member_check(vip)
    try:
        q = await _preview(client, plain, shop["tea"])
        assert _rows(q) == [("goods", "商品金额", 10_000), ("member", "会员日8折", -2000), ("shipping", "运费", 800)]
    finally:
        benefits.unregister_member_check(vip)


async def test_points_multiplier_doubles_on_member_day_for_members(client, db, shop):
    boss = shop["boss"]
    await member_day(client, boss)
    cid = (await client.get("/api/v1/me", headers=shop["me"])).json()["id"]
    at = clock.now() + timedelta(seconds=_seconds_to(18))
    async with db.read() as s:
        assert await benefits.points_multiplier_bp(s, customer_id=cid, at=at) == 30_000  # 黄金 1.5 × 2
        assert await benefits.points_multiplier_bp(s, customer_id=cid, at=at - timedelta(days=1)) == 15_000


async def test_free_shipping_threshold_is_judged_on_the_member_price(client, db, shop):
    boss = shop["boss"]
    await promotion(client, boss, kind="free_shipping", name="满99包邮", threshold=9900)
    dear = (await product(client, boss, prices=(10_500,), title="红茶"))["skus"][0]["id"]
    q = await _preview(client, shop["me"], dear)  # member price 94.50 < 99: shipping is charged
    assert _rows(q) == [("goods", "商品金额", 10_500), ("member", "会员价", -1050), ("shipping", "运费", 800)]
    q = await _preview(client, shop["me"], dear, qty=2)  # 189 after the member price: free
    assert q["steps"][-1]["amount_fen"] == 0


async def test_a_diamond_member_ships_free(client, db, shop):
    me = await shopper(client, "diamond")
    await _grow(client, db, me, DIAMOND)
    q = await _preview(client, me, shop["tea"])
    assert _rows(q) == [("goods", "商品金额", 10_000), ("member", "会员价", -2000), ("shipping", "运费（包邮）", 0)]


async def test_member_discount_then_the_coupon_in_sequence(client, db, shop):
    t = await template(
        client, shop["boss"], name="9折券", kind="percent", percent_bp=1000, amount_fen=0, threshold_fen=0
    )
    c = await claim(client, shop["me"], t["id"])
    q = await _preview(client, shop["me"], shop["tea"], coupon_id=c["id"])
    rows = _rows(q)
    assert rows[:2] == [("goods", "商品金额", 10_000), ("member", "会员价", -1000)]
    coupon = next(r for r in rows if r[0] == "coupon")
    assert coupon[2] == -900  # 10% of the 9000 the member price left, not of the list price
    assert q["payable_fen"] == 10_000 - 1000 - 900 + 800
