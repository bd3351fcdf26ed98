"""The merchant console (/admin): login, the role matrix, CSRF, and the pages' writes through the services."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from fissionmall.accounts import service as accounts
from fissionmall.accounts.models import AdminUser
from fissionmall.catalog.models import Category, Product, Sku
from fissionmall.core import clock, jobs
from fissionmall.core.db import Database
from fissionmall.core.jobs import Event, Job
from fissionmall.core.security import read_token
from fissionmall.orders.models import Order, Refund
from fissionmall.payments.models import GatewayNotification
from fissionmall.web.console import fen_from_yuan
from tests.helpers import admin, order, pay, product, run_jobs, shopper

PASSWORD = "console-pass-123"


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden input {name}"
    return m.group(1)


def _meta_csrf(html: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([0-9a-f]{64})">', html)
    assert m, "no CSRF meta tag"
    return m.group(1)


async def _make_admin(db: Database, role: str, username: str | None = None) -> int:
    async with db.tx() as s:
        a = await accounts.create_admin(s, username=username or f"{role}-console", password=PASSWORD, role=role)
        return a.id


async def _form_login(client: httpx.AsyncClient, username: str, password: str, next_: str = "") -> httpx.Response:
    client.cookies.clear()
    page = await client.get("/admin/login", params={"next": next_} if next_ else None)
    assert page.status_code == 200
    data = {"username": username, "password": password, "csrf_token": _hidden(page.text, "csrf_token")}
    data["next"] = _hidden(page.text, "next")
    return await client.post("/admin/login", data=data)


async def console(client: httpx.AsyncClient, db: Database, role: str) -> str:
    """Log in through the console form as a new admin of `role`; returns the session's CSRF token."""
    await _make_admin(db, role)
    r = await _form_login(client, f"{role}-console", PASSWORD)
    assert r.status_code == 303, r.text
    home = await client.get("/admin/")
    assert home.status_code == 200
    return _meta_csrf(home.text)


def htmx(csrf: str) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": csrf}


async def _paid_order(client: httpx.AsyncClient, db: Database, *, refund: bool = False) -> dict[str, Any]:
    """A paid order of one ¥19.90 item (¥27.90 with shipping), optionally with a pending full refund."""
    boss = await admin(client, db, username="api-owner")
    p = await product(client, boss, prices=(1990,), stock=10)
    me = await shopper(client, "bob")
    r = await order(client, me, [{"sku_id": p["skus"][0]["id"], "qty": 1}])
    assert r.status_code == 201, r.text
    o = r.json()
    await pay(client, me, o["id"])
    out: dict[str, Any] = {"order": o, "product": p, "shopper": me}
    if refund:
        r = await client.post(f"/api/v1/orders/{o['id']}/refunds", json={"reason": "尺码不合适"}, headers=me)
        assert r.status_code == 201, r.text
        out["refund"] = r.json()
    return out


async def _order_row(db: Database, order_id: int) -> Order:
    async with db.read() as s:
        o = await s.get(Order, order_id)
        assert o is not None
        return o


async def _count(db: Database, model: Any) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


def _sku_form(*rows: tuple[str, str, str, str]) -> dict[str, list[str]]:
    return {
        "sku_id": [r[0] for r in rows],
        "sku_name": [r[1] for r in rows],
        "sku_price": [r[2] for r in rows],
        "sku_stock": [r[3] for r in rows],
    }


# ---- login ---------------------------------------------------------------------------------------


async def test_anonymous_visitors_are_sent_to_login_with_the_page_to_return_to(client, db):
    for path, expected in [
        ("/admin/", "/admin/login?next=%2Fadmin%2F"),
        ("/admin/products?q=橙", "/admin/login?next=%2Fadmin%2Fproducts%3Fq%3D%25E6%25A9%2599"),
        ("/admin/orders/1", "/admin/login?next=%2Fadmin%2Forders%2F1"),
        ("/admin/refunds", "/admin/login?next=%2Fadmin%2Frefunds"),
        ("/admin/jobs", "/admin/login?next=%2Fadmin%2Fjobs"),
        ("/admin/notifications", "/admin/login?next=%2Fadmin%2Fnotifications"),
    ]:
        r = await client.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"] == expected
    # An anonymous POST changes nothing and is sent to log in as well.
    r = await client.post("/admin/products/new", data={"title": "x"})
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    assert await _count(db, Product) == 0


