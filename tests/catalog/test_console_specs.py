"""The console's product form with a spec matrix, 划线价, 商家编码, weight, images, 图文详情 and 运费模板."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from fissionmall.catalog.models import Product, Sku
from fissionmall.core import extras
from tests.console_helpers import console

COMBOS = [("红", "M"), ("红", "L"), ("蓝", "M"), ("蓝", "L")]


def _rows(*rows: dict[str, str]) -> dict[str, list[str]]:
    cols = ("id", "name", "price", "list_price", "stock", "code", "weight", "spec")
    return {f"sku_{c}": [r.get(c, "") for r in rows] for c in cols}


def _matrix_form(csrf: str, **over: Any) -> dict[str, Any]:
    rows = [
        {
            "price": f"{19 + i}.90",
            "list_price": f"{29 + i}.90",
            "stock": str(10 + i),
            "code": f"TS-{c}{z}",
            "weight": "250",
            "spec": json.dumps({"颜色": c, "尺码": z}, ensure_ascii=False),
        }
        for i, (c, z) in enumerate(COMBOS)
    ]
    return {
        "csrf_token": csrf,
        "title": "纯棉 T 恤",
        "status": "on_sale",
        "spec_name": ["颜色", "尺码"],
        "spec_values": ["红，蓝", "M, L"],
        "images": ["/media/p/a.png", "/media/p/b.png"],
        "detail_html": '<p>好<script>alert(1)</script></p><img src="x" onerror="alert(2)">',
        "shipping_template_id": "",
        **_rows(*rows),
        **over,
    }


async def _count(db, model) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_spec_matrix_in_yuan_is_saved_in_fen_and_comes_back(client, db):
    csrf = await console(client, db, "operator")
    r = await client.post("/admin/products/new", data=_matrix_form(csrf))
    assert r.status_code == 303, r.text
    async with db.read() as s:
        p = await s.scalar(select(Product))
        assert p is not None
        assert p.specs == [{"name": "颜色", "values": ["红", "蓝"]}, {"name": "尺码", "values": ["M", "L"]}]
        assert p.images == ["/media/p/a.png", "/media/p/b.png"] and p.detail_html == "<p>好</p>"
        skus = (
            await s.execute(
                select(Sku.name, Sku.price_fen, Sku.list_price_fen, Sku.stock, Sku.code, Sku.weight_g, Sku.spec)
            )
        ).all()
    assert [tuple(k) for k in skus] == [
        (f"{c} / {z}", 1990 + 100 * i, 2990 + 100 * i, 10 + i, f"TS-{c}{z}", 250, {"颜色": c, "尺码": z})
        for i, (c, z) in enumerate(COMBOS)
    ]
    page = (await client.get(r.headers["location"])).text
    assert 'value="颜色"' in page and 'value="红，蓝"' in page and 'value="29.90"' in page
    assert 'name="images" value="/media/p/a.png"' in page and 'data-gallery data-name="images"' in page
    assert '<script type="module" src="/static/console/gallery.js"></script>' in page
    assert "<script>alert" not in page and "onerror" not in page
    assert 'name="shipping_template_id"' in page and "跟随默认模板" in page


async def test_a_spec_mistake_shows_in_chinese_beside_its_row_and_nothing_is_saved(client, db):
    csrf = await console(client, db, "operator")
    form = _matrix_form(csrf)
    form["sku_spec"] = [*form["sku_spec"][:3], json.dumps({"颜色": "红", "尺码": "M"}, ensure_ascii=False)]
    r = await client.post("/admin/products/new", data=form)
    assert r.status_code == 422
    assert "两个规格的组合相同" in r.text
    rows = r.text.split('<tr class="sku-row"')[1:5]
    assert ["两个规格的组合相同" in row for row in rows] == [False, False, False, True]  # beside the 4th row
    form = _matrix_form(csrf, sku_list_price=["1", "", "", ""])
    r = await client.post("/admin/products/new", data=form)
    assert r.status_code == 422 and "划线价不能低于售价" in r.text and 'value="1"' in r.text
    r = await client.post("/admin/products/new", data=_matrix_form(csrf, sku_weight=["重", "", "", ""]))
    assert r.status_code == 422 and "重量（克）格式不正确" in r.text
    r = await client.post("/admin/products/new", data=_matrix_form(csrf, images=["https://evil.example/x.png"]))
    assert r.status_code == 422 and "商品图片" in r.text
    r = await client.post("/admin/products/new", data=_matrix_form(csrf, spec_values=["红，蓝", ""]))
    assert r.status_code == 422 and "至少需要一个规格值" in r.text
    assert await _count(db, Product) == 0 and await _count(db, Sku) == 0


async def test_the_form_offers_the_shipping_tools_templates_and_stores_the_choice(client, db):
    @extras.contributes(extras.PRODUCT_FORM)
    async def _templates(s: Any) -> dict[str, Any]:
        return {"shipping_templates": [{"id": 3, "name": "江浙沪包邮", "is_default": False}]}

    try:
        csrf = await console(client, db, "operator")
        page = (await client.get("/admin/products/new")).text
        assert '<option value="3">江浙沪包邮</option>' in page
        r = await client.post("/admin/products/new", data=_matrix_form(csrf, shipping_template_id="3"))
        assert r.status_code == 303
        async with db.read() as s:
            assert await s.scalar(select(Product.shipping_template_id)) == 3
        page = (await client.get(r.headers["location"])).text
        assert '<option value="3" selected>江浙沪包邮</option>' in page
    finally:
        extras._points[extras.PRODUCT_FORM].pop(f"{_templates.__module__}.{_templates.__qualname__}")
