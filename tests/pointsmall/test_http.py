"""积分商城's admin API: authorization, the items' CRUD, and bad input (each a 4xx with a stable code,
nothing changed); the shop's refusals of a redemption."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from fissionmall.core import clock
from fissionmall.pointsmall.models import MallItem
from tests.authz import check_admin_matrix
from tests.helpers import ADDRESS, admin, product, shopper
from tests.pointsmall.helpers import (
    ADMIN,
    API,
    coupon_item,
    give_points,
    me,
    product_item,
    redeem,
    sku_stock,
    snapshot,
    template,
)

ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
    ("GET", ADMIN, None, "marketing.read", "store_staff"),
    ("POST", ADMIN, {"kind": "coupon", "coupon_template_id": 1, "points": 1, "stock": 1}, "marketing", "finance"),
    ("GET", ADMIN + "/redemptions", None, "marketing.read", "store_staff"),
    ("GET", ADMIN + "/{item_id}", None, "marketing.read", "store_staff"),
    ("PUT", ADMIN + "/{item_id}", {"points": 2}, "marketing", "finance"),
    ("DELETE", ADMIN + "/{item_id}", None, "marketing", "finance"),
]


async def _count(db) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(MallItem)) or 0)


async def test_admin_routes_check_the_marketing_permission(client, db):
    boss = await admin(client, db)
    item = await coupon_item(client, boss, await template(client, boss))
    await check_admin_matrix(client, db, ADMIN_ROUTES, {"item_id": item["id"]}, await shopper(client))
    got = (await client.get(f"{ADMIN}/{item['id']}", headers=boss)).json()
    assert got["points"] == 500 and await _count(db) == 1


async def test_crud_round_trip(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10, title="保温杯"))["skus"][0]["id"]
    item = await product_item(client, boss, sku, title="积分换保温杯", sort_order=2)
    assert item["price_text"] == "300积分+¥9.90" and item["state"] == "兑换中"
    r = await client.put(f"{ADMIN}/{item['id']}", json={"points": 250, "cash_fen": 0, "active": False}, headers=boss)
    assert r.status_code == 200, r.text
    assert (r.json()["price_text"], r.json()["state"]) == ("250积分", "已停用")
    assert (await client.get(API)).json() == []
    assert (await client.get(f"{API}/{item['id']}")).status_code == 404
    await client.put(f"{ADMIN}/{item['id']}", json={"active": True}, headers=boss)
    shop = (await client.get(f"{API}/{item['id']}")).json()
    assert (shop["title"], shop["points"], shop["units_left"], shop["price_fen"]) == ("积分换保温杯", 250, 3, 1990)
    assert [i["id"] for i in (await client.get(ADMIN, headers=boss)).json()] == [item["id"]]


BAD_CREATES = [
    ({"kind": "product", "points": 1, "stock": 1}, 422, "MALL_SKU_REQUIRED"),
    ({"kind": "coupon", "points": 1, "stock": 1}, 422, "MALL_COUPON_REQUIRED"),
    ({"kind": "product", "sku_id": 999999, "points": 1, "stock": 1}, 404, "MALL_SKU_NOT_FOUND"),
    ({"kind": "coupon", "coupon_template_id": 999999, "points": 1, "stock": 1}, 404, "MALL_COUPON_NOT_FOUND"),
    ({"kind": "product", "sku": "SKU", "points": 0, "stock": 1}, 422, "VALIDATION_ERROR"),
    ({"kind": "product", "sku_id": "1", "points": 10, "stock": 1}, 422, "VALIDATION_ERROR"),
    ({"kind": "product", "sku_id": "SKU", "points": 10, "stock": -1}, 422, "VALIDATION_ERROR"),
    ({"kind": "product", "sku_id": "SKU", "points": 10, "stock": 1, "cash_fen": -1}, 422, "VALIDATION_ERROR"),
    ({"kind": "product", "sku_id": "SKU", "points": 10, "stock": 1, "cash_fen": 9.9}, 422, "VALIDATION_ERROR"),
    ({"kind": "product", "sku_id": "SKU", "points": 10, "stock": 1, "per_user_limit": -1}, 422, "VALIDATION_ERROR"),
    ({"kind": "gift", "points": 10, "stock": 1}, 422, "VALIDATION_ERROR"),
    ({"kind": "product", "sku_id": "SKU", "points": 10, "stock": 11}, 409, "INSUFFICIENT_STOCK"),
    (
        {"kind": "product", "sku_id": "SKU", "points": 10, "stock": 1, "starts_at": "T+2", "ends_at": "T+1"},
        422,
        "MALL_WINDOW_INVALID",
    ),
    ({"kind": "coupon", "coupon_template_id": "PAUSED", "points": 10, "stock": 1}, 409, "MALL_COUPON_INACTIVE"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_CREATES)
async def test_bad_items_are_refused_with_a_code_and_nothing_changes(client, db, body, status, code):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    paused = await template(client, boss, status="paused")
    now = clock.now()
    fill = {
        "SKU": sku,
        "PAUSED": paused["id"],
        "T+1": (now + timedelta(hours=1)).isoformat(),
        "T+2": (now + timedelta(hours=2)).isoformat(),
    }
    body = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    r = await client.post(ADMIN, json=body, headers=boss)
    assert r.status_code == status and r.json()["error"]["code"] == code, r.text
    assert await _count(db) == 0 and await sku_stock(db, sku) == 10


async def test_bad_updates_are_refused(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    item = await product_item(client, boss, sku)
    for body, status, code in [
        ({"points": None}, 422, "VALIDATION_ERROR"),
        ({"stock": 11}, 409, "INSUFFICIENT_STOCK"),
        ({"kind": "coupon"}, 422, "VALIDATION_ERROR"),
        (
            {
                "starts_at": (clock.now() + timedelta(days=2)).isoformat(),
                "ends_at": (clock.now() + timedelta(days=1)).isoformat(),
            },
            422,
            "MALL_WINDOW_INVALID",
        ),
    ]:
        r = await client.put(f"{ADMIN}/{item['id']}", json=body, headers=boss)
        assert r.status_code == status and r.json()["error"]["code"] == code, (body, r.text)
    got = (await client.get(f"{ADMIN}/{item['id']}", headers=boss)).json()
    assert (got["points"], got["stock"], got["starts_at"]) == (300, 3, None) and await sku_stock(db, sku) == 7
    assert (await client.put(f"{ADMIN}/999999", json={"points": 2}, headers=boss)).status_code == 404
    assert (await client.delete(f"{ADMIN}/999999", headers=boss)).status_code == 404


async def test_bad_redemptions_are_refused_with_a_code_and_nothing_changes(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, stock=10))["skus"][0]["id"]
    other = (await product(client, boss, stock=10))["skus"][0]["id"]
    item = await product_item(client, boss, sku, per_user_limit=2)
    coupon = await coupon_item(client, boss, await template(client, boss))
    later = await coupon_item(
        client,
        boss,
        await template(client, boss, name="晚点券"),
        starts_at=(clock.now() + timedelta(days=1)).isoformat(),
    )
    h = await shopper(client)
    await give_points(db, await me(client, h), 10_000)
    before = await snapshot(db, item["id"])
    cases = [
        (item, {"qty": 3, "address": ADDRESS}, 409, "MALL_LIMIT_REACHED"),
        (item, {"qty": 0, "address": ADDRESS}, 422, "VALIDATION_ERROR"),
        (item, {"qty": "1", "address": ADDRESS}, 422, "VALIDATION_ERROR"),
        (item, {"sku": other, "address": ADDRESS}, 422, "MALL_SKU_MISMATCH"),
        (item, {}, 400, "ADDRESS_REQUIRED"),
        (item, {"address_id": 999999}, 404, None),
        (coupon, {"address": ADDRESS}, 422, "MALL_NO_ADDRESS_FOR_COUPON"),
        (later, {}, 409, "MALL_NOT_STARTED"),
        ({"id": 999999, "kind": "coupon"}, {}, 404, "MALL_ITEM_NOT_FOUND"),
    ]
    for it, body, status, code in cases:
        r = await client.post(f"{API}/{it['id']}/redeem", json=body, headers=h)
        assert r.status_code == status, (body, r.text)
        if code:
            assert r.json()["error"]["code"] == code, (body, r.text)
    assert await snapshot(db, item["id"]) == before
    r = await client.post(f"{API}/{item['id']}/redeem", json={"address": ADDRESS})
    assert r.status_code == 401
    await redeem(client, h, item, qty=2)
    r = await redeem(client, h, item)
    assert r.status_code == 409 and r.json()["error"]["code"] == "MALL_LIMIT_REACHED"
