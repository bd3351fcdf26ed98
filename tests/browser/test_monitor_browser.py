"""实时监控 in a real browser: it renders its figures and bars, and refreshes itself as orders come in."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.browser.test_console import _login
from tests.helpers import ADDRESS

pytestmark = pytest.mark.browser


def _buy_and_pay(base: str, n: int) -> None:
    """`n` orders of the demo shop's first product, each paid, as the mini-program would place them."""
    with httpx.Client(base_url=base, timeout=15) as api:
        r = api.post("/api/v1/auth/wechat-login", json={"code": "monitor-browser-buyer"})
        assert r.status_code == 200, r.text
        me = {"Authorization": f"Bearer {r.json()['token']}"}
        products = api.get("/api/v1/products").json()
        items = products["items"] if isinstance(products, dict) else products
        sku = next(k for p in items for k in api.get(f"/api/v1/products/{p['id']}").json()["skus"] if k["stock"] > n)
        for _ in range(n):
            r = api.post(
                "/api/v1/orders", json={"items": [{"sku_id": sku["id"], "qty": 1}], "address": ADDRESS}, headers=me
            )
            assert r.status_code == 201, r.text
            r = api.post(f"/api/v1/orders/{r.json()['id']}/pay", json={"method": "gateway"}, headers=me)
            assert r.status_code == 200, r.text
            r = api.post(f"/api/v1/payments/sandbox/{r.json()['payment_id']}/succeed", headers=me)
            assert r.status_code == 200, r.text


def test_the_monitor_renders_and_refreshes_itself(live_server, desktop):
    page: Page = desktop
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = live_server["base_url"]
    _login(page, live_server, "/admin/monitor")
    expect(page.get_by_role("heading", name="实时监控")).to_be_visible()
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="实时监控", exact=True)).to_be_visible()
    for label in ("本分钟下单", "支付成功率", "错误率（近 5 分钟）", "任务队列积压"):
        expect(page.locator(".stat-label", has_text=label)).to_be_visible()
    expect(page.locator("#orders-chart rect.bar-placed")).to_have_count(60)
    expect(page.locator("#seckill-figures")).to_contain_text("秒杀")
    placed = page.locator('[data-figure="orders-placed"]')
    before = int(placed.inner_text())
    stamp = page.locator('[data-figure="now"]').inner_text()

    _buy_and_pay(base, 3)
    # no reload: htmx polls the figures every 5 s and swaps them in
    expect(placed).to_have_text(str(before + 3), timeout=15_000)
    expect(page.locator('[data-figure="now"]')).not_to_have_text(stamp)
    expect(page.locator('[data-figure="payment-success"]')).to_have_text(re.compile(r"^\d+\.\d\d%$"))
    tall = page.locator("#orders-chart rect.bar-placed:not([height='0'])")
    assert tall.count() >= 1
    expect(page).to_have_url(base + "/admin/monitor")
    shot(page, "monitor")
    assert errors == []