async def test_login_sets_an_http_only_strict_admin_cookie_and_returns_to_next(client, db, settings):
    admin_id = await _make_admin(db, "operator", "xiaowang")
    r = await _form_login(client, "xiaowang", PASSWORD, next_="/admin/orders?status=paid")
    assert r.status_code == 303
    assert r.headers["location"] == "/admin/orders?status=paid"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("fm_admin="))
    attrs = {a.strip().lower() for a in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/admin"} <= attrs
    token = client.cookies.get("fm_admin")
    claims = read_token(settings.secret_key, token, kind="admin")
    assert claims["sub"] == str(admin_id)
    page = await client.get("/admin/orders?status=paid")
    assert page.status_code == 200
    assert "xiaowang" in page.text and "运营" in page.text


async def test_wrong_password_shows_an_error_and_sets_no_cookie(client, db):
    await _make_admin(db, "operator", "xiaowang")
    r = await _form_login(client, "xiaowang", "not-the-password")
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    assert 'value="xiaowang"' in r.text  # the username is kept, the password is not
    assert "fm_admin" not in client.cookies
    assert (await client.get("/admin/")).status_code == 303


async def test_login_form_without_its_token_is_refused(client, db):
    await _make_admin(db, "operator", "xiaowang")
    client.cookies.clear()
    r = await client.post("/admin/login", data={"username": "xiaowang", "password": PASSWORD})
    assert r.status_code == 403 and "页面已过期" in r.text
    assert "fm_admin" not in client.cookies


async def test_console_login_shares_the_api_login_rate_limit(client, db, settings):
    settings.login_rate_per_minute = 3
    await _make_admin(db, "operator", "xiaowang")
    for _ in range(2):
        r = await client.post("/api/admin/v1/auth/login", json={"username": "xiaowang", "password": PASSWORD})
        assert r.status_code == 200
    assert (await _form_login(client, "xiaowang", PASSWORD)).status_code == 303  # the third attempt
    r = await _form_login(client, "xiaowang", PASSWORD)
    assert r.status_code == 429 and "登录尝试过于频繁" in r.text
    assert "fm_admin" not in client.cookies


async def test_login_never_redirects_off_the_console(client, db):
    await _make_admin(db, "operator", "xiaowang")
    for target in ("https://evil.example/", "//evil.example/admin", "/shop/"):
        r = await _form_login(client, "xiaowang", PASSWORD, next_=target)
        assert r.status_code == 303 and r.headers["location"] == "/admin/"


async def test_logout_needs_the_csrf_token_and_clears_the_cookie(client, db):
    csrf = await console(client, db, "operator")
    r = await client.post("/admin/logout")
    assert r.status_code == 403
    assert (await client.get("/admin/")).status_code == 200
    r = await client.post("/admin/logout", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"
    assert (await client.get("/admin/")).status_code == 303


async def test_a_disabled_admin_is_logged_out(client, db):
    await console(client, db, "operator")
    async with db.tx() as s:
        a = await s.scalar(select(AdminUser).where(AdminUser.username == "operator-console"))
        a.is_active = False
    r = await client.get("/admin/products")
    assert r.status_code == 303 and r.headers["location"] == "/admin/login?next=%2Fadmin%2Fproducts"


# ---- the role matrix -----------------------------------------------------------------------------


async def test_store_staff_can_read_orders_but_not_open_products_or_ship(client, db):
    setup = await _paid_order(client, db)
    order_id = setup["order"]["id"]
    csrf = await console(client, db, "store_staff")

    r = await client.get("/admin/products")
    assert r.status_code == 403
    assert "没有权限" in r.text and "门店店员" in r.text and "查看商品" in r.text
    assert (await client.get(f"/admin/products/{setup['product']['id']}")).status_code == 403
    assert (await client.get("/admin/refunds")).status_code == 403
    assert (await client.get("/admin/jobs")).status_code == 403

    detail = await client.get(f"/admin/orders/{order_id}")
    assert detail.status_code == 200
    assert "待发货" in detail.text and "确认发货" not in detail.text

    r = await client.post(
        f"/admin/orders/{order_id}/ship", data={"carrier": "顺丰速运", "tracking_no": "SF1234567"}, headers=htmx(csrf)
    )
    assert r.status_code == 403 and "订单发货" in r.text
    assert r.headers["HX-Retarget"] == "#flash"  # the refusal goes to the message area, not into the panel
    o = await _order_row(db, order_id)
    assert o.status == "paid" and o.carrier is None and o.tracking_no is None

    home = await client.get("/admin/")
    nav = re.findall(r'class="nav-item[^"]*"[^>]*>\s*<span[^>]*></span>([^<]+)', home.text)
    assert [n.strip() for n in nav] == ["概览", "订单"]


async def test_finance_approves_a_refund_but_cannot_edit_products(client, db):
    setup = await _paid_order(client, db, refund=True)
    p, refund = setup["product"], setup["refund"]
    assert refund["amount_fen"] == 2790
    csrf = await console(client, db, "finance")

    page = await client.get(f"/admin/products/{p['id']}")
    assert page.status_code == 200 and "你的角色只能查看商品" in page.text and "保存修改" not in page.text
    form = {"csrf_token": csrf, "title": "改名", "status": "on_sale", **_sku_form(("", "新规格", "1.00", "1"))}
    assert (await client.post(f"/admin/products/{p['id']}", data=form)).status_code == 403
    assert (await client.post("/admin/products/new", data=form)).status_code == 403
    assert (await client.post(f"/admin/products/{p['id']}/delete", data={"csrf_token": csrf})).status_code == 403
    async with db.read() as s:
        row = await s.get(Product, p["id"])
        assert row is not None and row.title == "测试商品" and row.status == "on_sale"
        assert await s.scalar(select(func.count()).select_from(Product)) == 1
        assert await s.scalar(select(func.count()).select_from(Sku)) == 1

    listing = await client.get("/admin/refunds?status=pending")
    assert listing.status_code == 200 and "同意退款" in listing.text and "¥27.90" in listing.text
    r = await client.post(f"/admin/refunds/{refund['id']}/approve", headers=htmx(csrf))
    assert r.status_code == 200
    assert r.text.lstrip().startswith(f'<tr id="refund-{refund["id"]}"')
    assert "退款中" in r.text and 'hx-trigger="every 2s"' in r.text
    finance_id = await _admin_id(db, "finance-console")
    async with db.read() as s:
        row_r = await s.get(Refund, refund["id"])
        assert row_r is not None and row_r.status == "processing" and row_r.decided_by == finance_id

    clock.advance(5)
    await run_jobs(db)
    row = await client.get(f"/admin/refunds/{refund['id']}/row", headers={"HX-Request": "true"})
    assert "已退款" in row.text and "every 2s" not in row.text
    o = await _order_row(db, setup["order"]["id"])
    assert o.refunded_fen == 2790 and o.status == "closed"
    home = await client.get("/admin/")
    stat = dict(re.findall(r'data-stat="([a-z-]+)">([^<]+)<', home.text))
    assert stat == {"today-gmv": "¥27.90", "total-gmv": "¥27.90", "total-refunded": "¥27.90", "pending-refunds": "0"}


async def _admin_id(db: Database, username: str) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(AdminUser.id).where(AdminUser.username == username)) or 0)


