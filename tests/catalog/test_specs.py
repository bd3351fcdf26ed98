"""The product itself through the admin API and the shop: spec matrix, 划线价, 商家编码, weight, 图文详情."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from fissionmall.catalog.models import Product, Sku
from tests.helpers import admin

SPECS = [{"name": "颜色", "values": ["红", "蓝"]}, {"name": "尺码", "values": ["M", "L"]}]


def _matrix(**over: Any) -> dict[str, Any]:
    skus = [
        {"spec": {"颜色": c, "尺码": z}, "price_fen": 1000 + i, "stock": 5, "list_price_fen": 2000 + i}
        for i, (c, z) in enumerate([("红", "M"), ("红", "L"), ("蓝", "M"), ("蓝", "L")])
    ]
    return {"title": "T 恤", "specs": SPECS, "skus": skus, **over}


async def _count(db, model) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_api_md_body_still_makes_a_product(client, db):
    h = await admin(client, db)
    body = {"title": "脐橙", "category": "水果", "skus": [{"name": "5斤", "price_fen": 1990, "stock": 3}], "images": []}
    r = await client.post("/api/admin/v1/products", json=body, headers=h)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["skus"][0] | {} == p["skus"][0] and p["skus"][0]["name"] == "5斤"
    assert (p["specs"], p["detail_html"], p["shipping_template_id"]) == ([], "", None)
    assert (p["skus"][0]["list_price_fen"], p["skus"][0]["code"], p["skus"][0]["weight_g"]) == (None, None, None)
    shop = (await client.get(f"/api/v1/products/{p['id']}")).json()
    assert shop["skus"] == [
        {"id": p["skus"][0]["id"], "name": "5斤", "price_fen": 1990, "stock": 3, "list_price_fen": None, "spec": {}}
    ]


async def test_a_spec_matrix_names_its_skus_and_the_shop_sees_it(client, db):
    h = await admin(client, db)
    r = await client.post(
        "/api/admin/v1/products",
        json=_matrix(
            shipping_template_id=7,
            skus=[
                *_matrix()["skus"][:3],
                {
                    "spec": {"尺码": "L", "颜色": "蓝"},
                    "name": "蓝色大码",
                    "price_fen": 900,
                    "stock": 0,
                    "code": "TS-BL",
                    "weight_g": 250,
                },
            ],
        ),
        headers=h,
    )
    assert r.status_code == 201, r.text
    p = r.json()
    assert [k["name"] for k in p["skus"]] == ["红 / M", "红 / L", "蓝 / M", "蓝色大码"]
    assert p["skus"][3]["spec"] == {"颜色": "蓝", "尺码": "L"}  # in the dimensions' order
    assert (p["skus"][3]["code"], p["skus"][3]["weight_g"], p["shipping_template_id"]) == ("TS-BL", 250, 7)
    shop = (await client.get(f"/api/v1/products/{p['id']}")).json()
    assert shop["specs"] == SPECS
    assert shop["skus"][0]["spec"] == {"颜色": "红", "尺码": "M"} and shop["skus"][0]["list_price_fen"] == 2000
    assert "code" not in shop["skus"][0]  # the merchant's own code stays in the console
    assert (shop["price_fen"], shop["list_price_fen"]) == (900, None)
    listed = (await client.get("/api/v1/products")).json()["items"][0]
    assert listed["specs"] == SPECS and listed["skus"][1]["list_price_fen"] == 2001

    r = await client.put(f"/api/admin/v1/products/{p['id']}", json={"shipping_template_id": None}, headers=h)
    assert r.status_code == 200 and r.json()["shipping_template_id"] is None and len(r.json()["skus"]) == 4


async def _refused(client, h, body: dict[str, Any], code: str, status: int = 400) -> None:
    r = await client.post("/api/admin/v1/products", json=body, headers=h)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


async def test_each_spec_mistake_has_its_code_and_saves_nothing(client, db):
    h = await admin(client, db)
    skus = _matrix()["skus"]
    await _refused(client, h, _matrix(skus=[{**skus[0], "spec": {"颜色": "红"}}]), "SPEC_MISSING_DIMENSION")
    await _refused(client, h, _matrix(skus=[{**skus[0], "spec": {"颜色": "绿", "尺码": "M"}}]), "SPEC_UNKNOWN_VALUE")
    await _refused(
        client,
        h,
        _matrix(skus=[{**skus[0], "spec": {"颜色": "红", "尺码": "M", "款式": "长"}}]),
        "SPEC_UNKNOWN_DIMENSION",
    )
    await _refused(
        client, h, _matrix(skus=[skus[0], skus[1], {**skus[2], "spec": skus[0]["spec"]}]), "SPEC_DUPLICATE_COMBINATION"
    )
    four = [{"name": n, "values": ["a"]} for n in ("颜色", "尺码", "款式", "材质")]
    await _refused(
        client,
        h,
        _matrix(specs=four, skus=[{"price_fen": 1, "spec": dict.fromkeys("颜色 尺码 款式 材质".split(), "a")}]),
        "SPEC_TOO_MANY_DIMENSIONS",
    )
    await _refused(client, h, _matrix(specs=[SPECS[0], {"name": "颜色", "values": ["x"]}]), "SPEC_DUPLICATE_DIMENSION")
    await _refused(client, h, {"title": "无名", "skus": [{"price_fen": 100}]}, "SKU_NAME_REQUIRED")
    await _refused(
        client,
        h,
        {"title": "乱", "skus": [{"name": "a", "price_fen": 1, "spec": {"颜色": "红"}}]},
        "SPEC_UNKNOWN_DIMENSION",
    )
    assert await _count(db, Product) == 0 and await _count(db, Sku) == 0


async def test_list_price_is_none_or_at_least_the_price(client, db):
    h = await admin(client, db)
    sku = {"name": "a", "price_fen": 1000, "stock": 1}
    await _refused(client, h, {"title": "x", "skus": [{**sku, "list_price_fen": 999}]}, "LIST_PRICE_BELOW_PRICE")
    r = await client.post(
        "/api/admin/v1/products", json={"title": "x", "skus": [{**sku, "list_price_fen": 1000}]}, headers=h
    )
    assert r.status_code == 201 and r.json()["skus"][0]["list_price_fen"] == 1000
    pid, sid = r.json()["id"], r.json()["skus"][0]["id"]
    r = await client.put(
        f"/api/admin/v1/products/{pid}", json={"skus": [{**sku, "id": sid, "list_price_fen": 5}]}, headers=h
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "LIST_PRICE_BELOW_PRICE"
    r = await client.put(f"/api/admin/v1/products/{pid}", json={"skus": [{**sku, "id": sid}]}, headers=h)
    assert r.status_code == 200 and r.json()["skus"][0]["list_price_fen"] is None
    await _refused(client, h, {"title": "x", "skus": [{**sku, "list_price_fen": 1.5}]}, "VALIDATION_ERROR", 422)


async def test_a_merchant_code_belongs_to_one_sku_on_sale(client, db):
    h = await admin(client, db)
    sku = {"name": "a", "price_fen": 1, "code": "A-1"}
    r = await client.post("/api/admin/v1/products", json={"title": "x", "skus": [sku]}, headers=h)
    assert r.status_code == 201
    first = r.json()
    await _refused(client, h, {"title": "y", "skus": [sku]}, "SKU_CODE_TAKEN", 409)
    await _refused(
        client,
        h,
        {"title": "y", "skus": [{**sku, "code": "B"}, {**sku, "name": "b", "code": "B"}]},
        "SKU_CODE_DUPLICATE",
    )
    # Swapping codes between a product's own SKUs is no clash.
    r = await client.put(
        f"/api/admin/v1/products/{first['id']}",
        json={
            "skus": [
                {"id": first["skus"][0]["id"], "name": "a", "price_fen": 1, "code": "B-2"},
                {"name": "new", "price_fen": 1, "code": "A-1"},
            ]
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert [k["code"] for k in r.json()["skus"]] == ["B-2", "A-1"]
    # Once the product is deleted its codes are free.
    assert (await client.delete(f"/api/admin/v1/products/{first['id']}", headers=h)).status_code == 204
    r = await client.post("/api/admin/v1/products", json={"title": "y", "skus": [sku]}, headers=h)
    assert r.status_code == 201, r.text


async def test_changing_dimensions_checks_the_skus_kept(client, db):
    h = await admin(client, db)
    p = (await client.post("/api/admin/v1/products", json=_matrix(), headers=h)).json()
    r = await client.put(f"/api/admin/v1/products/{p['id']}", json={"specs": [SPECS[0]]}, headers=h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "SPEC_UNKNOWN_DIMENSION"
    r = await client.put(
        f"/api/admin/v1/products/{p['id']}",
        json={"specs": [SPECS[0], {"name": "尺码", "values": ["M", "L", "XL"]}]},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["specs"][1]["values"] == ["M", "L", "XL"]


DIRTY = (
    '<p onclick="steal()">好<strong>物</strong><script>alert(1)</script></p>'
    '<img src="x" onerror="alert(2)"><img src="https://evil.example/t.gif" alt="t">'
    '<a href="javascript:alert(3)">点我</a><h2 style="color:red">标题</h2><ul><li>一</li></ul>'
    '<blockquote>引用</blockquote><img src="/media/p/a.png" alt="图" width="9"><iframe src="/x"></iframe>'
)


async def test_detail_html_keeps_the_allowlist_and_nothing_else(client, db):
    h = await admin(client, db)
    body = {"title": "x", "description": "纯文字", "detail_html": DIRTY, "skus": [{"name": "a", "price_fen": 1}]}
    r = await client.post("/api/admin/v1/products", json=body, headers=h)
    assert r.status_code == 201, r.text
    html = r.json()["detail_html"]
    assert html == (
        "<p>好<strong>物</strong></p>点我<h2>标题</h2><ul><li>一</li></ul>"
        '<blockquote>引用</blockquote><img src="/media/p/a.png" alt="图">'
    )
    for gone in ("script", "onerror", "onclick", "javascript", "evil.example", "style", "iframe", 'src="x"'):
        assert gone not in html
    shop = (await client.get(f"/api/v1/products/{r.json()['id']}")).json()
    assert shop["detail_html"] == html and shop["description"] == "纯文字"
    async with db.read() as s:
        assert await s.scalar(select(Product.detail_html)) == html  # stored clean, not cleaned on the way out
    r = await client.put(
        f"/api/admin/v1/products/{shop['id']}", json={"detail_html": "<script>x</script><em>e</em>"}, headers=h
    )
    assert r.status_code == 200 and r.json()["detail_html"] == "<em>e</em>"


async def test_concurrent_products_cannot_both_take_one_code(client, db):
    h = await admin(client, db)
    body = {"title": "抢", "skus": [{"name": "a", "price_fen": 1, "code": "HOT-1"}]}
    rs = await asyncio.gather(*(client.post("/api/admin/v1/products", json=body, headers=h) for _ in range(6)))
    assert sorted(r.status_code for r in rs) == [201] + [409] * 5
    assert {r.json()["error"]["code"] for r in rs if r.status_code == 409} == {"SKU_CODE_TAKEN"}
    assert await _count(db, Product) == 1
