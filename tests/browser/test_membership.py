"""会员中心 in the H5 shop: a shopper who paid enough is 黄金会员 at once (the level chip on 我的 reads it and
opens the member centre: level card, progress, every level's benefits, the birthday set once), and the product
page shows the 会员价 line."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client, shot
from tests.helpers import ADDRESS

pytestmark = pytest.mark.browser


def _login(page: Page, base: str) -> str:
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill("mb-" + secrets.token_hex(4))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    return str(page.evaluate("() => localStorage.getItem('fm.token')"))


def test_member_centre_and_member_price(live_server: dict[str, Any], phone: Page) -> None:
    page, base = phone, live_server["base_url"]
    boss = admin_client(base, live_server)
    levels = {lv["name"]: lv for lv in boss.get("/api/admin/v1/membership/levels").json()}
    # Low thresholds so one demo order makes a 黄金会员 (白银 first: a higher rank needs a higher threshold).
    assert (
        boss.put(f"/api/admin/v1/membership/levels/{levels['白银会员']['id']}", json={"threshold_fen": 50}).status_code
        == 200
    )
    assert (
        boss.put(f"/api/admin/v1/membership/levels/{levels['黄金会员']['id']}", json={"threshold_fen": 100}).status_code
        == 200
    )
    token = _login(page, base)
    me = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=15) as api:
        products = api.get("/api/v1/products", params={"limit": 20}).json()["items"]
        p = next(p for p in products if any(k["stock"] > 0 for k in p["skus"]) and p["price_fen"] >= 1000)
        sku = next(k for k in p["skus"] if k["stock"] > 0)
        r = api.post(
            "/api/v1/orders", json={"items": [{"sku_id": sku["id"], "qty": 1}], "address": ADDRESS}, headers=me
        )
        assert r.status_code == 201, r.text
        r = api.post(f"/api/v1/orders/{r.json()['id']}/pay", json={"method": "gateway"}, headers=me)
        assert api.post(f"/api/v1/payments/sandbox/{r.json()['payment_id']}/succeed", headers=me).status_code == 200
        deadline = time.monotonic() + 15
        while (me_level := api.get("/api/v1/me/level", headers=me).json())["level"] != "黄金会员":
            assert time.monotonic() < deadline, "the level did not move up after the payment"
            time.sleep(0.2)

    page.goto(f"{base}/shop/#/me")
    chip = page.locator("a.me-level")
    expect(chip).to_have_text("黄金会员")
    chip.click()
    expect(page.locator("#mb-card")).to_contain_text("黄金会员")
    expect(page.locator("#mb-card")).to_contain_text("升级为钻石会员")
    # 成长值 is a whole number of 元 paid (the order cost p["price_fen"] plus shipping): never "12.50".
    growth = me_level["growth_fen"] // 100
    expect(page.locator(".mb-growth")).to_have_text(re.compile(rf"成长值 {growth}$"))
    expect(page.locator(".mb-level")).to_have_count(4)
    shot(page, "shop-member-centre")
    # a 会员日 is named any day, not only on the day itself (restored after: the server is shared)
    was = boss.get("/api/admin/v1/membership/member-day").json()
    day = {"enabled": True, "day_of_month": 28, "extra_rate_bp": 9000, "double_points": False}
    assert boss.put("/api/admin/v1/membership/member-day", json=day).status_code == 200
    try:
        page.reload()
        expect(page.locator("div.mb-day")).to_contain_text("会员日")
    finally:
        assert boss.put("/api/admin/v1/membership/member-day", json=was).status_code == 200
    expect(page.locator(".mb-level.on")).to_contain_text("全场商品9折")
    page.get_by_label("生日").fill("1990-05-20")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#mb-birthday")).to_have_text("1990-05-20")
    shot(page, "shop-member-centre")

    page.goto(f"{base}/shop/#/p/{p['id']}")
    line = page.locator(".mb-price")
    expect(line).to_be_visible()
    expect(line).to_contain_text("会员价")
    expect(line).to_contain_text("黄金会员 9折")
    shot(page, "shop-member-price")