async def test_operator_sees_refunds_but_cannot_decide_them(client, db):
    setup = await _paid_order(client, db, refund=True)
    csrf = await console(client, db, "operator")
    listing = await client.get("/admin/refunds")
    assert listing.status_code == 200 and "待财务审核" in listing.text and "同意退款" not in listing.text
    r = await client.post(f"/admin/refunds/{setup['refund']['id']}/approve", headers=htmx(csrf))
    assert r.status_code == 403
    async with db.read() as s:
        assert (await s.get(Refund, setup["refund"]["id"])).status == "pending"


async def test_only_the_owner_sees_jobs_and_notifications(client, db):
    await console(client, db, "operator")
    assert (await client.get("/admin/jobs")).status_code == 403
    assert (await client.get("/admin/notifications")).status_code == 403
    await console(client, db, "owner")
    assert (await client.get("/admin/jobs")).status_code == 200
    assert (await client.get("/admin/notifications")).status_code == 200


# ---- products ------------------------------------------------------------------------------------


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


# ---- orders --------------------------------------------------------------------------------------


async def test_operator_ships_a_paid_order_from_the_detail_page(client, db):
    setup = await _paid_order(client, db)
    order_id, no = setup["order"]["id"], setup["order"]["no"]
    csrf = await console(client, db, "operator")

    listing = await client.get("/admin/orders", params={"status": "paid", "q": no[-8:]})
    assert [m for m in re.findall(r'data-order-no="(\d+)"', listing.text)] == [no]
    detail = await client.get(f"/admin/orders/{order_id}")
    assert detail.status_code == 200
    for text in (
        "待发货",
        "确认发货",
        "商品金额",
        "¥19.90",
        "运费",
        "¥8.00",
        "¥27.90",
        "张三",
        "13800138000",
        "世纪大道 100 号",
    ):
        assert text in detail.text, text

    r = await client.post(
        f"/admin/orders/{order_id}/ship", data={"carrier": "顺丰速运", "tracking_no": "SF1234567"}, headers=htmx(csrf)
    )
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section class="card status-card" id="order-status">')
    assert "已发货" in r.text and "SF1234567" in r.text and "确认发货" not in r.text
    o = await _order_row(db, order_id)
    assert (o.status, o.carrier, o.tracking_no) == ("shipped", "顺丰速运", "SF1234567")
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Event).where(Event.type == "OrderShipped")) == 1


