"""Console pages for products: create, edit, escape, refuse inline, delete, search."""

from __future__ import annotations

import re

from sqlalchemy import select

from fissionmall.catalog.models import Category, Product, Sku
from tests.console_helpers import (
    _count,
    _sku_form,
    console,
)
from tests.helpers import admin, product


async def test_operator_creates_a_product_through_the_form(client, db):
    csrf = await console(client, db, "operator")
    form = {
        "csrf_token": csrf,
        "title": "  赣南脐橙  ",
        "category": "生鲜水果",
        "description": "产地直发",
        "labels": "热销，包邮, 新品",
        "status": "on_sale",
        **_sku_form(("", "5斤装", "19.90", "120"), ("", "10斤装", "３５", "0"), ("", "", "", "")),
    }
    r = await client.post("/admin/products/new", data=form)
    assert r.status_code == 303
    async with db.read() as s:
        p = await s.scalar(select(Product))
        assert p is not None
        assert r.headers["location"] == f"/admin/products/{p.id}?ok=created"
        assert (p.title, p.description, p.labels, p.status) == (
            "赣南脐橙",
            "产地直发",
            ["热销", "包邮", "新品"],
            "on_sale",
        )
        assert await s.scalar(select(Category.name).where(Category.id == p.category_id)) == "生鲜水果"
        skus = (await s.execute(select(Sku.name, Sku.price_fen, Sku.stock).order_by(Sku.id))).all()
        assert [tuple(k) for k in skus] == [("5斤装", 1990, 120), ("10斤装", 3500, 0)]
    page = await client.get(r.headers["location"])
    assert "商品已创建" in page.text and 'value="19.90"' in page.text and 'value="35.00"' in page.text


async def test_operator_edits_stock_and_retires_a_removed_sku(client, db):
    csrf = await console(client, db, "operator")
    form = {"csrf_token": csrf, "title": "手机壳", "status": "on_sale"}
    r = await client.post(
        "/admin/products/new", data={**form, **_sku_form(("", "黑", "9.90", "5"), ("", "白", "9.90", "5"))}
    )
    pid = int(r.headers["location"].split("/")[-1].split("?")[0])
    async with db.read() as s:
        black, white = (await s.scalars(select(Sku.id).order_by(Sku.id))).all()

    edit = {
        **form,
        "status": "off_sale",
        "category": "",
        **_sku_form((str(black), "黑色", "12.5", "42"), ("", "蓝", "0.01", "7")),
    }
    r = await client.post(f"/admin/products/{pid}", data=edit)
    assert r.status_code == 303 and r.headers["location"] == f"/admin/products/{pid}?ok=saved"
    async with db.read() as s:
        p = await s.get(Product, pid)
        assert p is not None and p.status == "off_sale" and p.category_id is None
        rows = (
            await s.execute(select(Sku.id, Sku.name, Sku.price_fen, Sku.stock, Sku.is_active).order_by(Sku.id))
        ).all()
    assert [tuple(x) for x in rows] == [
        (black, "黑色", 1250, 42, True),
        (white, "白", 990, 5, False),
        (rows[2][0], "蓝", 1, 7, True),
    ]
    page = await client.get(r.headers["location"])
    assert "修改已保存" in page.text and 'value="白"' not in page.text


async def test_what_operators_type_is_escaped_on_the_page(client, db):
    csrf = await console(client, db, "operator")
    form = {"csrf_token": csrf, "title": "<script>alert(1)</script>", "status": "on_sale"}
    r = await client.post("/admin/products/new", data={**form, **_sku_form(("", '"><img src=x>', "1", "1"))})
    page = await client.get(r.headers["location"])
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert '"><img src=x>' not in page.text and "&#34;&gt;&lt;img src=x&gt;" in page.text
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"


