"""The console kit (/admin): login, logout, the role matrix, CSRF, the dashboard and the yuan reader."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from fissionmall.accounts.models import AdminUser
from fissionmall.catalog.models import Product, Sku
from fissionmall.core import clock
from fissionmall.core.jobs import Job
from fissionmall.core.security import read_token
from fissionmall.orders.models import Order, Refund
from fissionmall.web.console import fen_from_yuan
from tests.console_helpers import (
    PASSWORD,
    _admin_id,
    _count,
    _form_login,
    _make_admin,
    _order_row,
    _paid_order,
    _sku_form,
    console,
    htmx,
)
from tests.helpers import run_jobs


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
    nav = re.findall(r'<span class="nav-label">([^<]+)</span>', home.text)
    assert nav == ["概览", "订单"]


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
    assert stat == {
        "today-gmv": "¥27.90",
        "total-gmv": "¥27.90",
        "total-refunded": "¥27.90",
        "to-ship": "0",
        "pending-refunds": "0",
    }


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
    # The merchant's figures only: the dead letter is the 系统 section's business (its badge, the jobs page).
    assert stat == {"today-gmv": "¥27.90", "total-gmv": "¥27.90", "to-ship": "1", "pending-refunds": "1"}
    main = page.text.split('<main class="main">')[1]
    assert "死信" not in main and "/admin/jobs" not in main
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
    assert page.status_code == 200 and "待发货" in page.text
    stat = dict(re.findall(r'data-stat="([a-z-]+)">([^<]+)<', page.text))
    assert stat == {"to-ship": "1"}  # what to ship, not what the shop earns


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
