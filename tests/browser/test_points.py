"""消费积分 in the H5 shop and the console: the shopper signs in (a double tap grants once) and sees the
streak and balance move, pays an order and sees the points it earned, spends points at checkout (the
积分抵扣 row and step); the console saves 积分规则, lists 积分明细 and adjusts on the customer page."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client, pick_region, shot

ADDRESS = {"name": "赵六", "phone": "13600136000", "region": "浙江省 杭州市 西湖区", "detail": "文三路 9 号"}
RULES = {
    "enabled": True,
    "earn_per_yuan": 1,
    "spend_points_per_yuan": 100,
    "spend_cap_bp": 5000,
    "spend_unit": 100,
    "sign_in_enabled": True,
    "sign_in_points": 5,
    "streak_bonus": [{"day": 7, "points": 20}],
}


@pytest.fixture(scope="module")
def shop(live_server: dict[str, Any]) -> dict[str, Any]:
    """Points on, and a product of this test's own at ¥60.00."""
    base, tag = live_server["base_url"], secrets.token_hex(3)
    with admin_client(base, live_server) as boss:
        assert boss.put("/api/admin/v1/points/rules", json=RULES).status_code == 200
        p = boss.post(
            "/api/admin/v1/products",
            json={
                "title": f"积分测试龙井{tag}",
                "category": "测试",
                "skus": [{"name": "礼盒", "price_fen": 6000, "stock": 50}],
            },
        ).json()
    return {"product": p, "state": {}}


def _login(page: Page, base: str, code: str) -> None:
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()


def _buy(page: Page, base: str, product: dict[str, Any], *, first: bool) -> None:
    page.goto(f"{base}/shop/#/p/{product['id']}")
    page.get_by_role("button", name="礼盒").click()
    page.get_by_role("button", name="立即购买").click()
    expect(page).to_have_url(re.compile(r"#/checkout$"))
    if first:
        for key in ("name", "phone", "detail"):
            page.locator(f".checkout input[name={key}]").fill(ADDRESS[key])
        pick_region(page, ADDRESS["region"])


def _pay(page: Page) -> None:
    page.get_by_role("button", name="提交订单").click()
    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"))
    page.get_by_role("button", name="沙箱支付：确认付款").click()
    expect(page.locator(".ostatus-name")).to_have_text("待发货")


def _balance_becomes(page: Page, base: str, want: str) -> None:
    """#/me/points until the balance reads `want` (points are earned by the OrderPaid handler, a job)."""
    deadline = time.monotonic() + 15
    while True:
        page.goto(f"{base}/shop/#/")
        page.goto(f"{base}/shop/#/me/points")
        expect(page.locator(".pt-balance")).to_be_visible()
        if page.locator(".pt-balance").inner_text() == want or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(page.locator(".pt-balance")).to_have_text(want)


