"""运费模板 over HTTP: CRUD and its authorization, exactly one default, refusals with codes and nothing
changed, checkout charging by template (mixed carts, 包邮, the preview's explanation), a region not
delivered refused with nothing created, and the derived 包邮 label."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from fissionmall.catalog.models import Product
from fissionmall.orders.models import Order
from fissionmall.shipping.models import ShippingTemplate
from tests.authz import check_admin_matrix
from tests.helpers import ADDRESS, admin, product, shopper

API = "/api/admin/v1/shipping/templates"
SHANGHAI = {**ADDRESS, "region": "上海市 浦东新区"}
XINJIANG = {**ADDRESS, "region": "新疆维吾尔自治区 乌鲁木齐市", "region_code": "650102"}

ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
    ("GET", API, None, "catalog.read", "store_staff"),
    ("POST", API, {"name": "x"}, "catalog", "finance"),
    ("GET", API + "/{template_id}", None, "catalog.read", "store_staff"),
    ("PUT", API + "/{template_id}", {"name": "改名"}, "catalog", "finance"),
    ("DELETE", API + "/{template_id}", None, "catalog", "finance"),
]


def template(name: str = "普通快递", **over: Any) -> dict[str, Any]:
    return {
        "name": name,
        "mode": "piece",
        "default_rule": {"first_units": 1, "first_fee_fen": 800, "additional_units": 1, "additional_fee_fen": 400},
        **over,
    }


async def make(client, owner, **over: Any) -> dict[str, Any]:
    r = await client.post(API, json=template(**over), headers=owner)
    assert r.status_code == 201, r.text
    return r.json()


async def use(db, product_id: int, template_id: int | None) -> None:
    # The catalogue's product form sets this; its helper owns that path.
    async with db.tx() as s:
        await s.execute(update(Product).where(Product.id == product_id).values(shipping_template_id=template_id))


async def count(db, model) -> int:
    async with db.read() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def preview(client, who, items, **extra):
    r = await client.post("/api/v1/checkout/preview", json={"items": items, **extra}, headers=who)
    assert r.status_code == 200, r.text
    body = r.json()
    return body, next(s for s in body["steps"] if s["kind"] == "shipping")


async def test_authorization_matrix_and_nothing_changes(client, db):
    owner = await admin(client, db, "owner")
    t = await make(client, owner)
    before = await count(db, ShippingTemplate)
    await check_admin_matrix(client, db, ADMIN_ROUTES, {"template_id": t["id"]}, await shopper(client))
    assert await count(db, ShippingTemplate) == before
    operator = await admin(client, db, "operator")  # catalog staff may edit templates
    assert (await client.put(f"{API}/{t['id']}", json={"name": "运营改"}, headers=operator)).status_code == 200
    finance = await admin(client, db, "finance")  # catalog.read may look
    assert (await client.get(API, headers=finance)).status_code == 200


async def test_the_first_template_becomes_the_default_and_one_default_stays(client, db):
    owner = await admin(client, db, "owner")
    a = await make(client, owner, name="A")
    assert a["is_default"] is True
    b = await make(client, owner, name="B", is_default=True)
    listed = (await client.get(API, headers=owner)).json()
    assert [(x["name"], x["is_default"]) for x in listed] == [("B", True), ("A", False)]
    r = await client.put(f"{API}/{b['id']}", json={"is_default": False}, headers=owner)
    assert r.status_code == 409 and r.json()["error"]["code"] == "SHIPPING_DEFAULT_REQUIRED"
    r = await client.delete(f"{API}/{b['id']}", headers=owner)
    assert r.status_code == 409 and r.json()["error"]["code"] == "SHIPPING_DEFAULT_REQUIRED"
    assert (await client.put(f"{API}/{a['id']}", json={"is_default": True}, headers=owner)).json()["is_default"]
    assert (await client.delete(f"{API}/{b['id']}", headers=owner)).status_code == 204
    assert (await client.delete(f"{API}/{a['id']}", headers=owner)).status_code == 204  # the last one
    assert await count(db, ShippingTemplate) == 0


async def test_a_template_products_use_cannot_be_deleted(client, db):
    owner = await admin(client, db, "owner")
    await make(client, owner, name="默认")
    t = await make(client, owner, name="生鲜")
    p = await product(client, owner)
    await use(db, p["id"], t["id"])
    r = await client.delete(f"{API}/{t['id']}", headers=owner)
    assert r.status_code == 409 and r.json()["error"]["code"] == "SHIPPING_TEMPLATE_IN_USE"
    assert (await client.get(f"{API}/{t['id']}", headers=owner)).json()["products"] == 1


@pytest.mark.parametrize(
    ("over", "code"),
    [
        (
            {
                "rules": [
                    {"regions": ["440000"], "first_fee_fen": 1000},
                    {"regions": ["440100"], "first_fee_fen": 1200},
                ]
            },
            "SHIPPING_REGION_OVERLAP",
        ),
        ({"rules": [{"regions": ["123456"], "first_fee_fen": 1000}]}, "SHIPPING_REGION_UNKNOWN"),
        ({"not_delivered": ["999999"]}, "SHIPPING_REGION_UNKNOWN"),
        ({"default_rule": {"first_fee_fen": -1}}, "SHIPPING_FEE_NEGATIVE"),
        ({"default_rule": {"first_units": 0}}, "SHIPPING_UNIT_ZERO"),
        ({"free": [{"regions": []}]}, "SHIPPING_FREE_CONDITION_EMPTY"),
    ],
)
async def test_bad_templates_are_refused_with_their_code_and_nothing_is_written(client, db, over, code):
    owner = await admin(client, db, "owner")
    r = await client.post(API, json=template(**over), headers=owner)
    assert r.status_code == 400 and r.json()["error"]["code"] == code, r.text
    assert await count(db, ShippingTemplate) == 0


async def test_without_templates_the_flat_fee_still_applies(client, db):
    owner = await admin(client, db, "owner")
    p = await product(client, owner)
    _, step = await preview(client, await shopper(client), [{"sku_id": p["skus"][0]["id"], "qty": 2}])
    assert step == {"kind": "shipping", "label": "运费", "amount_fen": 800}


async def test_a_mixed_cart_pays_each_template_and_says_why(client, db):
    owner = await admin(client, db, "owner")
    await make(client, owner, name="普通")
    fresh = await make(
        client,
        owner,
        name="生鲜",
        default_rule={"first_units": 1, "first_fee_fen": 1500, "additional_units": 1, "additional_fee_fen": 500},
        rules=[{"regions": ["650000"], "first_fee_fen": 3000, "additional_fee_fen": 1000}],
    )
    tea, shrimp = await product(client, owner, title="茶"), await product(client, owner, title="虾")
    await use(db, shrimp["id"], fresh["id"])
    alice = await shopper(client)
    items = [{"sku_id": tea["skus"][0]["id"], "qty": 2}, {"sku_id": shrimp["skus"][0]["id"], "qty": 2}]
    body, step = await preview(client, alice, items, address=SHANGHAI)
    assert step["amount_fen"] == 1200 + 2000 == body["shipping_fen"]
    assert step["label"] == "运费 ¥32（普通：首件¥8 + 续件¥4；生鲜：首件¥15 + 续件¥5）"
    _, step = await preview(client, alice, items, address=XINJIANG)
    assert step["amount_fen"] == 1200 + 4000
    _, step = await preview(client, alice, items)  # no address, none in the book: the default rules
    assert step["amount_fen"] == 3200 and step["label"].endswith("，未选地址，按默认运费计")
    r = await client.post("/api/v1/orders", json={"items": items, "address": XINJIANG}, headers=alice)
    assert r.status_code == 201, r.text
    assert r.json()["payable_fen"] == 2 * 1990 * 2 + 5200


async def test_a_free_template_charges_nothing_and_free_above_an_amount_reads_in_the_label(client, db):
    owner = await admin(client, db, "owner")
    await make(client, owner, free=[{"min_amount_fen": 5000}])
    free = await make(client, owner, name="包邮", default_rule={"first_fee_fen": 0, "additional_fee_fen": 0})
    p, q = await product(client, owner, title="茶"), await product(client, owner, title="杯")
    await use(db, q["id"], free["id"])
    alice = await shopper(client)
    _, step = await preview(client, alice, [{"sku_id": q["skus"][0]["id"], "qty": 3}], address=SHANGHAI)
    assert step == {"kind": "shipping", "label": "包邮", "amount_fen": 0}
    _, step = await preview(client, alice, [{"sku_id": p["skus"][0]["id"], "qty": 3}], address=SHANGHAI)
    assert step == {"kind": "shipping", "label": "包邮（满¥50）", "amount_fen": 0}
    _, step = await preview(client, alice, [{"sku_id": p["skus"][0]["id"], "qty": 1}], address=SHANGHAI)
    assert step == {"kind": "shipping", "label": "运费 ¥8（首件¥8）", "amount_fen": 800}


async def test_the_preview_uses_the_default_address_and_says_so(client, db):
    owner = await admin(client, db, "owner")
    await make(client, owner, rules=[{"regions": ["650000"], "first_fee_fen": 2000}])
    p = await product(client, owner)
    alice = await shopper(client)
    r = await client.post("/api/v1/me/addresses", json={**XINJIANG, "is_default": True}, headers=alice)
    assert r.status_code in (200, 201), r.text
    _, step = await preview(client, alice, [{"sku_id": p["skus"][0]["id"], "qty": 1}])
    assert step["amount_fen"] == 2000 and step["label"] == "运费 ¥20（首件¥20），按默认地址计"


async def test_a_region_not_delivered_is_refused_naming_the_products_and_nothing_is_created(client, db):
    owner = await admin(client, db, "owner")
    await make(client, owner)
    remote = await make(client, owner, name="不发新疆", not_delivered=["650000"])
    tea, shrimp = await product(client, owner, title="茶"), await product(client, owner, title="活虾", stock=5)
    await use(db, shrimp["id"], remote["id"])
    alice = await shopper(client)
    items = [{"sku_id": tea["skus"][0]["id"], "qty": 1}, {"sku_id": shrimp["skus"][0]["id"], "qty": 1}]
    r = await client.post("/api/v1/orders", json={"items": items, "address": XINJIANG}, headers=alice)
    assert r.status_code == 400 and r.json()["error"]["code"] == "SHIPPING_REGION_NOT_DELIVERED"
    assert "活虾" in r.json()["error"]["message"] and "茶" not in r.json()["error"]["message"]
    assert await count(db, Order) == 0
    stock = (await client.get(f"/api/admin/v1/products/{shrimp['id']}", headers=owner)).json()["skus"][0]["stock"]
    assert stock == 5
    r = await client.post("/api/v1/orders", json={"items": items, "address": SHANGHAI}, headers=alice)
    assert r.status_code == 201, r.text


async def test_the_baoyou_label_is_derived_from_the_template_never_typed(client, db):
    owner = await admin(client, db, "owner")
    body = {"title": "茶", "labels": ["热销", "包邮"], "skus": [{"name": "默认", "price_fen": 100, "stock": 1}]}
    p = (await client.post("/api/admin/v1/products", json=body, headers=owner)).json()
    await make(client, owner)  # the default charges 8 元
    assert (await client.get(f"/api/v1/products/{p['id']}")).json()["labels"] == ["热销"]
    free = await make(client, owner, name="包邮", free=[{"min_count": 1}])
    await use(db, p["id"], free["id"])
    assert (await client.get(f"/api/v1/products/{p['id']}")).json()["labels"] == ["热销", "包邮"]
    _, step = await preview(client, await shopper(client), [{"sku_id": p["skus"][0]["id"], "qty": 1}])
    assert step["amount_fen"] == 0


async def test_the_product_list_derives_the_baoyou_label_as_the_product_page_does(client, db):
    owner = await admin(client, db, "owner")
    typed = {"title": "茶", "labels": ["热销", "包邮"], "skus": [{"name": "默认", "price_fen": 100, "stock": 1}]}
    tea = (await client.post("/api/admin/v1/products", json=typed, headers=owner)).json()
    cup = (
        await client.post("/api/admin/v1/products", json={**typed, "title": "杯", "labels": []}, headers=owner)
    ).json()
    await make(client, owner)  # the default charges 8 元: the typed 包邮 claims nothing
    free = await make(client, owner, name="包邮", free=[{"min_count": 1}])
    await use(db, cup["id"], free["id"])
    cards = {c["id"]: c["labels"] for c in (await client.get("/api/v1/products")).json()["items"]}
    assert cards[tea["id"]] == ["热销"] and cards[cup["id"]] == ["包邮"]


async def test_a_promotion_that_ships_free_without_threshold_gives_the_label_too(client, db):
    from tests.pricing.helpers import promotion

    owner = await admin(client, db, "owner")
    await make(client, owner)  # the default charges 8 元
    p = await product(client, owner)
    assert "包邮" not in (await client.get(f"/api/v1/products/{p['id']}")).json()["labels"]
    await promotion(client, owner, kind="free_shipping", name="满50包邮", threshold=5000)
    assert "包邮" not in (await client.get(f"/api/v1/products/{p['id']}")).json()["labels"]
    await promotion(client, owner, kind="free_shipping", name="全场包邮", threshold=0)
    assert (await client.get(f"/api/v1/products/{p['id']}")).json()["labels"] == ["包邮"]
    _, step = await preview(client, await shopper(client), [{"sku_id": p["skus"][0]["id"], "qty": 1}])
    assert step["amount_fen"] == 0


async def test_templates_created_at_once_in_an_empty_shop_leave_exactly_one_default(client, db):
    import asyncio

    owner = await admin(client, db, "owner")
    got = await asyncio.gather(*(client.post(API, json=template(f"模板{i}"), headers=owner) for i in range(4)))
    assert [r.status_code for r in got] == [201] * 4, [r.text for r in got]
    async with db.read() as s:
        defaults = await s.scalar(select(func.count()).select_from(ShippingTemplate).where(ShippingTemplate.is_default))
    assert defaults == 1 and sum(r.json()["is_default"] for r in got) == 1


async def test_an_address_whose_province_is_not_recognised_pays_the_default_rule_and_says_so(client, db):
    owner = await admin(client, db, "owner")
    await make(client, owner, rules=[{"regions": ["310000"], "first_fee_fen": 500}])
    p = await product(client, owner)
    items = [{"sku_id": p["skus"][0]["id"], "qty": 1}]
    _, step = await preview(client, await shopper(client), items, address={**ADDRESS, "region": "某地 某区"})
    assert step["amount_fen"] == 800 and step["label"] == "运费 ¥8（首件¥8），未能识别地址所在省份，按默认运费计"
    _, step = await preview(client, await shopper(client), items, address=SHANGHAI)
    assert step == {"kind": "shipping", "label": "运费 ¥5（首件¥5）", "amount_fen": 500}


async def test_the_product_form_is_offered_the_templates(client, db):
    from fissionmall.core import extras

    owner = await admin(client, db, "owner")
    a = await make(client, owner, name="普通")
    b = await make(client, owner, name="生鲜")
    async with db.read() as s:
        got = await extras.gather(extras.PRODUCT_FORM, s=s)
    assert got["shipping_templates"] == [
        {"id": a["id"], "name": "普通", "is_default": True},
        {"id": b["id"], "name": "生鲜", "is_default": False},
    ]
