"""Console pages for coupons: create, edit, pause, issue, usage; who may see the marketing pages."""

from __future__ import annotations

from sqlalchemy import select

from fissionmall.coupons.models import CouponTemplate
from tests.console_helpers import console
from tests.helpers import shopper


async def test_an_operator_creates_edits_pauses_and_issues_a_coupon_from_the_console(client, db):
    csrf = await console(client, db, "operator")
    form = {
        "csrf_token": csrf,
        "name": "满100减20",
        "kind": "amount",
        "threshold": "100",
        "amount": "20",
        "scope": "all",
        "valid_days": "7",
        "total": "50",
        "per_user_limit": "1",
        "issue_mode": "claim",
        "return_on_refund": "on",
    }
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
