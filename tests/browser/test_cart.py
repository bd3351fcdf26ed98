"""The cart in the H5 shop: two products added from their pages, the badge, the cart, and the one checkout
(an address from the book, a coupon chosen, the 满减 and its 凑单 hint), and pays."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client, shot

HOME = {"name": "赵六", "phone": "13600136000", "region": "广东省 广州市 天河区", "detail": "体育西路 1 号"}
OFFICE = {"name": "赵六", "phone": "13600136001", "region": "广东省 广州市 越秀区", "detail": "中山五路 9 号"}


@pytest.fixture
def offer(live_server: dict[str, Any]) -> dict[str, Any]:
    """Two products of their own, a 满减 and two coupons scoped to them, so other shop tests see no change."""
    base, tag = live_server["base_url"], secrets.token_hex(3)
    now = datetime.now(UTC)
    with admin_client(base, live_server) as boss:
        made = []
        for title, fen in ((f"购物车红茶{tag}", 6000), (f"购物车茶盘{tag}", 5000)):
            r = boss.post(
                "/api/admin/v1/products",
                json={"title": title, "category": "测试", "skus": [{"name": "标准装", "price_fen": fen, "stock": 20}]},
            )
            assert r.status_code == 201, r.text
            made.append(r.json())
        ids = [p["id"] for p in made]
        promo = boss.post(
            "/api/admin/v1/promotions",
            json={
                "kind": "full_reduction",
                "name": f"茶具满100减10-{tag}",
                "scope": "products",
                "scope_ids": ids,
                "tiers": [{"threshold": 10_000, "amount_fen": 1000}, {"threshold": 20_000, "amount_fen": 3000}],
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(days=2)).isoformat(),
            },
        )
        assert promo.status_code == 201, promo.text
        templates = []
        for name, amount, threshold in ((f"茶具满100减20-{tag}", 2000, 10_000), (f"茶具无门槛5元-{tag}", 500, 0)):
            t = boss.post(
                "/api/admin/v1/coupons/templates",
                json={
                    "name": name,
                    "kind": "amount",
                    "amount_fen": amount,
                    "threshold_fen": threshold,
                    "scope": "products",
                    "scope_ids": ids,
                    "total": 100,
                    "per_user_limit": 1,
                    "valid_days": 7,
                },
            )
            assert t.status_code == 201, t.text
            templates.append(t.json())
    return {"products": made, "templates": templates}


def test_shopper_fills_the_cart_and_checks_out_with_a_chosen_coupon(
    live_server: dict[str, Any], phone: Page, offer: dict[str, Any]
) -> None:
    page, base = phone, live_server["base_url"]
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill("cart-" + secrets.token_hex(4))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    token = page.evaluate("() => localStorage.getItem('fm.token')")
    me = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    for t in offer["templates"]:
        assert me.post(f"/api/v1/coupons/{t['id']}/claim").status_code == 201
    assert me.post("/api/v1/me/addresses", json=HOME).status_code == 201  # the default
    assert me.post("/api/v1/me/addresses", json=OFFICE).status_code == 201

    # 加入购物车 from each product page: a toast, and the product page's own link to the cart.
    tea, tray = offer["products"]
    for p in (tea, tray):
        page.goto(f"{base}/shop/#/p/{p['id']}")
        expect(page.get_by_role("heading", name=p["title"])).to_be_visible()
        page.get_by_role("button", name="加入购物车").click()
        expect(page.locator("#toast")).to_have_text("已加入购物车")
    shot(page, "cart-01-product")

    # The cart: the badge on the tab bar says 2, both lines selected, 去结算 (2).
    page.goto(f"{base}/shop/#/")
    expect(page.locator("#cart-badge")).to_have_text("2")
    page.locator(".tab[data-tab=cart]").click()
    expect(page).to_have_url(re.compile(r"#/cart$"))
    lines = page.locator(".cart-line")
    expect(lines).to_have_count(2)
    expect(page.locator(".cart-lines")).to_contain_text(tea["title"])
    expect(page.locator(".cart-lines")).to_contain_text(tray["title"])
    expect(page.locator(".cart-bar .submit-total")).to_contain_text("¥110.00")
    go = page.get_by_role("button", name="去结算 (2)")
    expect(go).to_be_enabled()
    shot(page, "cart-02-cart")
    go.click()

    # The one checkout: the default address, changed for the other one in the book.
    expect(page).to_have_url(re.compile(r"#/checkout$"))
    expect(page.locator(".addr-chosen")).to_contain_text(HOME["phone"])
    page.get_by_role("button", name="更换地址").click()
    page.get_by_role("dialog", name="选择收货地址").locator(".addr-option", has_text=OFFICE["phone"]).click()
    expect(page.locator(".addr-chosen")).to_contain_text(OFFICE["detail"])

    # The best coupon is preselected; the 满减 and its 凑单 hint; then the shopper chooses the other coupon.
    expect(page.locator(".line")).to_have_count(2)
    expect(page.locator(".chosen-coupon")).to_contain_text("-¥20.00")
    expect(page.locator(".tier-hint")).to_have_text("再买90元减30元")
    expect(page.locator(".step[data-kind=goods]")).to_have_text(re.compile(r"商品金额\s*¥110\.00"))
    expect(page.locator(".step[data-kind=reduction]")).to_contain_text("-¥10.00")
    page.locator(".coupon-row").click()
    sheet = page.get_by_role("dialog", name="选择优惠券")
    expect(sheet.locator(".coupon-pick")).to_have_count(2)
    sheet.locator(".coupon-pick", has_text="无门槛5元").click()
    expect(page.locator(".chosen-coupon")).to_contain_text("-¥5.00")
    expect(page.locator(".step[data-kind=coupon]")).to_contain_text("-¥5.00")
    shipping = me.post("/api/v1/checkout/preview", json={"from_cart": True}).json()["shipping_fen"]
    payable = 11_000 - 1000 - 500 + shipping
    total = f"¥{payable // 100}.{payable % 100:02d}"
    expect(page.locator(".step-total")).to_contain_text(total)
    shot(page, "cart-03-checkout")
    page.get_by_role("button", name="提交订单").click()

    # The cashier asks for what the chain said; the ordered lines left the cart.
    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"))
    expect(page.locator(".cashier-price")).to_have_text(total)
    shot(page, "cart-04-cashier")
    assert me.get("/api/v1/cart").json()["items"] == []
    # Paid through the sandbox's signed notification: the order waits to be shipped, paid in full.
    page.get_by_role("button", name="沙箱支付：确认付款").click()
    expect(page).to_have_url(re.compile(r"#/orders/\d+$"))
    expect(page.locator(".ostatus-name")).to_have_text("待发货")
    orders = me.get("/api/v1/orders").json()["items"]
    assert orders[0]["payable_fen"] == payable and orders[0]["paid_fen"] == payable
    o = me.get(f"/api/v1/orders/{orders[0]['id']}").json()
    assert o["address"]["phone"] == OFFICE["phone"]
    assert sorted(ln["title"] for ln in o["lines"]) == sorted([tea["title"], tray["title"]])
    page.goto(f"{base}/shop/#/")
    expect(page.locator("#cart-badge")).to_be_hidden()
    me.close()
