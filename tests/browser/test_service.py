"""联系客服 in the H5 shop: the product page's action bar and 我的 offer the shop's contact (a tel: link, a
WeChat id to copy) once the shop has one, and show nothing while it has none."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import httpx
from playwright.sync_api import Page, Route, expect

CONTACT = {
    "service_phone": "400-820-8820",
    "service_wechat": "fission_kefu",
    "service_wechat_enabled": True,
    "service_hours": "每天 9:00-21:00",
}


def _product_id(base: str) -> int:
    items = httpx.get(f"{base}/api/v1/products").json()["items"]
    return int(items[0]["id"])


def test_the_contact_shows_where_the_shop_has_one(live_server: dict[str, Any], phone: Page) -> None:
    page, base = phone, live_server["base_url"]
    pid = _product_id(base)
    # The demo shop sets no contact: no 客服 button, no empty card.
    page.goto(f"{base}/shop/#/p/{pid}")
    expect(page.get_by_role("button", name="立即购买")).to_be_visible()
    expect(page.locator("[data-service=product]")).to_be_hidden()

    def configured(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(CONTACT))

    page.route(re.compile(r".*/api/v1/shop/info$"), configured)
    page.reload()
    service = page.locator("[data-service=product]")
    expect(service).to_be_visible()
    service.click()
    sheet = page.get_by_role("dialog", name="联系客服")
    expect(sheet).to_contain_text("每天 9:00-21:00")
    expect(sheet.get_by_role("link", name="400-820-8820")).to_have_attribute("href", "tel:4008208820")
    expect(sheet).to_contain_text("客服微信：fission_kefu")
    sheet.get_by_role("button", name="关闭").click()

    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill("kefu-" + secrets.token_hex(4))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    page.goto(f"{base}/shop/#/me")
    entry = page.locator("[data-service=me]")
    expect(entry).to_be_visible()
    entry.click()
    expect(page.get_by_role("dialog", name="联系客服")).to_contain_text("400-820-8820")
