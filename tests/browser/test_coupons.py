"""Coupons in the H5 shop and the console: claim, see it chosen at checkout, pay, cancel another order and
get that coupon back; the console lists the template with its usage and the promotion."""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client, pick_region, shot

ADDRESS = {"name": "王五", "phone": "13700137000", "region": "浙江省 杭州市 西湖区", "detail": "文三路 1 号"}


@pytest.fixture
def offer(live_server: dict[str, Any]) -> dict[str, Any]:
    """A product of its own with a coupon and a promotion scoped to it, so other shop tests see no change."""
    base, tag = live_server["base_url"], secrets.token_hex(3)
    now = datetime.now(UTC)
    with admin_client(base, live_server) as boss:
        p = boss.post(
            "/api/admin/v1/products",
            json={
                "title": f"券测试乌龙茶{tag}",
                "category": "测试",
                "skus": [{"name": "罐装", "price_fen": 6000, "stock": 50}],
            },
        ).json()
        t = boss.post(
            "/api/admin/v1/coupons/templates",
            json={
                "name": f"乌龙茶满100减20-{tag}",
                "kind": "amount",
                "amount_fen": 2000,
                "threshold_fen": 10_000,
                "scope": "products",
                "scope_ids": [p["id"]],
                "total": 100,
                "per_user_limit": 2,
                "valid_days": 7,
            },
        )
        assert t.status_code == 201, t.text
        promo = boss.post(
            "/api/admin/v1/promotions",
            json={
                "kind": "full_reduction",
                "name": f"乌龙茶满3件9折-{tag}",
                "basis": "count",
                "scope": "products",
                "scope_ids": [p["id"]],
                "tiers": [{"threshold": 3, "percent_bp": 1000}],
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(days=2)).isoformat(),
            },
        )
        assert promo.status_code == 201, promo.text
    return {"product": p, "sku": p["skus"][0]["id"], "template": t.json(), "promotion": promo.json()}


def _wait(fn: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_shopper_claims_uses_and_gets_a_coupon_back(live_server: dict[str, Any], phone: Page, offer) -> None:
    page, base = phone, live_server["base_url"]
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill("coupon-" + secrets.token_hex(4))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()

    # 领券中心: claim the template twice (its per-user limit).
    page.goto(f"{base}/shop/#/coupons")
    card = page.locator(".coupon-card", has_text=offer["template"]["name"])
    expect(card).to_contain_text("满100减20元")
    card.get_by_role("button", name="立即领取").click()
    expect(card.get_by_role("button", name="立即领取")).to_be_enabled()
    card.get_by_role("button", name="立即领取").click()
    expect(card.get_by_role("button", name="已领取")).to_be_disabled()
    shot(page, "coupons-01-centre")

    # Product page: the promotion label; buy two.
    page.goto(f"{base}/shop/#/p/{offer['product']['id']}")
    expect(page.locator(".pd-promotions")).to_contain_text("满3件9折")
    page.get_by_role("button", name="罐装").click()
    page.get_by_role("button", name="增加").click()
    page.get_by_role("button", name="立即购买").click()
    expect(page).to_have_url(re.compile(r"#/checkout$"))

    # The one checkout: the best coupon chosen, the tier hint, the breakdown. The old coupon-checkout
    # address still lands there.
    expect(page.locator(".chosen-coupon")).to_contain_text("-¥20.00")
    page.goto(f"{base}/shop/#/checkout/coupons")
    expect(page).to_have_url(re.compile(r"#/checkout$"))
    expect(page.locator(".chosen-coupon")).to_contain_text("-¥20.00")
    expect(page.locator(".tier-hint")).to_have_text("再买1件享9折")
    expect(page.locator(".step[data-kind=goods]")).to_have_text(re.compile(r"商品金额\s*¥120\.00"))
    expect(page.locator(".step[data-kind=coupon]")).to_contain_text("-¥20.00")
    expect(page.locator(".step-total")).to_contain_text("¥108.00")
    page.locator(".coupon-row").click()
    sheet = page.get_by_role("dialog", name="选择优惠券")
    expect(sheet.locator(".coupon-pick")).to_have_count(2)
    sheet.get_by_role("button", name="不使用优惠券").click()
    expect(page.locator(".step-total")).to_contain_text("¥128.00")
    page.locator(".coupon-row").click()
    page.get_by_role("dialog", name="选择优惠券").locator(".coupon-pick").first.click()
    expect(page.locator(".step-total")).to_contain_text("¥108.00")
    for key in ("name", "phone", "detail"):
        page.locator(f".checkout input[name={key}]").fill(ADDRESS[key])
    pick_region(page, ADDRESS["region"])
    shot(page, "coupons-02-checkout")
    page.get_by_role("button", name="提交订单").click()
    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"))
    expect(page.locator(".cashier-price")).to_have_text("¥108.00")
    page.get_by_role("button", name="沙箱支付：确认付款").click()
    expect(page.locator(".ostatus-name")).to_have_text("待发货")

    # Another order with the second coupon, cancelled: the coupon comes back.
    token = page.evaluate("() => localStorage.getItem('fm.token')")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as me:
        mine = me.get("/api/v1/me/coupons", params={"status": "available"}).json()["items"]
        assert len(mine) == 1
        second = mine[0]["id"]
        r = me.post(
            "/api/v1/orders",
            json={"items": [{"sku_id": offer["sku"], "qty": 2}], "address": ADDRESS, "coupon_id": second},
        )
        assert r.status_code == 201 and r.json()["payable_fen"] == 10_800, r.text
        assert me.post(f"/api/v1/orders/{r.json()['id']}/cancel").status_code == 200

        def back() -> bool:
            items = me.get("/api/v1/me/coupons", params={"status": "available"}).json()["items"]
            return [c["id"] for c in items] == [second]

        assert _wait(back), "the cancelled order's coupon came back"
        statuses = sorted(c["status"] for c in me.get("/api/v1/me/coupons").json()["items"])
        assert statuses == ["available", "used"]
    page.goto(f"{base}/shop/#/me/coupons")
    expect(page.locator(f".my-coupon[data-coupon='{second}']")).to_contain_text("未使用")
    shot(page, "coupons-03-mine")


def test_console_lists_templates_with_usage_and_promotions(live_server: dict[str, Any], desktop: Page, offer) -> None:
    page, base = desktop, live_server["base_url"]
    page.goto(base + "/admin/coupons")
    page.get_by_label("用户名").fill(live_server["admin_user"])
    page.get_by_label("密码").fill(live_server["admin_password"])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + "/admin/coupons")
    row = page.locator(f"#coupon-{offer['template']['id']}")
    expect(row).to_contain_text("满100减20元")
    row.get_by_role("link").click()
    expect(page.locator("#usage")).to_contain_text("已领")
    shot(page, "console-coupon-edit")
    page.get_by_role("button", name="暂停发放").click()
    expect(page.get_by_role("status")).to_have_text("已暂停")
    page.get_by_role("button", name="恢复发放").click()
    page.goto(base + "/admin/promotions")
    expect(page.locator(f"#promotion-{offer['promotion']['id']}")).to_contain_text("满3件9折")
    shot(page, "console-promotions")
    page.goto(base + "/admin/coupons/new")
    page.locator("#f-name").fill("坏券")
    page.locator("#f-threshold").fill("10")
    page.locator("#f-amount").fill("20")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#form-error")).to_be_visible()
    shot(page, "console-coupon-error")
