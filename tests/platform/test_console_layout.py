"""The console's layout kit: the sidebar's sections, the counters that follow an action, and the way back
from a POST-only address (web/nav.py, web/console.py, web/console_http.py)."""

from __future__ import annotations

import re
import types

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select

from fissionmall import registry
from fissionmall.orders.models import Order, Refund
from fissionmall.settings import get_settings
from fissionmall.web import console as kit
from fissionmall.web import console_http, nav
from tests.console_helpers import _paid_order, console, htmx


def _module(name: str, **attrs: object) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


# ---- sections -------------------------------------------------------------------------------------


async def test_every_nav_row_lands_in_a_known_section(app):
    rows = kit.NAV
    assert rows[0] == nav.HOME and all(row.section in nav.SECTIONS for row in rows[1:])
    where = {row.key: row.section for row in rows[1:]}
    assert where == where | {
        "products": "catalog",
        "media": "catalog",
        "orders": "orders",
        "refunds": "orders",
        "coupons": "marketing",
        "promotions": "marketing",
        "seckill": "marketing",
        "groupbuy": "marketing",
        "risk": "marketing",
        "distribution": "distribution",
        "distribution-withdrawals": "finance",  # a row of the distribution module, in its own section
        "payments": "finance",
        "shipping": "settings",
        "jobs": "system",
        "notifications": "system",
        "developer": "system",
    }
    # In the sidebar's order: a section's rows together, the sections in SECTIONS order.
    order = [list(nav.SECTIONS).index(row.section) for row in rows[1:]]
    assert order == sorted(order)


def test_a_row_may_name_its_own_section_and_old_rows_keep_the_modules():
    module = _module(
        "fissionmall.people.admin",
        NAV=[
            ("customers", "客户", "/admin/customers", "orders.read"),
            ("staff", "员工", "/admin/staff", "system", "settings"),
            {"key": "levels", "label": "会员等级", "href": "/admin/levels", "section": "customers", "icon": "staff"},
        ],
        NAV_SECTION="customers",
    )
    rows = nav.build([module, _module("fissionmall.tool.admin", NAV=[("tool", "工具", "/admin/tool", None)])])
    assert [(r.key, r.section) for r in rows] == [
        ("dashboard", ""),
        ("tool", "marketing"),  # no NAV_SECTION: a marketing tool
        ("customers", "customers"),
        ("levels", "customers"),
        ("staff", "settings"),
    ]
    assert rows[3].icon_name == "staff" and rows[2].icon_name == "customers"
    assert nav.groups(rows, lambda perm: perm != "system") == [
        ("marketing", "营销", [rows[1]]),
        ("customers", "客户", [rows[2], rows[3]]),
    ]  # 设置 is left out: its one row needs a permission this admin lacks


@pytest.mark.parametrize(
    ("attrs", "says"),
    [
        ({"NAV": [("a", "A", "/admin/a", None)], "NAV_SECTION": "shop"}, "NAV_SECTION 'shop'"),
        ({"NAV": [("a", "A", "/admin/a", None, "tools")]}, "unknown section 'tools'"),
        ({"NAV": [{"key": "a", "label": "A", "href": "/admin/a", "section": "people"}]}, "unknown section 'people'"),
        ({"NAV": [{"key": "a", "label": "A", "href": "/admin/a", "badge": 1}]}, "knows no ['badge']"),
        ({"NAV": [("a", "A", "/admin/a")]}, "a NAV row is"),
        ({"NAV": [("a", "A", "/shop/a", None)]}, "outside the console"),
        ({"NAV": [("orders", "订单二", "/admin/o2", None)]}, "already used"),
    ],
)
def test_a_row_the_sidebar_cannot_place_stops_the_mount(monkeypatch, attrs, says):
    real = registry.import_all("admin")
    broken = _module("fissionmall.broken.admin", router=APIRouter(), **attrs)
    monkeypatch.setattr(registry, "import_all", lambda *_: [*real, broken])
    saved = list(kit.NAV)
    try:
        with pytest.raises(nav.NavError, match=re.escape(says)):
            kit.mount(FastAPI(), get_settings())
    finally:
        kit.NAV[:] = saved


async def test_the_sidebar_shows_the_sections_with_icons_and_badges(client, db):
    await console(client, db, "owner")
    page = (await client.get("/admin/")).text
    headings = re.findall(r'<h2 class="nav-heading"[^>]*>([^<]+)</h2>', page)
    assert headings == ["商品", "订单/售后", "营销", "分销", "客户", "财务", "设置", "系统"]
    aside = page.split("</aside>")[0]
    assert aside.count('<svg class="icon"') >= len(kit.NAV)  # every row drawn with its icon, inline
    assert re.search(r'data-section="system".*?任务/死信.*?支付通知.*?开发者', aside, re.S)
    badges = set(re.findall(r'class="nav-badge"[^>]*data-counter="([a-z-]+)"', aside))
    assert badges == {"orders", "refunds", "jobs"}


# ---- counters ------------------------------------------------------------------------------------


