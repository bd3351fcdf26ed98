"""The console's 会员等级 and 会员日 pages, and the member list's parts on the 客户 pages."""

from __future__ import annotations

from fissionmall.core import clock
from fissionmall.membership import growth
from tests.console_helpers import console
from tests.helpers import shopper


async def test_levels_page_edit_and_refusals_beside_the_field(client, db):
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/membership/levels")
    assert page.status_code == 200 and "黄金会员" in page.text and "9折" in page.text and "会员等级" in page.text
    form = {
        "csrf_token": csrf,
        "name": "黑金会员",
        "rank": "4",
        "threshold": "50000",
        "discount": "7.5",
        "multiplier": "20000",
    }
    r = await client.post("/admin/membership/levels/new", data=form)
    assert r.status_code == 303, r.text
    page = await client.get("/admin/membership/levels")
    assert "黑金会员" in page.text and "7.5折" in page.text
    bad = {**form, "name": "新等级", "rank": "5", "threshold": "100", "discount": "九折"}
    r = await client.post("/admin/membership/levels/new", data=bad)
    assert r.status_code == 422 and "会员折扣格式不正确" in r.text
    r = await client.post(
        "/admin/membership/levels/new", data={**form, "name": "新等级", "rank": "5", "threshold": "5000"}
    )
    assert r.status_code == 422 and "成长值门槛" in r.text and "已有同一成长值门槛" in r.text
    r = await client.post("/admin/membership/rules", data={"csrf_token": csrf, "window_months": "6", "stacks": "on"})
    assert r.status_code == 303
    r = await client.post("/admin/membership/rules", data={"csrf_token": csrf, "window_months": "99"})
    assert r.status_code == 422 and "1 到 36" in r.text


async def test_member_day_page(client, db):
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/membership/member-day")
    assert page.status_code == 200 and "每月 18 日" in page.text
    r = await client.post(
        "/admin/membership/member-day",
        data={"csrf_token": csrf, "enabled": "on", "day": "last", "rate": "8", "double_points": "on"},
    )
    assert r.status_code == 303
    api = (await client.get("/api/v1/membership/member-day")).json()
    assert api["enabled"] and api["day_of_month"] == "last" and api["extra_rate_bp"] == 8000
    r = await client.post("/admin/membership/member-day", data={"csrf_token": csrf, "day": "30", "rate": "8"})
    assert r.status_code == 422 and "会员日须为每月" in r.text


async def test_customer_list_and_page_show_the_level(client, db):
    me = await shopper(client, "alice")
    await shopper(client, "bob")
    cid = (await client.get("/api/v1/me", headers=me)).json()["id"]
    async with db.tx() as s:
        await growth.grant_order(s, order_id=77, customer_id=cid, lines=[(1, 600_000)], at=clock.now())
    await console(client, db, "operator")
    page = await client.get("/admin/customers")
    assert page.status_code == 200 and "会员等级" in page.text and "黄金会员" in page.text and "普通会员" in page.text
    gold = await client.get("/admin/customers", params={"level": "2"})
    assert "alice" in gold.text.lower() or "黄金会员" in gold.text
    assert "普通会员" not in gold.text.split("<tbody", 1)[-1]
    base = await client.get("/admin/customers", params={"level": "0"})
    assert "黄金会员" not in base.text.split("<tbody", 1)[-1]
    detail = await client.get(f"/admin/customers/{cid}")
    assert (
        detail.status_code == 200 and "当前等级" in detail.text and "6000" in detail.text and "订单支付" in detail.text
    )