async def test_ship_refusals_are_shown_in_the_panel_and_change_nothing(client, db):
    setup = await _paid_order(client, db)
    order_id = setup["order"]["id"]
    csrf = await console(client, db, "operator")

    r = await client.post(
        f"/admin/orders/{order_id}/ship", data={"carrier": "顺丰速运", "tracking_no": "x"}, headers=htmx(csrf)
    )
    assert r.status_code == 409 and "快递单号应为 4 到 40 位字母、数字或短横线" in r.text
    assert 'value="顺丰速运"' in r.text  # what was typed stays
    assert (await _order_row(db, order_id)).status == "paid"

    ok = {"carrier": "顺丰速运", "tracking_no": "SF1234567"}
    assert (await client.post(f"/admin/orders/{order_id}/ship", data=ok, headers=htmx(csrf))).status_code == 200
    r = await client.post(f"/admin/orders/{order_id}/ship", data={**ok, "tracking_no": "YT0000001"}, headers=htmx(csrf))
    assert r.status_code == 409 and "订单当前状态不允许此操作" in r.text
    o = await _order_row(db, order_id)
    assert (o.status, o.tracking_no) == ("shipped", "SF1234567")


async def test_an_order_with_a_pending_refund_cannot_be_shipped(client, db):
    setup = await _paid_order(client, db, refund=True)
    csrf = await console(client, db, "operator")
    r = await client.post(
        f"/admin/orders/{setup['order']['id']}/ship",
        data={"carrier": "顺丰速运", "tracking_no": "SF1234567", "csrf_token": csrf},
    )
    assert r.status_code == 409 and "请先处理售后再发货" in r.text and "<aside" in r.text  # the full page, no htmx
    assert (await _order_row(db, setup["order"]["id"])).status == "paid"


async def test_order_tabs_count_by_status(client, db):
    setup = await _paid_order(client, db)
    me = setup["shopper"]
    await order(client, me, [{"sku_id": setup["product"]["skus"][0]["id"], "qty": 2}])  # left unpaid
    await console(client, db, "store_staff")
    page = await client.get("/admin/orders")
    tabs = dict(re.findall(r'class="tab[^"]*"[^>]*>\s*([^<]+?)<span class="tab-count">(\d+)</span>', page.text))
    assert tabs == {"全部": "2", "待付款": "1", "待发货": "1"}
    unpaid = await client.get("/admin/orders?status=pending_payment")
    assert len(re.findall(r'data-order-no="', unpaid.text)) == 1 and "¥47.80" in unpaid.text