async def test_counters_follow_an_htmx_action(client, db):
    setup = await _paid_order(client, db, refund=True)
    csrf = await console(client, db, "owner")
    assert (await client.get("/admin/counters")).json() == {"counters": {"orders": 1, "refunds": 1, "jobs": 0}}

    r = await client.post(
        f"/admin/refunds/{setup['refund']['id']}/reject", data={"reason": "商品已拆封"}, headers=htmx(csrf)
    )
    assert r.status_code == 200, r.text
    assert "counters-changed" in r.headers["HX-Trigger"]
    async with db.read() as s:
        assert (await s.get(Refund, setup["refund"]["id"])).status == "rejected"
    assert (await client.get("/admin/counters")).json()["counters"]["refunds"] == 0

    r = await client.post(
        f"/admin/orders/{setup['order']['id']}/ship",
        data={"carrier": "顺丰速运", "tracking_no": "SF1234567890"},
        headers=htmx(csrf),
    )
    assert r.status_code == 200, r.text
    assert "counters-changed" in r.headers["HX-Trigger"]
    assert (await client.get("/admin/counters")).json()["counters"]["orders"] == 0


async def test_no_counters_event_after_a_refused_or_plain_post(client, db):
    setup = await _paid_order(client, db)
    csrf = await console(client, db, "store_staff")
    r = await client.post(
        f"/admin/orders/{setup['order']['id']}/ship",
        data={"carrier": "顺丰速运", "tracking_no": "SF1"},
        headers=htmx(csrf),
    )
    assert r.status_code == 403 and "HX-Trigger" not in r.headers
    # A store clerk reads only the counters of the pages they may open.
    assert (await client.get("/admin/counters")).json() == {"counters": {"orders": 1}}
    async with db.read() as s:
        assert (await s.scalar(select(Order.status).where(Order.id == setup["order"]["id"]))) == "paid"
    r = await client.post("/admin/password", data={"csrf_token": csrf})  # a plain form: the page reloads anyway
    assert r.status_code == 400 and "HX-Trigger" not in r.headers


def test_the_counters_event_joins_what_a_handler_already_triggers():
    assert console_http._with_event(None) == "counters-changed"
    assert console_http._with_event("saved") == "saved, counters-changed"
    assert console_http._with_event("counters-changed") == "counters-changed"
    assert console_http._with_event('{"saved": 1}') == '{"saved": 1, "counters-changed": null}'


async def test_counters_need_a_login(client):
    r = await client.get("/admin/counters")
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")


# ---- a GET of a POST-only address ----------------------------------------------------------------


async def test_a_get_of_a_post_only_address_goes_back_to_its_form_page(client, db):
    setup = await _paid_order(client, db, refund=True)
    await console(client, db, "owner")
    order_id, refund_id = setup["order"]["id"], setup["refund"]["id"]
    for path, back in [
        (f"/admin/orders/{order_id}/ship", f"/admin/orders/{order_id}"),
        (f"/admin/refunds/{refund_id}/approve", f"/admin/refunds/{refund_id}"),
        ("/admin/jobs/12345/retry", "/admin/jobs"),
    ]:
        r = await client.get(path)
        assert (r.status_code, r.headers.get("location")) == (303, back), path
        assert (await client.get(back)).status_code == 200


def _console_routes() -> list[APIRoute]:
    routers = [kit.router, *(m.router for m in registry.import_all("admin"))]
    return [r for router in routers for r in router.routes if isinstance(r, APIRoute)]


async def test_no_post_only_console_address_answers_a_get_with_405(client, db):
    await console(client, db, "owner")
    routes = _console_routes()
    with_get = {r.path for r in routes if "GET" in r.methods}
    post_only = {r.path for r in routes if r.methods == {"POST"}} - with_get
    assert len(post_only) >= 10  # the rule must be looking at the real routes
    for path in sorted(post_only):
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        r = await client.get(concrete)
        assert r.status_code == 303, (path, r.status_code)
        target = r.headers["location"]
        assert target.startswith("/admin/") and concrete.startswith(target.rstrip("/")) and target != concrete
    # A POST-only address still refuses other methods as before, and a GET elsewhere is still the 404 page.
    assert (await client.put("/admin/orders/1/ship")).status_code == 405
    assert (await client.get("/admin/no-such-page")).status_code == 404


def test_the_form_page_is_the_nearest_address_with_a_get_route():
    app = FastAPI()
    app.add_api_route("/admin/", lambda: None, methods=["GET"])
    app.add_api_route("/admin/coupons/new/save", lambda: None, methods=["POST"])
    app.add_api_route("/admin/coupons/new", lambda: None, methods=["GET"])
    app.add_api_route("/admin/coupons/{coupon_id}", lambda: None, methods=["GET"])
    routes = app.router.routes
    assert console_http.form_page_of(routes, "/admin/coupons/new/save") == "/admin/coupons/new"
    assert console_http.form_page_of(routes, "/admin/coupons/7/issue/batch") == "/admin/coupons/7"
    assert console_http.form_page_of(routes, "/admin/nowhere/at/all") == "/admin/"
