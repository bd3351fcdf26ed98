"""分销 set up in the console by a merchant who types no id and no basis point: the rates in %, a product's own
commission chosen with the picker, the live preview saying what one item earns; then a friend a distributor
brought buys that product and the distributor centre shows the commission the override pays."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.browser.test_distribution import _login
from tests.browser.test_shop import _admin, _api, _demo_product
from tests.helpers import ADDRESS as API_ADDRESS

pytestmark = pytest.mark.browser


def _console_login(page: Page, server: dict[str, Any], path: str) -> None:
    page.goto(server["base_url"] + path)
    page.get_by_label("用户名").fill(server["admin_user"])
    page.get_by_label("密码").fill(server["admin_password"])
    page.get_by_role("button", name="登录").click()


def test_merchant_sets_rates_in_percent_and_a_product_override_the_shop_pays(
    live_server: dict[str, Any], desktop: Page, phone: Page
) -> None:
    base = live_server["base_url"]
    oranges = _demo_product(base, "赣南脐橙")
    errors: list[str] = []
    desktop.on("pageerror", lambda exc: errors.append(str(exc)))

    # The merchant sets the shop's rates in %; the preview follows every keystroke.
    console = desktop
    _console_login(console, live_server, "/admin/distribution")
    expect(console.get_by_role("heading", name="分销设置")).to_be_visible()
    form = console.locator("#distribution-config")
    form.get_by_label("开启分销").check()
    form.get_by_label("成为分销员的条件").select_option(label="自动通过")
    form.get_by_label("分销层级").select_option(value="2")
    form.get_by_label("单笔订单佣金上限（%）").fill("30")
    form.get_by_label("一级佣金比例（%）").fill("12.5")
    form.get_by_label("二级佣金比例（%）").fill("2.5")
    preview = console.locator("#preview-text")
    expect(preview).to_have_text("一件 ¥199 的商品：一级佣金 ¥24.88，二级 ¥4.98")  # 24.875 → 24.88, half up
    console.get_by_label("示例商品价格（元）").fill("49.9")
    expect(preview).to_have_text("一件 ¥49.90 的商品：一级佣金 ¥6.24，二级 ¥1.25")
    form.get_by_label("一级佣金比例（%）").fill("28")
    expect(console.locator("#preview-warning")).to_have_text(
        "一级与二级佣金比例之和（30.5%）不能超过单笔订单佣金上限（30%）"
    )
    form.get_by_label("一级佣金比例（%）").fill("12.5")
    expect(console.locator("#preview-warning")).to_be_hidden()
    form.get_by_label("冻结天数（天）").fill("0")
    form.get_by_label("最低提现金额（元）").fill("1")

    # A product with its own commission: chosen by name with the picker, a row per product.
    table = console.locator("#overrides-product")
    table.get_by_role("button", name="选择商品").click()
    dialog = console.get_by_role("dialog", name="选择商品")
    dialog.get_by_label("搜索商品名称").fill("赣南脐橙")
    dialog.get_by_role("button", name=re.compile("赣南脐橙")).first.click()
    dialog.get_by_role("button", name="完成").click()
    row = table.locator("#ov_p-rows tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("赣南脐橙")
    row.get_by_label("一级佣金", exact=True).fill("20")
    row.get_by_label("二级佣金", exact=True).fill("0.5")
    expect(row.locator("[data-row-preview]")).to_contain_text("一级 ¥")
    shot(console, "console-distribution-01-form")
    console.get_by_role("button", name="保存设置").click()
    expect(console.get_by_text("设置已保存")).to_be_visible()

    # Shown again as the merchant typed it: % and the product by name, never an id or basis points.
    expect(form.get_by_label("一级佣金比例（%）")).to_have_value("12.5")
    expect(row).to_contain_text("赣南脐橙")
    expect(row.get_by_label("一级佣金", exact=True)).to_have_value("20")
    shot(console, "console-distribution-02-saved")
    with _admin(live_server) as boss:
        cfg = boss.get("/api/admin/v1/distribution/config").json()
    assert (cfg["level1_rate_bp"], cfg["level2_rate_bp"], cfg["frozen_days"]) == (1250, 250, 0)
    assert [(o["product_id"], o["level1_rate_bp"], o["level2_rate_bp"]) for o in cfg["overrides"]] == [
        (oranges["id"], 2000, 50)
    ]
    assert errors == []

    # The shop: a shopper becomes a distributor; a friend who came through the share code buys the oranges
    # (the browser path of a share link is tests/browser/test_distribution.py's).
    page = phone
    sharer = "override-" + secrets.token_hex(3)
    _login(page, base, sharer, "#/distribution")
    page.get_by_role("button", name="申请成为分销员").click()
    expect(page.locator(".dist-code")).to_have_text(re.compile(r"^[A-Z0-9]{8}$"))
    code = page.locator(".dist-code").inner_text()
    sku = next(k for k in oranges["skus"] if k["name"] == "10斤装")
    with httpx.Client(base_url=base, timeout=10) as api:
        r = api.post("/api/v1/auth/wechat-login", json={"code": "buyer-" + secrets.token_hex(3), "ref": code})
        api.headers["Authorization"] = f"Bearer {r.json()['token']}"
        r = api.post("/api/v1/distribution/bind", json={"ref": code})  # as the shop does on a share link
        assert r.status_code == 200 and r.json()["distributor_nickname"] == f"微信用户{sharer[-4:]}", r.text
        r = api.post("/api/v1/orders", json={"items": [{"sku_id": sku["id"], "qty": 1}], "address": API_ADDRESS})
        assert r.status_code == 201, r.text
        order_id = r.json()["id"]
        pid = api.post(f"/api/v1/orders/{order_id}/pay", json={"method": "gateway"}).json()["payment_id"]
        assert api.post(f"/api/v1/payments/sandbox/{pid}/succeed").status_code == 200
        lines = api.get(f"/api/v1/orders/{order_id}").json()["lines"]
        paid_goods = sum(ln["payable_fen"] - ln["shipping_fen"] for ln in lines)

    # The distributor centre shows the order at the product's 20%, not the shop's 12.5%.
    expected = (paid_goods * 2000 + 5000) // 10000
    with _api(live_server, page) as sharer_api:
        for _ in range(50):
            if sharer_api.get("/api/v1/distribution/me").json()["pending_fen"]:
                break
            time.sleep(0.2)
    page.reload()  # the centre was open since the application: read it afresh
    shown = f"+{expected // 100}.{expected % 100:02d}"  # 20% of the paid goods: ¥9.98 for ¥49.90
    expect(page.locator(f".dist-order[data-order-id='{order_id}']")).to_contain_text(shown)
    expect(page.locator(".dist-balance")).to_contain_text(shown.removeprefix("+"))
    shot(page, "console-distribution-03-shop")
