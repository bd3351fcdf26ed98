"""The group-buying console: activity editor, figures, groups by state, shipping only after success."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from fissionmall.core import clock
from fissionmall.groupbuy.models import GroupActivity
from fissionmall.web.console import shop_zone
from tests.console_helpers import console
from tests.groupbuy.helpers import joined_and_paid, make_activity, opened_and_paid
from tests.helpers import admin, product, run_jobs, shopper


def _local(days: float) -> str:
    return (clock.now() + timedelta(days=days)).astimezone(shop_zone()).strftime("%Y-%m-%dT%H:%M")


async def test_operator_creates_an_activity_in_the_editor_and_bad_prices_are_refused(client, db):
    boss = await admin(client, db, username="api-boss")
    p = await product(client, boss, prices=(1990,), stock=50)
    csrf = await console(client, db, "operator")
    sku = p["skus"][0]["id"]
    page = await client.get(f"/admin/groupbuy/new?product_id={p['id']}")
    assert page.status_code == 200 and f'name="price_{sku}"' in page.text
    form = {
        "csrf_token": csrf,
        "product_id": str(p["id"]),
        "title": "三人团",
        "group_size": "3",
        "duration_minutes": "1440",
        "pay_minutes": "15",
        "max_open_per_user": "3",
        "per_user_limit": "0",
        "per_order_limit": "5",
        "leader_discount": "1.00",
        "leader_points": "0",
        "starts_at": _local(-1),
        "ends_at": _local(7),
        f"price_{sku}": "29.90",
        f"stock_{sku}": "30",
    }
    r = await client.post("/admin/groupbuy/new", data=form)
    assert r.status_code == 400 and "拼团价不能高于商品原价" in r.text
    async with db.read() as s:
        assert (await s.scalars(select(GroupActivity))).all() == []
    r = await client.post("/admin/groupbuy/new", data={**form, f"price_{sku}": "9.90", "new_user_required": "1"})
    assert r.status_code == 303, r.text
    async with db.read() as s:
        act = (await s.scalars(select(GroupActivity))).one()
    assert (act.skus, act.leader_discount_fen, act.new_user_required, act.stock) == (
        [{"sku_id": sku, "price_fen": 990}],
        100,
        True,
        30,
    )
    listing = await client.get("/admin/groupbuy")
    assert listing.status_code == 200 and "三人团" in listing.text
    assert "3 人团 · 24 小时" in listing.text and "1440 分钟" not in listing.text
    r = await client.post(f"/admin/groupbuy/{act.id}/edit", data={**form, f"price_{sku}": "8.80", f"stock_{sku}": "20"})
    assert r.status_code == 303
    async with db.read() as s:
        act2 = await s.get(GroupActivity, act.id, populate_existing=True)
        assert act2 is not None and act2.skus[0]["price_fen"] == 880 and act2.stock_left == 20


async def test_groups_list_filters_by_state_and_ships_only_a_succeeded_group(client, db):
    boss = await admin(client, db, username="api-boss")
    p = await product(client, boss, stock=10)
    act = await make_activity(client, boss, p, group_size=2)
    sku = act["skus"][0]["sku_id"]
    a, b, c = await shopper(client, "ca"), await shopper(client, "cb"), await shopper(client, "cc")
    done, leader_order = await opened_and_paid(client, a, act)
    forming, forming_order = await opened_and_paid(client, c, act)
    await run_jobs(db)
    await joined_and_paid(client, b, done, sku)
    await run_jobs(db)
    csrf = await console(client, db, "operator")

    page = await client.get("/admin/groupbuy/groups?status=forming")
    assert page.status_code == 200
    assert re.findall(r'data-group-id="(\d+)"', page.text) == [str(forming)]
    page = await client.get("/admin/groupbuy/groups?status=succeeded")
    assert re.findall(r'data-group-id="(\d+)"', page.text) == [str(done)]

    r = await client.post(
        f"/admin/groupbuy/groups/{forming}/orders/{forming_order}/ship",
        data={"csrf_token": csrf, "carrier": "顺丰速运", "tracking_no": "SF0001"},
    )
    assert r.status_code == 409 and "成团后才能发货" in r.text
    assert (await client.get(f"/api/v1/orders/{forming_order}", headers=c)).json()["status"] == "paid"
    r = await client.post(
        f"/admin/groupbuy/groups/{done}/orders/{leader_order}/ship",
        data={"csrf_token": csrf, "carrier": "顺丰速运", "tracking_no": "SF0002"},
    )
    assert r.status_code == 303
    assert (await client.get(f"/api/v1/orders/{leader_order}", headers=a)).json()["status"] == "shipped"
    figures = await client.get("/admin/groupbuy")
    assert 'data-figure="opened">2<' in figures.text and 'data-figure="succeeded">1<' in figures.text


async def test_staff_without_marketing_cannot_open_the_editor(client, db):
    await console(client, db, "finance")
    r = await client.get("/admin/groupbuy/new")
    assert r.status_code == 403


async def test_the_editor_picks_its_product_with_the_picker_and_comes_back_with_it(client, db):
    boss = await admin(client, db, username="api-boss")
    p = await product(client, boss, title="阳澄湖大闸蟹", prices=(9900,), stock=20)
    sku = p["skus"][0]["id"]
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/groupbuy/new")
    assert page.status_code == 200
    assert "data-product-picker" in page.text and 'data-name="product_id"' in page.text
    assert '<select name="product_id"' not in page.text and 'id="gb-preview"' in page.text
    form = {
        "csrf_token": csrf,
        "group_size": "3",
        "duration_minutes": "1440",
        "starts_at": _local(-1),
        "ends_at": _local(7),
    }
    r = await client.post("/admin/groupbuy/new", data=form)
    assert r.status_code == 400 and "请先选择商品" in r.text
    r = await client.post("/admin/groupbuy/new", data={**form, "product_id": str(p["id"]), f"price_{sku}": "abc"})
    assert r.status_code == 400
    # the chosen product is shown again (name, price) with its SKU row as typed
    assert "阳澄湖大闸蟹" in r.text and f'name="product_id" value="{p["id"]}"' in r.text
    assert f'name="price_{sku}"' in r.text and 'value="abc"' in r.text
    async with db.read() as s:
        assert (await s.scalars(select(GroupActivity))).all() == []


async def test_group_lists_name_their_activity_and_a_forming_group_says_its_status_once(client, db):
    boss = await admin(client, db, username="api-boss")
    p = await product(client, boss, stock=10)
    act = await make_activity(client, boss, p, group_size=3, title="周末三人团")
    leader = await shopper(client, "la")
    gid, _ = await opened_and_paid(client, leader, act)
    await run_jobs(db)
    await console(client, db, "operator")
    page = await client.get("/admin/groupbuy/groups")
    row = re.search(rf'<tr data-group-id="{gid}">(.*?)</tr>', page.text, re.S).group(1)
    assert "周末三人团" in row and f"<td>#{act['id']}</td>" not in row
    page = await client.get(f"/admin/groupbuy/groups?activity_id={act['id']}")
    assert "团列表 · 周末三人团" in page.text and f"活动 #{act['id']}" not in page.text
    detail = await client.get(f"/admin/groupbuy/groups/{gid}")
    main = detail.text.split('id="group-status"', 1)[1]
    assert main.count("拼团中") == 1  # the badge; the note says what is missing instead
    assert "还差 2 人成团" in detail.text