async def test_bad_product_input_is_shown_inline_and_nothing_is_saved(client, db):
    csrf = await console(client, db, "operator")
    form = {"csrf_token": csrf, "title": "", "status": "on_sale", **_sku_form(("", "默认", "abc", "-1"))}
    r = await client.post("/admin/products/new", data=form)
    assert r.status_code == 422
    assert "请填写商品标题" in r.text
    assert "价格格式不正确" in r.text and "库存须为 0 到 100000000 之间的整数" in r.text
    assert 'value="abc"' in r.text and 'value="默认"' in r.text  # the form comes back as typed
    r = await client.post(
        "/admin/products/new", data={**form, "title": "好标题", **_sku_form(("", "默认", "1.999", "3"))}
    )
    assert r.status_code == 422 and "价格格式不正确" in r.text and 'value="好标题"' in r.text
    r = await client.post("/admin/products/new", data={"csrf_token": csrf, "title": "无规格", "status": "on_sale"})
    assert r.status_code == 422 and "至少需要一个规格" in r.text
    assert await _count(db, Product) == 0 and await _count(db, Sku) == 0


async def test_a_refused_edit_leaves_the_product_as_it_was(client, db):
    csrf = await console(client, db, "operator")
    base = {"csrf_token": csrf, "title": "手机壳", "status": "on_sale"}
    r = await client.post("/admin/products/new", data={**base, **_sku_form(("", "黑", "9.90", "5"))})
    pid = int(r.headers["location"].split("/")[-1].split("?")[0])
    async with db.read() as s:
        sku_id = await s.scalar(select(Sku.id))
    r = await client.post(
        f"/admin/products/{pid}", data={**base, "title": "新名字", **_sku_form((str(sku_id), "黑", "abc", "9"))}
    )
    assert r.status_code == 422 and "价格格式不正确" in r.text
    async with db.read() as s:
        p = await s.get(Product, pid)
        sku = await s.get(Sku, sku_id)
        assert p is not None and p.title == "手机壳" and sku is not None and (sku.price_fen, sku.stock) == (990, 5)


async def test_operator_deletes_a_product(client, db):
    csrf = await console(client, db, "operator")
    r = await client.post(
        "/admin/products/new",
        data={"csrf_token": csrf, "title": "旧款", "status": "on_sale", **_sku_form(("", "默认", "1", "1"))},
    )
    pid = int(r.headers["location"].split("/")[-1].split("?")[0])
    r = await client.post(f"/admin/products/{pid}/delete", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/admin/products?ok=deleted"
    async with db.read() as s:
        assert (await s.get(Product, pid)).status == "deleted"
    listing = await client.get(r.headers["location"])
    assert "商品已下架删除" in listing.text and "旧款" not in listing.text
    assert (await client.get(f"/admin/products/{pid}")).status_code == 404


async def test_product_list_searches_filters_and_pages(client, db):
    boss = await admin(client, db, username="api-owner")
    for i in range(23):
        await product(client, boss, title=f"商品{i:02d}", prices=(100 + i, 900), stock=3)
    await console(client, db, "finance")
    first = await client.get("/admin/products")
    titles = re.findall(r'class="link strong" href="/admin/products/\d+">([^<]+)<', first.text)
    assert titles == [f"商品{i:02d}" for i in range(22, 2, -1)]
    assert "¥1.22 ~ ¥9.00" in first.text and ">6</td>" in first.text  # price range, total stock of two SKUs
    nxt = re.search(r'href="([^"]+)" rel="next">下一页', first.text)
    assert nxt
    second = await client.get(nxt.group(1).replace("&amp;", "&"))
    titles = re.findall(r'class="link strong" href="/admin/products/\d+">([^<]+)<', second.text)
    assert titles == ["商品02", "商品01", "商品00"] and "下一页" not in second.text
    found = await client.get("/admin/products", params={"q": "商品1"})
    titles = re.findall(r'class="link strong" href="/admin/products/\d+">([^<]+)<', found.text)
    assert titles == [f"商品{i}" for i in range(19, 9, -1)]
    off = await client.get("/admin/products", params={"status": "off_sale"})
    assert "没有符合条件的商品" in off.text
