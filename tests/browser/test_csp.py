"""The Content-Security-Policy breaks nothing: every console page and the shop's screens work in Chromium
with the policy on, and the browser reports no violation (an inline script or style it refused)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser


def _watch(page: Page) -> list[str]:
    """Every CSP violation and script error the page reports, as text."""
    seen: list[str] = []

    def on_console(m: Any) -> None:
        where = (m.location or {}).get("url", "")
        if where.endswith("/favicon.ico"):
            return  # the browser's own guess, not something a page loads
        if "Content Security Policy" in m.text or m.type == "error":
            seen.append(f"{m.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: seen.append(f"pageerror: {exc}"))
    # Violations also fire an event on the document, with the directive: catch those the console misses.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return seen


@pytest.fixture
def watched(desktop: Page) -> Iterator[tuple[Page, list[str]]]:
    yield desktop, _watch(desktop)


@pytest.fixture
def watched_phone(mobile: Page) -> Iterator[tuple[Page, list[str]]]:
    yield mobile, _watch(mobile)


def _csp_of(page: Page, url: str) -> str:
    r = page.request.get(url)
    return r.headers.get("content-security-policy", "")


def test_every_console_page_works_under_the_policy(live_server: dict[str, Any], watched) -> None:
    page, seen = watched
    base = live_server["base_url"]
    assert "script-src 'self'" in _csp_of(page, base + "/admin/login")
    page.goto(base + "/admin/login")
    page.get_by_label("用户名").fill(live_server["admin_user"])
    page.get_by_label("密码").fill(live_server["admin_password"])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + "/admin/")

    hrefs = (
        page.get_by_role("navigation", name="主导航")
        .get_by_role("link")
        .evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    )
    assert len(hrefs) >= 5, hrefs
    for href in hrefs:
        page.goto(base + href)
        expect(page.locator("body")).to_be_visible()
        page.wait_for_load_state("networkidle")

    # The product form's script (now /static/admin.js) still adds SKU rows.
    page.goto(base + "/admin/products/new")
    page.get_by_role("button", name="＋ 添加规格").click()
    expect(page.locator("#sku-rows tr")).to_have_count(2)
    # A plain form's data-confirm (was an inline handler on the flash-sale board) still asks first.
    page.goto(base + "/admin/products")
    first = page.locator("#product-table tbody tr a").first
    first.click()
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.get_by_role("button", name="下架删除").click()
    assert asked and "下架" in asked[0]
    expect(page).to_have_url(re.compile(r"/admin/products/\d+"))  # dismissed: nothing was deleted
    # htmx requests (the jobs page, the order search) run with eval off and no injected style.
    page.goto(base + "/admin/orders?q=%25")
    page.wait_for_load_state("networkidle")
    shot(page, "csp-console")
    assert seen == [], seen


def test_the_shop_works_under_the_policy(live_server: dict[str, Any], watched_phone) -> None:
    page, seen = watched_phone
    base = live_server["base_url"]
    csp = _csp_of(page, base + "/shop/")
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill("csp-shopper")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    product = httpx.get(f"{base}/api/v1/products", params={"limit": 1}, timeout=10).json()["items"][0]
    for route in (f"#/p/{product['id']}", "#/seckill", "#/coupons", "#/me", "#/orders", "#/"):
        page.goto(f"{base}/shop/{route}")
        page.wait_for_load_state("networkidle")
        expect(page.locator("body")).to_be_visible()
    page.wait_for_function("() => [...document.images].every((i) => i.complete)")
    shot(page, "csp-shop")
    assert seen == [], seen
