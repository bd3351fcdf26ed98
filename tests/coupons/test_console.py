"""Console pages for coupons: create, edit, pause, issue, usage; who may see the marketing pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from fissionmall.core import clock
from fissionmall.coupons.models import Coupon, CouponTemplate
from fissionmall.web.console import shop_zone
from tests.console_helpers import console
from tests.helpers import admin, product, shopper

BASE = {
    "name": "满199减30",
    "kind": "amount",
    "threshold": "199",
    "amount": "30",
    "scope": "all",
    "validity": "days",
    "valid_days": "7",
    "per_user_limit": "1",
    "issue_mode": "claim",
}


async def test_an_operator_creates_edits_pauses_and_issues_a_coupon_from_the_console(client, db):
    csrf = await console(client, db, "operator")
    form = {**BASE, "csrf_token": csrf, "name": "满100减20", "threshold": "100", "amount": "20", "total": "50"}
    form["return_on_refund"] = "on"
    r = await client.post("/admin/coupons/new", data=form)
    assert r.status_code == 303, r.text
    detail = await client.get(r.headers["location"])
    assert "优惠券已创建" in detail.text and "满100减20元" in detail.text
    async with db.read() as s:
        t = await s.scalar(select(CouponTemplate))
        assert t is not None and (t.threshold_fen, t.amount_fen, t.total) == (10_000, 2000, 50)

    r = await client.post(f"/admin/coupons/{t.id}", data={**form, "threshold": "10"})
    assert r.status_code == 422 and "保存失败" in r.text
    r = await client.post(f"/admin/coupons/{t.id}", data={**form, "name": "满100减20（新）"})
    assert r.status_code == 303
    r = await client.post(f"/admin/coupons/{t.id}/status", data={"csrf_token": csrf, "status": "paused"})
    assert r.status_code == 303
    await shopper(client, "alice")
    bob = await shopper(client, "bob")
    bob_id = (await client.get("/api/v1/me", headers=bob)).json()["id"]
    await client.post(f"/admin/coupons/{t.id}/status", data={"csrf_token": csrf, "status": "active"})
    # 定向发放 chooses shoppers with the customer search (the picker posts their ids as one field)
    editor = (await client.get(f"/admin/coupons/{t.id}")).text
    assert 'data-customer-picker data-multiple data-name="customer_ids"' in editor and "<textarea" not in editor
    r = await client.post(f"/admin/coupons/{t.id}/issue", data={"csrf_token": csrf, "customer_ids": str(bob_id)})
    assert r.status_code == 303
    page = (await client.get("/admin/coupons")).text
    assert "满100减20（新）" in page and "1 / 50" in page
    r = await client.post("/admin/coupons/new", data={**form, "amount": "abc"})
    assert r.status_code == 422 and "金额格式不正确" in r.text


async def test_finance_may_not_open_the_marketing_pages(client, db):
    await console(client, db, "finance")
    for path in ("/admin/coupons", "/admin/promotions", "/admin/coupons/new"):
        r = await client.get(path)
        assert r.status_code == 403 and "没有权限" in r.text, path


# ---- the form a merchant fills in: 元 and 折, pickers, every mistake at once -----------------------------


def _error_beside(html: str, path: str) -> str:
    """The message shown beside the field of that schema path ('' when the field shows none)."""
    m = re.search(rf'<span class="field-error" data-error-for="{re.escape(path)}">([^<]*)</span>', html)
    return m.group(1) if m else ""


def iso_in(*, days: float) -> str:
    return (clock.now() + timedelta(days=days)).isoformat()


async def _templates(db) -> list[CouponTemplate]:
    async with db.read() as s:
        return list((await s.scalars(select(CouponTemplate).order_by(CouponTemplate.id))).all())


async def test_one_submit_shows_every_mistake_beside_its_field_and_saves_nothing(client, db):
    csrf = await console(client, db, "operator")
    form = {
        **BASE,
        "csrf_token": csrf,
        "name": "",
        "amount": "三十",
        "threshold": "abc",
        "total": "很多",
        "per_user_limit": "0",
        "scope": "products",  # and no product chosen
        "validity": "window",
        "valid_from": "2030-02-30T10:00",  # no such day
        "valid_until": "",
        "claim_until": "9999-12-31T23:59",
    }
    r = await client.post("/admin/coupons/new", data=form)
    assert r.status_code == 422 and "保存失败" in r.text
    expected = {
        "name": "请填写名称",
        "amount_fen": "减免金额格式不正确",
        "threshold_fen": "使用门槛格式不正确",
        "total": "发放总量格式不正确",
        "per_user_limit": "每人限领不能小于 1",
        "scope_ids": "请选择适用的商品",
        "valid_from": "生效时间格式不正确",
        "valid_until": "请选择截止时间",
        "claim_until": "停止领取时间须在 2000 年到 2100 年之间",
    }
    for path, text in expected.items():
        assert text in _error_beside(r.text, path), (path, _error_beside(r.text, path))
    assert await _templates(db) == []
    # What was typed comes back in the fields, to be corrected rather than retyped.
    assert 'value="三十"' in r.text and 'value="2030-02-30T10:00"' in r.text


async def test_yuan_and_zhe_are_stored_exactly_as_fen_and_basis_points_and_times_in_the_shop_zone(client, db):
    boss = await admin(client, db)
    tea = await product(client, boss, title="乌龙茶")
    cake = await product(client, boss, title="月饼")
    csrf = await console(client, db, "operator")
    form = {
        **BASE,
        "csrf_token": csrf,
        "name": "8.5折券",
        "kind": "percent",
        "threshold": "199.9",
        "zhe": "８.５",  # full-width, as a phone types it
        "max_discount": "19.99",
        "scope": "products",
        "product_id": [str(cake["id"]), str(tea["id"]), "junk", str(cake["id"])],
        "validity": "window",
        "valid_from": "2030-06-01T10:00",
        "valid_until": "2030-06-30T23:59",
        "claim_until": "2030-06-15T12:30",
        "total": "500",
    }
    r = await client.post("/admin/coupons/new", data=form)
    assert r.status_code == 303, _error_beside(r.text, "form") or r.text[-2000:]
    (t,) = await _templates(db)
    assert (t.kind, t.percent_bp, t.max_discount_fen, t.threshold_fen, t.amount_fen) == (
        "percent",
        1500,
        1999,
        19_990,
        0,
    )
    assert (t.scope_kind, t.scope_ids, t.total, t.valid_days) == ("products", [cake["id"], tea["id"]], 500, None)
    # 10:00 in Shanghai is 02:00 UTC; the stored instant is exact to the minute.
    assert t.valid_from.replace(tzinfo=UTC) == datetime(2030, 6, 1, 2, 0, tzinfo=UTC)
    assert t.valid_until.replace(tzinfo=UTC) == datetime(2030, 6, 30, 15, 59, tzinfo=UTC)
    assert t.claim_until.replace(tzinfo=UTC) == datetime(2030, 6, 15, 4, 30, tzinfo=UTC)

    # The edit page shows it back in 元, 折 and the pickers' local times, the products by name.
    page = (await client.get(f"/admin/coupons/{t.id}")).text
    for shown in ('value="199.9"', 'value="8.5"', 'value="19.99"', 'value="2030-06-01T10:00"', "月饼", "乌龙茶"):
        assert shown in page, shown
    assert "8.5折 最多减19.99元" in page  # the card's headline as coupons.rules words it

    # Saving the page unchanged changes nothing; switching to 7 days clears the fixed window.
    r = await client.post(f"/admin/coupons/{t.id}", data={**form, "name": "8.5折券（改）"})
    assert r.status_code == 303, r.text[-2000:]
    form["name"] = "8.5折券（改）"
    r = await client.post(f"/admin/coupons/{t.id}", data={**form, "validity": "days", "valid_days": "7"})
    assert r.status_code == 303, r.text[-2000:]
    (t,) = await _templates(db)
    assert (t.name, t.valid_days, t.valid_from, t.valid_until, t.percent_bp) == ("8.5折券（改）", 7, None, None, 1500)


async def test_categories_are_ticked_by_name(client, db):
    boss = await admin(client, db)
    await product(client, boss)  # category 测试
    csrf = await console(client, db, "operator")
    page = (await client.get("/admin/coupons/new")).text
    m = re.search(r'name="category_id" value="(\d+)"> 测试', page)
    assert m, "the category is offered by name"
    r = await client.post(
        "/admin/coupons/new", data={**BASE, "csrf_token": csrf, "scope": "categories", "category_id": m[1]}
    )
    assert r.status_code == 303
    (t,) = await _templates(db)
    assert (t.scope_kind, t.scope_ids) == ("categories", [int(m[1])])


async def test_a_validity_that_has_ended_or_ends_before_it_starts_is_refused(client, db):
    boss = await admin(client, db)
    csrf = await console(client, db, "operator")
    past = (clock.now() - timedelta(days=1)).astimezone(shop_zone()).strftime("%Y-%m-%dT%H:%M")
    window = {**BASE, "csrf_token": csrf, "validity": "window"}
    r = await client.post("/admin/coupons/new", data={**window, "valid_until": past})
    assert r.status_code == 422
    assert _error_beside(r.text, "valid_until") == "有效期已经结束：截止时间须晚于现在"
    r = await client.post(
        "/admin/coupons/new", data={**window, "valid_from": "2031-01-02T00:00", "valid_until": "2031-01-01T00:00"}
    )
    assert r.status_code == 422
    assert _error_beside(r.text, "valid_until") == "有效期的截止时间须晚于开始时间"
    assert await _templates(db) == []

    # The API refuses the same, with stable codes.
    api = {"name": "x", "kind": "amount", "amount_fen": 100}
    ended = (clock.now() - timedelta(minutes=1)).isoformat()
    r = await client.post("/api/admin/v1/coupons/templates", json={**api, "valid_until": ended}, headers=boss)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "VALIDITY_ENDED")
    reversed_ = {"valid_from": "2031-01-02T00:00:00+08:00", "valid_until": "2031-01-01T00:00:00+08:00"}
    r = await client.post("/api/admin/v1/coupons/templates", json={**api, **reversed_}, headers=boss)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "VALIDITY_REVERSED")

    # A template whose window ended since stays editable (its end is not moved), but not re-dated into the past.
    r = await client.post("/api/admin/v1/coupons/templates", json={**api, "valid_until": iso_in(days=3)}, headers=boss)
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    async with db.tx() as s:
        await s.execute(update(CouponTemplate).values(valid_until=clock.now() - timedelta(days=1)))
    page = (await client.get(f"/admin/coupons/{tid}")).text
    until = re.search(r'name="valid_until" value="([^"]+)"', page)[1]
    typed = {**window, "amount": "1", "threshold": "", "valid_until": until, "name": "旧券改名"}
    r = await client.post(f"/admin/coupons/{tid}", data=typed)
    assert r.status_code == 303, _error_beside(r.text, "valid_until")
    two_days_ago = (clock.now() - timedelta(days=2)).astimezone(shop_zone()).strftime("%Y-%m-%dT%H:%M")
    r = await client.post(f"/admin/coupons/{tid}", data={**typed, "valid_until": two_days_ago})
    assert r.status_code == 422 and _error_beside(r.text, "valid_until") == "有效期已经结束：截止时间须晚于现在"


async def test_the_usage_line_names_each_status_once(client, db):
    boss = await admin(client, db)
    csrf = await console(client, db, "operator")
    r = await client.post("/admin/coupons/new", data={**BASE, "csrf_token": csrf})
    tid = int(r.headers["location"].split("/")[-1].split("?")[0])
    bob = await shopper(client, "bob")
    assert (await client.post(f"/api/v1/coupons/{tid}/claim", headers=bob)).status_code in (200, 201)
    async with db.tx() as s:
        await s.execute(update(Coupon).values(status="used"))
        await s.execute(update(CouponTemplate).values(used=1))
    usage = re.search(
        r'<section class="card" id="usage">(.*?)</section>', (await client.get(f"/admin/coupons/{tid}")).text, re.S
    )
    assert usage and usage[1].count("已使用") == 1 and "已使用 <b>1</b>" in usage[1]
    assert boss


GARBAGE = [
    "",
    " ",
    "-1",
    "1e5",
    "0x10",
    "１２",
    "９９９９９９９９９９９９",
    "1.999",
    "NaN",
    "\x00",
    "<b>",
    "x" * 3000,
    "2030-13-01T00:00",
]


async def test_garbage_in_any_field_is_a_422_never_a_500(client, db):
    csrf = await console(client, db, "operator")
    fields = [
        "threshold",
        "amount",
        "zhe",
        "max_discount",
        "valid_days",
        "valid_from",
        "valid_until",
        "claim_from",
        "claim_until",
        "total",
        "per_user_limit",
        "name",
        "kind",
        "scope",
        "product_id",
        "category_id",
        "issue_mode",
    ]
    for i, field in enumerate(fields):
        for j, junk in enumerate(GARBAGE):
            kind, validity = ("amount", "percent")[(i + j) % 2], ("days", "window")[(i + j) // 2 % 2]
            data = {**BASE, "csrf_token": csrf, "kind": kind, "zhe": "9", "validity": validity}
            data |= {"valid_until": "2031-01-01T00:00", field: junk}
            r = await client.post("/admin/coupons/new", data=data)
            assert r.status_code in (303, 422), (kind, validity, field, junk, r.status_code)
