"""Staff and customers in a real browser: the owner creates a staff account, who logs in with the password
the page handed over (in a second browser); the owner finds a shopper by nickname and opens their page."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client, shot

pytestmark = pytest.mark.browser


def _login(page: Page, base: str, path: str, username: str, password: str) -> None:
    page.goto(base + path)
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + path)


def _nav(page: Page) -> Any:
    return page.get_by_role("navigation", name="主导航")


def test_the_owner_creates_a_staff_account_that_logs_in_elsewhere(live_server, desktop, browser):
    base = live_server["base_url"]
    _login(desktop, base, "/admin/staff", live_server["admin_user"], live_server["admin_password"])
    expect(desktop.get_by_text("门店店员绑定门店将随「门店」功能")).to_be_visible()
    username = "xiaoli" + secrets.token_hex(2)
    desktop.locator("#f-username").fill(username)
    desktop.locator("#f-role").select_option("operator")
    desktop.locator("#create-staff").click()
    expect(desktop.locator("#handed-username")).to_have_text(username)
    temp = desktop.locator("#handed-secret").inner_text().strip()
    assert len(temp) >= 8
    expect(desktop.locator(f"tr[data-staff='{username}']")).to_contain_text("运营")
    shot(desktop, "people-01-staff-created")

    other = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    try:
        staff_page = other.new_page()
        staff_page.set_default_timeout(15_000)
        _login(staff_page, base, "/admin/", username, temp)
        expect(_nav(staff_page).get_by_role("link", name="商品", exact=True)).to_be_visible()
        expect(_nav(staff_page).get_by_role("link", name="员工", exact=True)).to_have_count(0)
        expect(staff_page.locator(".me-text")).to_contain_text(username)
        shot(staff_page, "people-02-staff-logged-in")

        # The owner disables the account: the staff member's next page is the login form.
        desktop.once("dialog", lambda dialog: dialog.accept())
        desktop.locator(f"tr[data-staff='{username}']").get_by_role("button", name="停用").click()
        expect(desktop.locator(f"tr[data-staff='{username}']")).to_contain_text("已停用")
        staff_page.reload()
        expect(staff_page).to_have_url(re.compile(r"/admin/login"))
    finally:
        other.close()


def test_the_owner_finds_a_customer_by_nickname_and_opens_their_page(live_server, desktop):
    base = live_server["base_url"]
    tail = secrets.token_hex(2)
    r = httpx.post(f"{base}/api/v1/auth/wechat-login", json={"code": f"people-{tail}"}, timeout=10)
    assert r.status_code == 200, r.text
    shopper_id, nickname = r.json()["user"]["id"], r.json()["user"]["nickname"]
    assert nickname.endswith(tail)

    _login(desktop, base, "/admin/", live_server["admin_user"], live_server["admin_password"])
    _nav(desktop).get_by_role("link", name="客户", exact=True).click()
    expect(desktop).to_have_url(base + "/admin/customers")
    desktop.get_by_label("昵称、完整手机号或买家编号").fill(nickname)
    desktop.get_by_role("button", name="筛选").click()
    row = desktop.locator(f"tr[data-customer-id='{shopper_id}']")
    expect(row).to_be_visible()
    expect(desktop.locator("#customer-table tbody tr")).to_have_count(1)
    shot(desktop, "people-03-customer-search")
    row.get_by_role("link", name="详情").click()
    expect(desktop).to_have_url(f"{base}/admin/customers/{shopper_id}")
    expect(desktop.get_by_role("heading", name=nickname)).to_be_visible()
    for title in ("订单", "优惠券", "分销关系", "风控"):
        expect(desktop.locator(f"[data-panel='{title}']")).to_be_visible()
    expect(desktop.locator("[data-panel='订单']")).to_contain_text("还没有下过单")
    shot(desktop, "people-04-customer-page")

    # The risk page's picker finds the same shopper by nickname: no id typed.
    desktop.goto(base + "/admin/risk")
    desktop.locator("#f-customer").fill(nickname)
    desktop.locator(f"#block-form .cp-option[data-id='{shopper_id}']").click()
    expect(desktop.locator("#block-form .cp-chip")).to_contain_text(nickname)
    shot(desktop, "people-05-risk-picker")
    desktop.once("dialog", lambda dialog: dialog.accept())
    desktop.locator("#block-btn").click()
    expect(desktop.locator(f"#blocked-table tr[data-customer-id='{shopper_id}']")).to_be_visible()


def test_the_owner_sends_a_coupon_to_shoppers_found_by_nickname(live_server, desktop):
    """定向发放 takes shoppers from the customer search (several at once), never typed 用户编号."""
    base = live_server["base_url"]
    tail = secrets.token_hex(2)
    shoppers = []
    for who in ("a", "b"):
        r = httpx.post(f"{base}/api/v1/auth/wechat-login", json={"code": f"gift-{who}-{tail}"}, timeout=10)
        assert r.status_code == 200, r.text
        shoppers.append((r.json()["user"]["id"], r.json()["user"]["nickname"], r.json()["token"]))
    with admin_client(base, live_server) as boss:
        t = boss.post(
            "/api/admin/v1/coupons/templates",
            json={
                "name": f"定向券{tail}",
                "kind": "amount",
                "amount_fen": 1000,
                "issue_mode": "operator",
                "valid_days": 7,
            },
        )
        assert t.status_code == 201, t.text
    template_id = t.json()["id"]

    _login(desktop, base, f"/admin/coupons/{template_id}", live_server["admin_user"], live_server["admin_password"])
    expect(desktop.get_by_text("用户编号")).to_have_count(0)
    for shopper_id, nickname, _ in shoppers:
        desktop.locator("#f-ids").fill(nickname)
        desktop.locator(f"#issue .cp-option[data-id='{shopper_id}']").click()
    expect(desktop.locator("#issue .cp-chip")).to_have_count(2)
    shot(desktop, "people-06-coupon-issue-picker")
    desktop.locator("#issue-btn").click()
    expect(desktop.locator(".alert")).to_contain_text("已发放 2 张")
    for _, _, token in shoppers:
        mine = httpx.get(f"{base}/api/v1/me/coupons", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert [c["name"] for c in mine.json()["items"]] == [f"定向券{tail}"], mine.text
