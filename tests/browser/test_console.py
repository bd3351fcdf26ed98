"""The merchant console in a real browser: publish a product, ship its order, approve its refund."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.helpers import ADDRESS

pytestmark = pytest.mark.browser


def _login(page: Page, server: dict[str, Any], path: str) -> None:
    page.goto(server["base_url"] + path)
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    page.get_by_label("用户名").fill(server["admin_user"])
    page.get_by_label("密码").fill(server["admin_password"])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server["base_url"] + path)


def _nav(page: Page, label: str) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=label, exact=True).click()


def _fill_sku(page: Page, index: int, name: str, price: str, stock: str) -> None:
    row = page.locator("#sku-rows tr").nth(index)
    row.get_by_label("规格名称").fill(name)
    row.get_by_label("价格（元）").fill(price)
    row.get_by_label("库存").fill(stock)


def _buy_and_pay(base: str, product_id: int, sku_name: str, qty: int) -> dict[str, Any]:
    """A shopper orders and pays through the API, as the mini-program would."""
    with httpx.Client(base_url=base, timeout=15) as api:
        r = api.post("/api/v1/auth/wechat-login", json={"code": "console-browser-buyer"})
        assert r.status_code == 200, r.text
        me = {"Authorization": f"Bearer {r.json()['token']}"}
        sku = next(k for k in api.get(f"/api/v1/products/{product_id}").json()["skus"] if k["name"] == sku_name)
        r = api.post(
            "/api/v1/orders", json={"items": [{"sku_id": sku["id"], "qty": qty}], "address": ADDRESS}, headers=me
        )
        assert r.status_code == 201, r.text
        order = r.json()
        r = api.post(f"/api/v1/orders/{order['id']}/pay", json={"method": "gateway"}, headers=me)
        assert r.status_code == 200, r.text
        r = api.post(f"/api/v1/payments/sandbox/{r.json()['payment_id']}/succeed", headers=me)
        assert r.status_code == 200 and r.json()["outcome"] == "applied", r.text
        return {"order": order, "headers": me}


def test_operator_publishes_ships_and_refunds_in_the_console(live_server, desktop):
    page: Page = desktop
    base = live_server["base_url"]

    # Log in: the console sends the anonymous visitor to the login page and back.
    page.goto(base + "/admin/")
    shot(page, "console-login")
    _login(page, live_server, "/admin/products")
    expect(page.locator("#product-table tbody tr").first).to_be_visible()
    shot(page, "console-products")

    # Publish a product with two SKUs (the second row added in the page).
    page.get_by_role("link", name="＋ 发布商品").click()
    page.get_by_label("商品标题").fill("云南小粒咖啡豆（浏览器测试）")
    page.get_by_label("分类").fill("咖啡冲饮")
    page.get_by_label("标签").fill("新品，现烘")
    page.get_by_label("商品描述").fill("保山高海拔产区，中深烘焙，坚果与焦糖风味。")
    _fill_sku(page, 0, "250g", "59.90", "30")
    page.get_by_role("button", name="＋ 添加规格").click()
    expect(page.locator("#sku-rows tr")).to_have_count(2)
    _fill_sku(page, 1, "500g", "99", "20")
    shot(page, "console-product-new")
    page.get_by_role("button", name="发布商品", exact=True).click()
    expect(page.get_by_text("商品已创建")).to_be_visible()
    match = re.search(r"/admin/products/(\d+)", page.url)
    assert match
    product_id = int(match.group(1))
    expect(page.locator("#sku-rows tr").nth(1).get_by_label("价格（元）")).to_have_value("99.00")

    # Edit the stock of the first SKU.
    page.locator("#sku-rows tr").nth(0).get_by_label("库存").fill("25")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_text("修改已保存")).to_be_visible()
    expect(page.locator("#sku-rows tr").nth(0).get_by_label("库存")).to_have_value("25")
    shot(page, "console-product-edit")

    # A shopper buys two of the 500g and pays (through the API).
    bought = _buy_and_pay(base, product_id, "500g", 2)
    order = bought["order"]

    # The list shows the stock after the sale: 25 + (20 - 2).
    _nav(page, "商品")
    row = page.locator(f'#product-table tr[data-product-id="{product_id}"]')
    expect(row).to_contain_text("¥59.90 ~ ¥99.00")
    expect(row.locator("td").nth(3)).to_have_text("43")

    # Find the paid order, ship it.
    _nav(page, "订单")
    page.get_by_role("link", name=re.compile("^待发货")).click()
    page.get_by_label("订单号").fill(order["no"])
    page.get_by_role("button", name="搜索").click()
    expect(page.locator("#order-table tbody tr")).to_have_count(1)
    shot(page, "console-orders")
    page.get_by_role("link", name=order["no"]).click()
    expect(page.locator("#order-status-badge")).to_have_text("待发货")
    expect(page.locator("#price-steps")).to_contain_text("¥206.00")
    page.get_by_label("快递公司").fill("顺丰速运")
    page.get_by_label("快递单号").fill("SF7788990011")
    shot(page, "console-order-detail")
    page.get_by_role("button", name="确认发货").click()
    expect(page.locator("#order-status-badge")).to_have_text("已发货")
    expect(page.locator("#shipping-info")).to_contain_text("SF7788990011")
    shot(page, "console-order-shipped")

    # The shopper asks for a refund; the operator approves it in the console.
    with httpx.Client(base_url=base, timeout=15) as api:
        r = api.post(f"/api/v1/orders/{order['id']}/refunds", json={"reason": "包装破损"}, headers=bought["headers"])
        assert r.status_code == 201, r.text
        refund = r.json()
    assert refund["amount_fen"] == 20600
    _nav(page, "售后")
    refund_row = page.locator(f"#refund-{refund['id']}")
    expect(refund_row).to_contain_text("包装破损")
    expect(refund_row).to_contain_text("¥206.00")
    expect(refund_row.locator(".badge")).to_have_text("待处理")
    shot(page, "console-refunds")
    page.once("dialog", lambda dialog: dialog.accept())
    refund_row.get_by_role("button", name="同意退款").click()
    # The row polls while the worker sends the refund and the sandbox gateway confirms it.
    expect(refund_row.locator(".badge")).to_have_text("已退款", timeout=10_000)
    shot(page, "console-refund-succeeded")

    # Fully refunded, the order is closed.
    page.goto(f"{base}/admin/orders/{order['id']}")
    expect(page.locator("#order-status-badge")).to_have_text("已关闭")
    expect(page.locator("#order-refunds")).to_contain_text("已退款")

    # The owner's other pages render.
    _nav(page, "概览")
    expect(page.locator('[data-stat="total-gmv"]')).to_be_visible()
    shot(page, "console-dashboard")
    _nav(page, "任务/死信")
    expect(page.get_by_role("heading", name="任务/死信")).to_be_visible()
    shot(page, "console-jobs")
    _nav(page, "支付通知")
    expect(page.locator("#notification-table")).to_contain_text("已处理")
    shot(page, "console-notifications")


def test_a_bad_price_is_refused_in_the_page(live_server, desktop):
    page: Page = desktop
    _login(page, live_server, "/admin/products/new")
    page.get_by_label("商品标题").fill("价格写错的商品")
    _fill_sku(page, 0, "默认", "十九块", "5")
    page.get_by_role("button", name="发布商品", exact=True).click()
    expect(page.get_by_text("价格格式不正确，请填写金额（元），例如 19.90")).to_be_visible()
    expect(page.locator("#sku-rows tr").nth(0).get_by_label("价格（元）")).to_have_value("十九块")
    shot(page, "console-product-error")
    page.goto(live_server["base_url"] + "/admin/products?q=价格写错")
    expect(page.get_by_text("没有符合条件的商品")).to_be_visible()