# ---- CSRF ----------------------------------------------------------------------------------------


async def test_posts_without_a_valid_csrf_token_are_refused_and_change_nothing(client, db):
    setup = await _paid_order(client, db, refund=True)
    csrf = await console(client, db, "owner")
    form = {"title": "偷偷上架", "status": "on_sale", **_sku_form(("", "默认", "1.00", "1"))}
    for headers, data in [({}, form), ({}, {**form, "csrf_token": "0" * 64}), (htmx("f" * 64), form)]:
        r = await client.post("/admin/products/new", data=data, headers=headers)
        assert r.status_code == 403 and "安全校验未通过" in r.text
    r = await client.post(
        f"/admin/orders/{setup['order']['id']}/ship", data={"carrier": "顺丰速运", "tracking_no": "SF1234567"}
    )
    assert r.status_code == 403
    r = await client.post(f"/admin/refunds/{setup['refund']['id']}/approve", headers={"HX-Request": "true"})
    assert r.status_code == 403
    r = await client.post(f"/admin/products/{setup['product']['id']}/delete")
    assert r.status_code == 403
    assert await _count(db, Product) == 1
    async with db.read() as s:
        assert (await s.get(Product, setup["product"]["id"])).status == "on_sale"
        assert (await s.get(Refund, setup["refund"]["id"])).status == "pending"
    assert (await _order_row(db, setup["order"]["id"])).status == "paid"
    # Another session's token is not this session's.
    other = await console(client, db, "operator")
    assert other != csrf
    r = await client.post("/admin/products/new", data={**form, "csrf_token": csrf})
    assert r.status_code == 403 and await _count(db, Product) == 1


# ---- refunds -------------------------------------------------------------------------------------


async def test_rejecting_a_refund_needs_a_reason(client, db):
    setup = await _paid_order(client, db, refund=True)
    rid = setup["refund"]["id"]
    csrf = await console(client, db, "finance")
    r = await client.post(f"/admin/refunds/{rid}/reject", data={"reason": "  "}, headers=htmx(csrf))
    assert r.status_code == 409 and "请填写拒绝原因" in r.text
    async with db.read() as s:
        assert (await s.get(Refund, rid)).status == "pending"
    r = await client.post(f"/admin/refunds/{rid}/reject", data={"reason": "商品已使用"}, headers=htmx(csrf))
    assert r.status_code == 200 and "已拒绝" in r.text and "拒绝原因：商品已使用" in r.text
    async with db.read() as s:
        row = await s.get(Refund, rid)
        assert row is not None and (row.status, row.reject_reason) == ("rejected", "商品已使用")
    r = await client.post(f"/admin/refunds/{rid}/approve", headers=htmx(csrf))
    assert r.status_code == 409 and "该售后单的状态已变化" in r.text
    async with db.read() as s:
        assert (await s.get(Refund, rid)).status == "rejected"


# ---- dashboard, jobs, notifications --------------------------------------------------------------


async def test_dashboard_shows_the_shops_figures(client, db):
    await _paid_order(client, db, refund=True)
    async with db.tx() as s:
        s.add(
            Job(
                handler="demo.broken",
                payload={"x": 1},
                due_at=clock.now(),
                status="dead",
                attempts=8,
                last_error="RuntimeError: boom",
                created_at=clock.now(),
            )
        )
    await console(client, db, "owner")
    page = await client.get("/admin/")
    assert page.status_code == 200
    stat = dict(re.findall(r'data-stat="([a-z-]+)">([^<]+)<', page.text))
    assert stat == {"today-gmv": "¥27.90", "total-gmv": "¥27.90", "pending-refunds": "1", "dead-jobs": "1"}
    cells = dict(re.findall(r'data-status="([a-z_]+)">\s*<span[^>]*>[^<]+</span>\s*<strong>(\d+)</strong>', page.text))
    assert cells["paid"] == "1" and cells["pending_payment"] == "0"
    # Yesterday's GMV is not today's (moved back a day in the database: the dev clock would expire the session).
    async with db.tx() as s:
        await s.execute(update(Order).values(paid_at=clock.now() - timedelta(days=1)))
    page = await client.get("/admin/")
    stat = dict(re.findall(r'data-stat="([a-z-]+)">([^<]+)<', page.text))
    assert stat["today-gmv"] == "¥0.00" and stat["total-gmv"] == "¥27.90"


