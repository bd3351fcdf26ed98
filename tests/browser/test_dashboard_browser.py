"""数据中心 in a real browser after a scripted campaign: three shoppers buy a product (one twice) through the
API, the worker rolls the payments up, and the merchant's page draws its ECharts charts (the vendored
file, no CDN) with the figures in its tables; a table's CSV downloads with those figures."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client, shot
from tests.browser.test_console_distribution import _console_login
from tests.helpers import ADDRESS

pytestmark = pytest.mark.browser


def _campaign(base: str, server: dict[str, Any]) -> int:
    """A product at ¥19.90 and four paid orders by three shoppers; returns the fen they paid."""
    boss = admin_client(base, server)
    body = {"title": "看板测试商品", "category": "测试", "skus": [{"name": "默认", "price_fen": 1990, "stock": 100}]}
    r = boss.post("/api/admin/v1/products", json=body)
    assert r.status_code == 201, r.text
    sku = r.json()["skus"][0]["id"]
    paid = 0
    for code, qty in (("dash-a", 1), ("dash-b", 2), ("dash-c", 1), ("dash-a", 3)):
        token = httpx.post(f"{base}/api/v1/auth/wechat-login", json={"code": code}, timeout=10).json()["token"]
        me = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        o = me.post("/api/v1/orders", json={"items": [{"sku_id": sku, "qty": qty}], "address": ADDRESS})
        assert o.status_code == 201, o.text
        p = me.post(f"/api/v1/orders/{o.json()['id']}/pay", json={"method": "gateway"})
        assert p.status_code == 200, p.text
        ok = me.post(f"/api/v1/payments/sandbox/{p.json()['payment_id']}/succeed")
        assert ok.status_code == 200, ok.text
        paid += o.json()["payable_fen"]
    return paid


def _wait_rolled_up(base: str, server: dict[str, Any], orders: int) -> dict[str, Any]:
    boss = admin_client(base, server)
    deadline = time.monotonic() + 20
    while True:
        ov = boss.get("/api/admin/v1/dashboard").json()["overview"]
        if ov["orders"] >= orders or time.monotonic() > deadline:
            return ov
        time.sleep(0.3)


def test_the_dashboard_draws_its_charts_with_data_and_downloads_csv(live_server: dict[str, Any], desktop: Page) -> None:
    base = live_server["base_url"]
    before = admin_client(base, live_server).get("/api/admin/v1/dashboard").json()["overview"]
    paid = _campaign(base, live_server)
    ov = _wait_rolled_up(base, live_server, before["orders"] + 4)
    assert ov["orders"] == before["orders"] + 4 and ov["paid_fen"] == before["paid_fen"] + paid

    errors: list[str] = []
    desktop.on("pageerror", lambda exc: errors.append(str(exc)))
    cdn: list[str] = []
    desktop.on("request", lambda req: cdn.append(req.url) if not req.url.startswith(base) else None)
    _console_login(desktop, live_server, "/admin/data")
    expect(desktop.get_by_role("heading", name="数据中心")).to_be_visible()
    gmv = ov["gmv_fen"]
    expect(desktop.locator('[data-stat="gmv"]')).to_have_text(f"¥{gmv // 100}.{gmv % 100:02d}")
    expect(desktop.locator('#tools tr[data-tool="normal"] td').nth(4)).to_have_text(str(ov["orders"]))
    for chart in ("#chart-daily", "#chart-tools", "#chart-funnel-0"):
        expect(desktop.locator(chart)).to_have_attribute("data-drawn", "true")
        box = desktop.locator(f"{chart} canvas").first.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, chart
    # The daily chart has today's bar: some of its canvas is painted in the bar colour.
    painted = desktop.evaluate(
        """() => { const c = document.querySelector('#chart-daily canvas'); const d = c.getContext('2d')
             .getImageData(0, 0, c.width, c.height).data; let n = 0;
             for (let i = 0; i < d.length; i += 4) if (d[i] === 47 && d[i+1] === 111 && d[i+2] === 237) n++;
             return n; }"""
    )
    assert painted > 20, "today's bar is drawn"
    shot(desktop, "dashboard")

    with desktop.expect_download() as dl:
        desktop.locator('a[data-csv="tools"]').click()
    path = dl.value.path()
    rows = list(csv.reader(io.StringIO(open(path, encoding="utf-8-sig").read())))
    assert rows[0][:5] == ["工具", "浏览次数", "分享次数", "参与人数", "订单数"]
    normal = next(r for r in rows if r[0] == "普通订单")
    assert normal[4] == str(ov["orders"])
    assert dl.value.suggested_filename.endswith(".csv")
    assert errors == [] and cdn == [], (errors, cdn)
