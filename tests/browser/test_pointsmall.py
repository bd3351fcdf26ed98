"""积分商城 in the H5 shop: from 我的 to the mall, a coupon redeemed for points (in 我的优惠券 at once), a
product redeemed for points + cash (the order paid at the cashier, the points gone, the record in 我的兑换);
the console lists the item with its redeemed count."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client, shot

ADDRESS = {"name": "赵六", "phone": "13600136000", "region": "上海市 浦东新区", "detail": "张江路 8 号"}


@pytest.fixture
def mall(live_server: dict[str, Any]) -> dict[str, Any]:
    """A coupon item and a product item of their own, so other shop tests see no change."""
    base, tag = live_server["base_url"], secrets.token_hex(3)
    with admin_client(base, live_server) as boss:
        p = boss.post(
            "/api/admin/v1/products",
            json={
                "title": f"积分保温杯{tag}",
                "category": "测试",
                "skus": [{"name": "白色", "price_fen": 5900, "stock": 20}],
            },
        ).json()
        t = boss.post(
            "/api/admin/v1/coupons/templates",
            json={
                "name": f"5元无门槛券{tag}",
                "kind": "amount",
                "amount_fen": 500,
                "threshold_fen": 0,
                "valid_days": 30,
                "per_user_limit": 10,
                "issue_mode": "operator",
            },
        )
        assert t.status_code == 201, t.text
        coupon = boss.post(
            "/api/admin/v1/points/mall",
            json={
                "kind": "coupon",
                "coupon_template_id": t.json()["id"],
                "points": 500,
                "stock": 50,
                "per_user_limit": 2,
                "sort_order": 1,
            },
        )
        assert coupon.status_code == 201, coupon.text
        cup = boss.post(
            "/api/admin/v1/points/mall",
            json={
                "kind": "product",
                "sku_id": p["skus"][0]["id"],
                "points": 300,
                "cash_fen": 990,
                "stock": 5,
                "per_user_limit": 1,
                "sort_order": 2,
            },
        )
        assert cup.status_code == 201, cup.text
    return {"coupon": coupon.json(), "cup": cup.json(), "template": t.json()}


def test_shopper_redeems_a_coupon_and_a_product_for_points(live_server: dict[str, Any], phone: Page, mall) -> None:
    page, base = phone, live_server["base_url"]
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill("mall-" + secrets.token_hex(4))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    token = page.evaluate("() => localStorage.getItem('fm.token')")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as me:
        cid = me.get("/api/v1/me").json()["id"]
        assert me.post("/api/v1/me/addresses", json={**ADDRESS, "is_default": True}).status_code == 201
    with admin_client(base, live_server) as boss:
        r = boss.post(f"/api/admin/v1/customers/{cid}/points-adjustments", json={"delta": 1000, "reason": "浏览器测试"})
        assert r.status_code == 201, r.text

    # 我的 → 积分商城: both items as cards with their prices.
    page.goto(f"{base}/shop/#/me")
    page.get_by_role("link", name="积分商城").click()
    expect(page).to_have_url(re.compile(r"#/points-mall$"))
    cup = page.locator(f".pm-card[data-item='{mall['cup']['id']}']")
    expect(cup).to_contain_text("300积分+¥9.90")
    expect(cup).to_contain_text("剩余 5 件")
    coupon = page.locator(f".pm-card[data-item='{mall['coupon']['id']}']")
    expect(coupon).to_contain_text("500积分")
    shot(page, "pointsmall-01-mall")

    # The coupon: 立即兑换, confirm, in 我的优惠券.
    coupon.click()
    expect(page.locator(".pm-info")).to_contain_text("无门槛减5元")
    page.get_by_role("button", name="立即兑换").click()
    page.get_by_role("button", name="确认兑换").click()
    expect(page.locator(".pm-done")).to_contain_text("兑换成功")
    expect(page.locator(".pm-done")).to_contain_text("消耗 500 积分")
    page.get_by_role("link", name="查看我的优惠券").click()
    expect(page.locator(".my-coupon", has_text=mall["template"]["name"])).to_be_visible()

    # The product: the default address, 立即兑换, the cashier for ¥9.90 + shipping, paid.
    page.goto(f"{base}/shop/#/points-mall/{mall['cup']['id']}")
    expect(page.locator(".pm-address")).to_contain_text(ADDRESS["phone"])
    expect(page.locator(".pm-info")).to_contain_text("每人限兑 1 件")
    shot(page, "pointsmall-02-item")
    page.get_by_role("button", name="立即兑换").click()
    page.get_by_role("button", name="确认兑换").click()
    expect(page.locator(".pm-done")).to_contain_text("消耗 300 积分")
    page.get_by_role("button", name=re.compile(r"去支付 ¥")).click()
    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"))
    page.get_by_role("button", name="沙箱支付：确认付款").click()
    expect(page.locator(".ostatus-name")).to_have_text("待发货")
    shot(page, "pointsmall-03-paid")

    # 我的兑换: both records; the item's limit reached; the points gone.
    page.goto(f"{base}/shop/#/me/points-mall")
    expect(page.locator(".pm-record")).to_have_count(2)
    expect(page.locator(".pm-record").first).to_contain_text("已兑换")
    page.goto(f"{base}/shop/#/points-mall/{mall['cup']['id']}")
    expect(page.get_by_role("button", name="已达兑换上限")).to_be_disabled()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as me:
        assert me.get("/api/v1/me").json().get("points") in (200, None)


def test_console_lists_items_with_their_redeemed_units(live_server: dict[str, Any], desktop: Page, mall) -> None:
    page, base = desktop, live_server["base_url"]
    page.goto(base + "/admin/points-mall")
    page.get_by_label("用户名").fill(live_server["admin_user"])
    page.get_by_label("密码").fill(live_server["admin_password"])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + "/admin/points-mall")
    row = page.locator(f"#item-{mall['cup']['id']}")
    expect(row).to_contain_text("300积分+¥9.90")
    shot(page, "console-pointsmall")
    page.get_by_role("link", name="＋ 添加兑换商品").click()
    page.locator("#f-kind").select_option("coupon")
    expect(page.locator("#coupon-field")).to_be_visible()
    expect(page.locator("#sku-field")).to_be_hidden()
    page.locator("#f-points").fill("10")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#form-error")).to_be_visible()