async def test_store_staff_dashboard_shows_no_money(client, db):
    await _paid_order(client, db)
    await console(client, db, "store_staff")
    page = await client.get("/admin/")
    assert page.status_code == 200 and "data-stat=" not in page.text and "待发货" in page.text


async def test_a_dead_job_is_listed_and_retried(client, db):
    async with db.tx() as s:
        job = Job(
            handler="demo.broken",
            payload={"order_id": 7},
            due_at=clock.now(),
            status="dead",
            attempts=8,
            last_error="RuntimeError: gateway down",
            created_at=clock.now(),
        )
        s.add(job)
        await s.flush()
        job_id = job.id
    csrf = await console(client, db, "owner")
    page = await client.get("/admin/jobs")
    assert (
        "demo.broken" in page.text
        and "RuntimeError: gateway down" in page.text
        and "&#34;order_id&#34;: 7" in page.text
    )
    r = await client.post(f"/admin/jobs/{job_id}/retry", headers=htmx(csrf))
    assert r.status_code == 200 and "已重新排队" in r.text
    async with db.read() as s:
        row = await s.get(Job, job_id)
        assert row is not None and (row.status, row.attempts) == ("pending", 0)
    r = await client.post(f"/admin/jobs/{job_id}/retry", headers=htmx(csrf))
    assert r.status_code == 409 and "该任务已不是死信" in r.text


async def test_failed_gateway_notifications_are_highlighted(client, db):
    await _paid_order(client, db)  # one applied payment notification
    r = await client.post(
        "/api/v1/payments/sandbox/notify",
        content=b'{"kind":"payment"}',
        headers={"x-sandbox-signature": "forged", "content-type": "application/json"},
    )
    assert r.status_code == 401
    await console(client, db, "owner")
    page = await client.get("/admin/notifications")
    rows = re.findall(r'<tr class="([^"]*)" data-outcome="([a-z_]+)">', page.text)
    assert rows == [("row-failed", "signature_invalid"), ("", "applied")]
    assert "签名错误" in page.text and "已处理" in page.text
    only = await client.get("/admin/notifications?failed=1")
    assert re.findall(r'data-outcome="([a-z_]+)"', only.text) == ["signature_invalid"]
    assert await _count(db, GatewayNotification) == 2


async def test_the_worker_does_the_rest_after_a_retry(client, db):
    """A retried dead letter runs again through the normal worker path."""
    calls: list[int] = []

    @jobs.handler("test.console_retry")
    async def _h(s: Any, job: Job) -> None:
        calls.append(job.payload["n"])

    async with db.tx() as s:
        job = Job(
            handler="test.console_retry",
            payload={"n": 3},
            due_at=clock.now(),
            status="dead",
            attempts=8,
            created_at=clock.now(),
        )
        s.add(job)
        await s.flush()
        job_id = job.id
    csrf = await console(client, db, "owner")
    await client.post(f"/admin/jobs/{job_id}/retry", data={"csrf_token": csrf})
    await run_jobs(db)
    assert calls == [3]


def test_prices_typed_in_yuan_become_exact_fen():
    assert [fen_from_yuan(t) for t in ("19.90", "19.9", "19", "0.01", " ¥1.10 ", "１９．９０", "0.29")] == [
        1990,
        1990,
        1900,
        1,
        110,
        1990,
        29,
    ]
    assert [fen_from_yuan(t) for t in ("abc", "", "-1", "1.999", "1e3", "1,000", "99999999999")] == [None] * 7
