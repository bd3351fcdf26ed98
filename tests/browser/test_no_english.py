"""No English sentence reaches a merchant or a shopper: a crawl of the console and the H5 shop on `make demo`
data (coupons, a flash sale, a forming group, a distributor) plus an order, a cart and an after-sales request,
reading what a person sees: the page's text, its title, placeholders, titles, aria-labels, alt texts and button
values. Every run of 3+ English words not made of allowed names and units (tests/english.py) is a hit.

The console: every page of the sidebar and every page one link down from it (one per kind of link: the first
order's page stands for every order's). The shop: every screen of its router, and every screen one link down.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from fissionmall.demo.campaigns import DISTRIBUTOR_CODE, INFO_FILE
from tests.browser.conftest import shot
from tests.english import english_sentences
from tests.helpers import ADDRESS

pytestmark = pytest.mark.browser
DEMO_CAMPAIGNS = True  # live_server loads the whole `make demo`

# What a person reads: the visible text and the words a screen reader or a hover shows.
READ_PAGE = """() => {
  const out = [document.title, document.body.innerText];
  const sel = '[placeholder],[title],[aria-label],[alt],input[type=button],input[type=submit],option';
  for (const el of document.querySelectorAll(sel)) {
    for (const a of ['placeholder', 'title', 'aria-label', 'alt']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
    if (el.matches('input[type=button],input[type=submit]')) out.push(el.value);
    if (el.matches('option')) out.push(el.textContent);
  }
  return out.join('\\n');
}"""
# Not pages: leaving, downloads, the developer's API viewers (English by design, linked from 开发者), raw JSON.
SKIP = re.compile(r"^/admin/logout|/export|\.(csv|xlsx|png|jpg)$|^/(docs|redoc|openapi\.json|api/|media/)")
MAX_CONSOLE_PAGES = 120


def _kind(href: str) -> str:
    """One visit per kind of link: ids become N, query values are dropped (?status=paid is ?status=)."""
    u = urlsplit(href)
    keys = sorted({kv.split("=")[0] for kv in u.query.split("&") if kv})
    return re.sub(r"\d+", "N", u.path) + ("?" + "&".join(keys) if keys else "") + re.sub(r"\d+", "N", u.fragment)


def _settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => !document.querySelector('.skeleton') && !/加载中/.test(document.body.innerText)", timeout=8_000
    )


def _read(page: Page, hits: list[tuple[str, str]]) -> None:
    url = page.url
    hits.extend((url, s) for s in english_sentences(page.evaluate(READ_PAGE)))


def _console_links(page: Page, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(
        selector, "els => els.filter(a => !a.hasAttribute('download')).map(a => a.getAttribute('href'))"
    )
    return [h for h in hrefs if h and h.startswith("/admin") and not SKIP.search(h)]


def _crawl_console(page: Page, server: dict[str, Any], hits: list[tuple[str, str]]) -> list[str]:
    base = server["base_url"]
    page.goto(base + "/admin/login")
    page.get_by_label("用户名").fill(server["admin_user"])
    page.get_by_label("密码").fill(server["admin_password"])
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("navigation", name="主导航")).to_be_visible()
    sidebar = _console_links(page, "nav[aria-label='主导航'] a, .sidebar a, header a")
    seen = {_kind(h) for h in sidebar}
    visited: list[str] = []
    below: list[str] = []
    for href in sidebar:
        page.goto(base + href)
        page.wait_for_load_state("networkidle")
        _read(page, hits)
        visited.append(href)
        for h in _console_links(page, "main a[href], .content a[href], .main a[href]"):
            if _kind(h) not in seen:
                seen.add(_kind(h))
                below.append(h)
    for href in below[: MAX_CONSOLE_PAGES - len(visited)]:
        page.goto(base + href)
        page.wait_for_load_state("networkidle")
        _read(page, hits)
        visited.append(href)
    # A URL the console does not know answers a Chinese page too.
    page.goto(base + "/admin/no-such-page")
    _read(page, hits)
    return visited


def _shopper_with_history(base: str, server: dict[str, Any], token: str) -> dict[str, int]:
    """The distributor, as a shopper: a cart line, an unpaid order, a shipped one with an after-sales request."""
    me = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=20) as api:
        items = api.get("/api/v1/products", params={"limit": 30}).json()["items"]
        skus = [k for p in items for k in p["skus"] if k["stock"] > 5]
        assert api.post("/api/v1/cart/items", json={"sku_id": skus[0]["id"], "qty": 1}, headers=me).status_code == 201
        orders = []
        for sku in skus[1:3]:
            body = {"items": [{"sku_id": sku["id"], "qty": 1}], "address": ADDRESS}
            r = api.post("/api/v1/orders", json=body, headers=me)
            assert r.status_code == 201, r.text
            orders.append(r.json()["id"])
        unpaid, shipped = orders
        r = api.post(f"/api/v1/orders/{shipped}/pay", json={"method": "gateway"}, headers=me)
        assert r.status_code == 200, r.text
        assert api.post(f"/api/v1/payments/sandbox/{r.json()['payment_id']}/succeed", headers=me).status_code == 200
        login = {"username": server["admin_user"], "password": server["admin_password"]}
        boss = {"Authorization": f"Bearer {api.post('/api/admin/v1/auth/login', json=login).json()['token']}"}
        r = api.post(
            f"/api/admin/v1/orders/{shipped}/ship", json={"carrier": "顺丰速运", "tracking_no": "SF1234"}, headers=boss
        )
        assert r.status_code == 200, r.text
        r = api.post(
            f"/api/v1/orders/{shipped}/refunds", json={"reason": "不想要了", "kind": "refund_only"}, headers=me
        )
        assert r.status_code in (200, 201), r.text
        return {"unpaid": unpaid, "shipped": shipped, "refund": r.json()["id"]}


def _crawl_shop(page: Page, base: str, server: dict[str, Any], hits: list[tuple[str, str]]) -> list[str]:
    page.goto(f"{base}/shop/#/login")
    _settle(page)
    _read(page, hits)
    page.get_by_placeholder("测试账号，如 alice").fill(DISTRIBUTOR_CODE)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    ids = _shopper_with_history(base, server, page.evaluate("() => localStorage.getItem('fm.token')"))
    group = json.loads((server["var"] / INFO_FILE).read_text())["group_id"]
    with httpx.Client(base_url=base, timeout=10) as api:
        category = api.get("/api/v1/categories").json()
        category_id = (category["items"] if isinstance(category, dict) else category)[0]["id"]
        # every product page: the flash-sale, group-buy and promoted ones each show their own words
        products = [p["id"] for p in api.get("/api/v1/products", params={"limit": 100}).json()["items"]]
    screens = [
        "/", f"/?c={category_id}", "/seckill", "/cart", "/checkout", "/orders", f"/orders/{ids['shipped']}",
        f"/cashier/{ids['unpaid']}", "/me", "/me/addresses", "/me/addresses/new", "/coupons", "/me/coupons",
        "/distribution", "/aftersales", f"/aftersales/{ids['refund']}", f"/aftersales/new/{ids['shipped']}",
        f"/groupbuy/g/{group}", "/groupbuy/mine", "/me/favorites", "/me/history",
        *(f"/p/{p}" for p in products),
        # what a refusal reads: things that are not there
        "/p/999999", "/orders/999999", "/aftersales/999999", "/groupbuy/g/999999", "/cashier/999999",
    ]  # fmt: skip
    seen = {_kind("#" + s) for s in screens}
    visited: list[str] = []
    below: list[str] = []
    for screen in screens:
        page.goto(f"{base}/shop/#{screen}")
        _settle(page)
        _read(page, hits)
        visited.append(screen)
        for h in page.eval_on_selector_all("#view a[href^='#/']", "els => els.map(a => a.getAttribute('href'))"):
            if _kind(h) not in seen:
                seen.add(_kind(h))
                below.append(h[1:])
    for screen in below:
        page.goto(f"{base}/shop/#{screen}")
        _settle(page)
        _read(page, hits)
        visited.append(screen)
    # 确认订单 as the cart opens it (the bare URL has nothing to settle)
    page.goto(f"{base}/shop/#/cart")
    _settle(page)
    page.get_by_role("button", name=re.compile("去结算")).click()
    expect(page).to_have_url(re.compile("#/checkout"))
    _settle(page)
    expect(page.get_by_role("button", name=re.compile("提交订单"))).to_be_visible()
    _read(page, hits)
    visited.append("/checkout (from the cart)")
    page.goto(f"{base}/shop/#/")
    _settle(page)
    shot(page, "no-english-shop-home")
    return visited


def test_no_console_page_shows_an_english_sentence(live_server: dict[str, Any], desktop: Page) -> None:
    hits: list[tuple[str, str]] = []
    visited = _crawl_console(desktop, live_server, hits)
    assert len(visited) > 30, visited  # the crawl reached the console (a broken one would pass on nothing)
    assert {"/admin/orders", "/admin/coupons", "/admin/seckill"} <= {urlsplit(v).path for v in visited}
    assert any(re.match(r"/admin/orders/\d+$", v) for v in visited), visited  # and one level down
    assert not hits, "\n".join(f"{u}: {t}" for u, t in hits)


def test_no_shop_screen_shows_an_english_sentence(live_server: dict[str, Any], phone: Page) -> None:
    hits: list[tuple[str, str]] = []
    visited = _crawl_shop(phone, live_server["base_url"], live_server, hits)
    assert sum(v.startswith("/p/") for v in visited) >= 12, visited
    assert not hits, "\n".join(f"{u}: {t}" for u, t in hits)
    # The reading sees text, placeholders and labels: an English one planted in the page is a hit.
    phone.evaluate(
        "() => { const i = document.createElement('input'); i.placeholder = 'Enter your name'; document.body.append(i);"
        " const b = document.createElement('button'); b.setAttribute('aria-label', 'Close this dialog');"
        " b.textContent = '关闭'; document.body.append(b, 'Add to cart'); }"
    )
    _read(phone, hits)
    assert sorted(t for _, t in hits) == ["Add to cart", "Close this dialog", "Enter your name"]


def test_the_detector_flags_a_sentence_and_lets_names_and_units_through() -> None:
    assert english_sentences("加入购物车\nAdd to cart") == ["Add to cart"]
    assert english_sentences("暂无数据（No data available）") == ["No data available"]
    assert english_sentences("微信 WeChat 商品 SKU ID · 导出 CSV · 净含量 500 g") == []
    assert english_sentences("WeChat SKU ID") == []  # allowed words only
    assert english_sentences("https://mall.example.com/a b · code OUT_OF_STOCK · 蓝牙 Pro Max") == []
    assert english_sentences(f"订单 {secrets.token_hex(4)} 已发货") == []
