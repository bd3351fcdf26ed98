"""The console's 积分商城 pages: an item added through the form (a SKU from the picker, 元 for the cash
part, a window in the shop's zone) lands in the shop's list; a coupon item; mistakes read in Chinese beside
their field and nothing is saved; the redemptions list; deleting gives the stock back."""

from __future__ import annotations

from sqlalchemy import func, select

from fissionmall.pointsmall.models import MallItem
from tests.console_helpers import console
from tests.helpers import admin, product, shopper
from tests.pointsmall.helpers import give_points, me, redeem, sku_stock, template


async def _count(db) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(MallItem)) or 0)


async def test_an_item_round_trips_through_the_console_form(client, db):
    boss = await admin(client, db, username="boss")
    sku = (await product(client, boss, stock=10, title="保温杯"))["skus"][0]["id"]
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/points-mall/new")
    assert page.status_code == 200 and "data-sku-picker" in page.text
    form = {
        "csrf_token": csrf,
        "kind": "product",
        "sku_id": str(sku),
        "title": "",
        "points": "300",
        "cash": "9.9",
        "stock": "4",
        "per_user_limit": "1",
        "sort_order": "",
        "active": "on",
        "starts_at": "2026-01-01T08:00",
        "ends_at": "2099-12-31T20:00",
    }
    r = await client.post("/admin/points-mall/new", data=form)
    assert r.status_code == 303, r.text
    async with db.read() as s:
        it = await s.scalar(select(MallItem))
    assert (it.kind, it.sku_id, it.points, it.cash_fen, it.stock, it.per_user_limit) == ("product", sku, 300, 990, 4, 1)
    assert it.starts_at.isoformat() == "2026-01-01T00:00:00+00:00"
    assert await sku_stock(db, sku) == 6
    shop = (await client.get("/api/v1/points/mall")).json()
    assert [(x["title"], x["price_text"]) for x in shop] == [("保温杯 规格0", "300积分+¥9.90")]
    listing = await client.get("/admin/points-mall")
    assert "保温杯" in listing.text and "4 / 4" in listing.text and "兑换中" in listing.text
    edit = await client.get(f"/admin/points-mall/{it.id}")
    assert 'value="9.9"' in edit.text and 'value="2026-01-01T08:00"' in edit.text

    r = await client.post(f"/admin/points-mall/{it.id}", data={**form, "points": "250", "stock": "5"})
    assert r.status_code == 303, r.text
    assert await sku_stock(db, sku) == 5

    h = await shopper(client)
    await give_points(db, await me(client, h), 250)
    assert (await redeem(client, h, {"id": it.id, "kind": "product"})).status_code == 201
    rows = await client.get("/admin/points-mall/redemptions")
    assert rows.status_code == 200 and "保温杯" in rows.text and "待支付" in rows.text

    r = await client.post(f"/admin/points-mall/{it.id}/delete", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert await sku_stock(db, sku) == 9  # 4 left went back; the redeemed unit stays with its order


async def test_a_coupon_item_through_the_form(client, db):
    boss = await admin(client, db, username="boss")
    tpl = await template(client, boss)
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/points-mall/new")
    assert "5元无门槛券" in page.text
    form = {
        "csrf_token": csrf,
        "kind": "coupon",
        "coupon_template_id": str(tpl["id"]),
        "points": "500",
        "stock": "100",
        "per_user_limit": "",
        "active": "on",
    }
    r = await client.post("/admin/points-mall/new", data=form)
    assert r.status_code == 303, r.text
    shop = (await client.get("/api/v1/points/mall")).json()
    assert [(x["title"], x["coupon_headline"], x["per_user_limit"]) for x in shop] == [
        ("5元无门槛券", "无门槛减5元", 0)
    ]


async def test_mistakes_read_in_chinese_beside_their_fields_and_nothing_is_saved(client, db):
    boss = await admin(client, db, username="boss")
    sku = (await product(client, boss, stock=3))["skus"][0]["id"]
    csrf = await console(client, db, "operator")
    cases = [
        ({"kind": "product", "points": "300", "stock": "1"}, "请选择兑换的商品规格"),
        ({"kind": "coupon", "points": "300", "stock": "1"}, "请选择兑换的优惠券"),
        ({"kind": "product", "sku_id": str(sku), "points": "abc", "stock": "1"}, "所需积分"),
        ({"kind": "product", "sku_id": str(sku), "points": "10", "stock": "1", "cash": "9.999"}, "加价金额"),
        ({"kind": "product", "sku_id": str(sku), "points": "10", "stock": "5"}, "商品库存不足"),
        (
            {
                "kind": "product",
                "sku_id": str(sku),
                "points": "10",
                "stock": "1",
                "starts_at": "2030-01-02T00:00",
                "ends_at": "2030-01-01T00:00",
            },
            "结束时间须晚于开始时间",
        ),
    ]
    for body, text in cases:
        r = await client.post("/admin/points-mall/new", data={"csrf_token": csrf, **body})
        assert r.status_code == 422 and text in r.text, (body, r.text[-2000:])
    assert await _count(db) == 0 and await sku_stock(db, sku) == 3


async def test_a_role_without_marketing_is_refused(client, db):
    await console(client, db, "finance")
    for path in ("/admin/points-mall", "/admin/points-mall/new", "/admin/points-mall/redemptions"):
        assert (await client.get(path)).status_code == 403, path