def test_shopper_signs_in_earns_and_spends_points(live_server: dict[str, Any], phone: Page, shop) -> None:
    page, base = phone, live_server["base_url"]
    page.set_viewport_size({"width": 375, "height": 812})
    _login(page, base, "points-" + secrets.token_hex(4))
    card = page.locator(".pt-home")
    expect(card).to_contain_text("今天签到 +5 积分")
    shot(page, "points-01-home")

    page.goto(f"{base}/shop/#/me")
    page.locator("a.pt-me").click()
    expect(page).to_have_url(re.compile(r"#/me/points$"))
    expect(page.locator(".pt-balance")).to_have_text("0")
    expect(page.locator(".pt-streak")).to_contain_text("已连续签到 0 天")
    # A double tap, and two requests at once on top: one sign-in, one grant.
    page.locator(".pt-sign-btn").dblclick()
    page.evaluate(
        """() => Promise.all([1, 2].map(() => fetch('/api/v1/points/sign-in', {method: 'POST',
             headers: {Authorization: 'Bearer ' + localStorage.getItem('fm.token')}})))"""
    )
    expect(page.locator(".pt-sign-btn")).to_have_text("今日已签到")
    expect(page.locator(".pt-balance")).to_have_text("5")
    expect(page.locator(".pt-streak")).to_contain_text("已连续签到 1 天")
    expect(page.locator(".pt-day.on.today")).to_contain_text("+5")
    expect(page.locator(".pt-tomorrow")).to_have_text("明天签到可得 5 积分")
    expect(page.locator(".pt-entry[data-kind=signin]")).to_have_count(1)
    expect(page.locator(".pt-entry[data-kind=signin]")).to_contain_text("每日签到")
    shot(page, "points-02-signed")
    page.goto(f"{base}/shop/#/")
    expect(page.get_by_text("为你推荐")).to_be_visible()
    expect(page.locator(".pt-home")).to_be_hidden()

    # Pay ¥60.00 of goods: 60 points, shown at once.
    _buy(page, base, shop["product"], first=True)
    expect(page.locator(".points-card")).to_be_hidden()  # 5 points: not one whole unit of 100
    _pay(page)
    _balance_becomes(page, base, "65")
    expect(page.locator(".pt-entry[data-kind=earn]")).to_contain_text("+60")
    expect(page.locator(".pt-entry[data-kind=earn]")).to_contain_text("购物奖励")

    # 500 more from the merchant: now points pay at checkout.
    token = page.evaluate("() => localStorage.getItem('fm.token')")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as me:
        cid = me.get("/api/v1/me").json()["id"]
    shop["state"]["customer_id"] = cid
    with admin_client(base, live_server) as boss:
        r = boss.post(f"/api/admin/v1/customers/{cid}/points-adjustments", json={"delta": 500, "reason": "浏览器测试"})
        assert r.status_code == 201, r.text
    _buy(page, base, shop["product"], first=False)
    row = page.locator(".points-card")
    expect(row).to_contain_text("可用 500 积分抵 ¥5.00")
    total = page.locator(".step-total").inner_text()
    row.get_by_role("switch", name="使用积分抵扣").check()
    expect(row).to_contain_text("已用 500 积分抵 ¥5.00")
    expect(page.locator(".step", has_text="积分抵扣")).to_contain_text("-¥5.00")
    expect(page.locator(".step-total")).not_to_have_text(total)
    shot(page, "points-03-checkout")
    _pay(page)
    _balance_becomes(page, base, str(565 - 500 + 55))  # ¥55.00 paid earns 55
    expect(page.locator(".pt-entry[data-kind=spend]")).to_contain_text("-500")
    shot(page, "points-04-ledger")


def test_console_rules_ledger_and_adjustment(live_server: dict[str, Any], desktop: Page, shop) -> None:
    page, base = desktop, live_server["base_url"]
    page.goto(base + "/admin/points/rules")
    page.get_by_label("用户名").fill(live_server["admin_user"])
    page.get_by_label("密码").fill(live_server["admin_password"])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + "/admin/points/rules")
    page.locator("#f-cap").fill("150")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("[data-error-for=spend_cap_bp]")).to_contain_text("最高抵扣比例")
    shot(page, "points-console-rules-error")
    page.locator("#f-cap").fill("50")
    page.locator("#f-signin-points").fill("6")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_have_text("积分规则已保存")
    expect(page.locator("#f-signin-points")).to_have_value("6")
    shot(page, "points-console-rules")

    page.get_by_role("link", name="积分明细").click()
    expect(page.locator("#entry-table")).to_contain_text("每日签到")
    expect(page.locator("#entry-table")).to_contain_text("下单抵扣")
    cid = shop["state"].get("customer_id")
    if cid is None:
        pytest.skip("the shopper test did not run")
    page.goto(f"{base}/admin/points/entries?customer_id={cid}&kind=adjust")
    expect(page.locator("#entry-table tbody tr")).to_have_count(1)
    expect(page.locator("#entry-table")).to_contain_text("浏览器测试")
    shot(page, "points-console-entries")

    page.goto(f"{base}/admin/customers/{cid}")
    form = page.locator("#points-adjust")
    form.get_by_label("积分").fill("30")
    form.get_by_role("button", name="确认调整").click()
    expect(page.locator("#points-adjust [data-error-for=reason]")).to_have_text("请填写调整原因")
    page.locator("#points-adjust").get_by_label("调整原因").fill("客诉补偿")
    page.locator("#points-adjust").get_by_role("button", name="确认调整").click()
    panel = page.locator(".customer-panel[data-panel='积分']")
    expect(panel.locator("dd").first).to_have_text("150")
    expect(panel.locator("tbody tr").first).to_contain_text("客诉补偿")
    expect(panel.locator("tbody tr").first).to_contain_text("+30")
    expect(page.locator("#points-adjust").get_by_label("调整原因")).to_have_value("")
    shot(page, "points-console-adjust")
