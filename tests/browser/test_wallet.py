"""储值 in the H5 shop: top up with a bonus (充500送100) through the cashier, see 本金 and 赠送 apart, then pay
an order half by the wallet (组合支付: 余额 + 微信) and the rest at the gateway's cashier."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client, shot

ADDRESS = {"name": "赵六", "phone": "13600136000", "region": "上海市 浦东新区", "detail": "世纪大道 8 号"}


def test_top_up_with_bonus_and_pay_an_order_half_by_wallet(live_server: dict[str, Any], phone: Page) -> None:
    page, base, tag = phone, live_server["base_url"], secrets.token_hex(3)
    with admin_client(base, live_server) as boss:
        r = boss.post("/api/admin/v1/wallet/packages", json={"pay_fen": 50000, "bonus_fen": 10000, "sort": 0})
        assert r.status_code == 201, r.text
        p = boss.post(
            "/api/admin/v1/products",
            json={
                "title": f"储值测试茶具{tag}",
                "category": "测试",
                "skus": [{"name": "整套", "price_fen": 120000, "stock": 5}],
            },
        ).json()

    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill("wallet-" + tag)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()

    # 我的 → 我的余额 → 充值: the package card, bought through the cashier.
    page.goto(f"{base}/shop/#/me")
    page.locator("#me-wallet").click()
    expect(page).to_have_url(re.compile(r"#/me/wallet$"))
    expect(page.locator("#wallet-balance")).to_have_text("0.00")
    page.locator("#wallet-top-up").click()
    card = page.locator(".wl-package", has_text="充500")
    expect(card).to_contain_text("送100元")
    shot(page, "wallet-01-top-up")
    card.click()
    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"))
    expect(page.locator(".cashier-price")).to_have_text("¥500.00")
    expect(page.locator(".wl-method")).to_be_hidden()  # a top-up is never paid from the wallet
    page.get_by_role("button", name="沙箱支付：确认付款").click()
    expect(page).to_have_url(re.compile(r"#/orders/\d+$"))
    page.goto(f"{base}/shop/#/me/wallet")
    expect(page.locator("#wallet-balance")).to_have_text("600.00")
    expect(page.locator("#wallet-principal")).to_have_text("500.00")
    expect(page.locator("#wallet-bonus")).to_have_text("100.00")
    expect(page.locator(".wl-entry[data-kind=topup]")).to_contain_text("+¥600.00")
    shot(page, "wallet-02-balance")

    # An order for ¥1,200 (+ shipping): 组合支付 takes the ¥600 balance, WeChat the rest.
    token = page.evaluate("() => localStorage.getItem('fm.token')")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as me:
        o = me.post("/api/v1/orders", json={"items": [{"sku_id": p["skus"][0]["id"], "qty": 1}], "address": ADDRESS})
        assert o.status_code == 201, o.text
        order = o.json()
        pid = me.post(f"/api/v1/orders/{order['id']}/pay", json={"method": "gateway"}).json()["payment_id"]
    page.goto(f"{base}/shop/#/cashier/{pid}")
    method = page.locator(".wl-method")
    expect(method).to_contain_text("组合支付")
    expect(method).to_contain_text(f"余额 ¥600.00 + 微信 ¥{(order['payable_fen'] - 60000) / 100:,.2f}")
    shot(page, "wallet-03-cashier")
    method.get_by_role("button", name="组合支付").click()
    expect(page).not_to_have_url(re.compile(rf"#/cashier/{pid}$"))
    expect(page.locator(".cashier-price")).to_have_text(f"¥{(order['payable_fen'] - 60000) / 100:,.2f}")
    expect(page.locator(".wl-method")).to_contain_text("余额已抵扣")
    page.get_by_role("button", name="沙箱支付：确认付款").click()
    expect(page.locator(".ostatus-name")).to_have_text("待发货")
    page.goto(f"{base}/shop/#/me/wallet")
    expect(page.locator("#wallet-balance")).to_have_text("0.00")
    expect(page.locator(".wl-entry[data-kind=pay]")).to_contain_text("-¥600.00")
    shot(page, "wallet-04-paid")
