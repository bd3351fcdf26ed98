"""分销 in the browser: a shopper applies and shares a poster, a friend logs in through the link and buys,
the commission shows as pending, the dev clock passes after-sales and the month-end settlement, the
distributor withdraws in the shop and the operator approves it in the console.

The dev clock moves a server's time forward by about 40 days, which would upset other tests' countdowns
on the shared `live_server`; this test therefore runs its own demo server (`clock_server`), started the same
way.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import pick_region, shot
from tests.browser.test_shop import ADDRESS, _admin, _api, _demo_product

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def clock_server(live_server: dict[str, Any]) -> dict[str, Any]:
    """This module's own demo server (live_server is per module), whose dev clock the test moves."""
    return live_server


def _login(page: Page, base: str, code: str, then: str = "#/") -> None:
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    if then != "#/":
        page.goto(f"{base}/shop/{then}")


def _clock(server: dict[str, Any], days: int) -> None:
    with _admin(server) as boss:
        r = boss.post("/api/admin/v1/dev/clock", json={"advance_seconds": days * 86400})
        assert r.status_code == 200, r.text


def test_share_buy_settle_withdraw_and_approve(clock_server: dict[str, Any], phone: Page, desktop: Page) -> None:
    live_server = clock_server
    base = live_server["base_url"]
    with _admin(live_server) as boss:
        r = boss.put(
            "/api/admin/v1/distribution/config",
            json={
                "enabled": True,
                "approval": "auto",
                "level1_rate_bp": 1000,
                "frozen_days": 0,
                "min_withdraw_fen": 100,
            },
        )
        assert r.status_code == 200, r.text
    oranges = _demo_product(base, "赣南脐橙")
    sharer = "sharer-" + secrets.token_hex(3)

    # The shopper applies in the distributor centre.
    page = phone
    _login(page, base, sharer, "#/distribution")
    page.get_by_role("button", name="申请成为分销员").click()
    expect(page.locator(".dist-code")).to_have_text(re.compile(r"^[A-Z0-9]{8}$"))
    code = page.locator(".dist-code").inner_text()
    shot(page, "distribution-01-centre")

    # Shares a product: the poster and the link.
    page.goto(f"{base}/shop/#/p/{oranges['id']}")
    page.get_by_role("button", name="分享赚佣金").click()
    sheet = page.get_by_role("dialog", name="分享赚佣金")
    poster = sheet.locator("img.dist-poster")
    expect(poster).to_be_visible()
    page.wait_for_function(
        "() => { const i = document.querySelector('img.dist-poster'); return i && i.complete && i.naturalWidth > 0; }"
    )
    link = sheet.get_by_role("textbox", name="分享链接").input_value()
    assert f"ref={code}" in link and link.endswith(f"#/p/{oranges['id']}")
    shot(page, "distribution-02-poster")
    sheet.get_by_role("button", name="关闭").click()
    expect(sheet).to_be_hidden()

    # A friend opens the link, logs in through it and buys.
    parts = urlsplit(link)
    friend_ctx = page.context.browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    friend = friend_ctx.new_page()
    friend.set_default_timeout(15_000)
    try:
        friend.goto(f"{base}{parts.path}?{parts.query}#{parts.fragment}")
        expect(friend.get_by_role("heading", name="赣南脐橙")).to_be_visible()
        friend.goto(f"{base}/shop/#/login")
        friend.get_by_placeholder("测试账号，如 alice").fill("friend-" + secrets.token_hex(3))
        friend.get_by_role("button", name="登录", exact=True).click()
        expect(friend.get_by_text("为你推荐")).to_be_visible()
        friend.goto(f"{base}/shop/#/p/{oranges['id']}")
        friend.get_by_role("button", name="10斤装").click()
        friend.get_by_role("button", name="立即购买").click()
        friend.get_by_placeholder("请填写收货人姓名").fill(ADDRESS["name"])
        friend.get_by_placeholder("请填写收货人手机号").fill(ADDRESS["phone"])
        pick_region(friend, ADDRESS["region"])
        friend.get_by_placeholder("街道、门牌号等").fill(ADDRESS["detail"])
        friend.get_by_role("button", name="提交订单").click()
        friend.get_by_role("button", name="沙箱支付：确认付款").click()
        expect(friend).to_have_url(re.compile(r"#/orders/\d+$"))
        order_id = int(re.search(r"#/orders/(\d+)$", friend.url).group(1))  # type: ignore[union-attr]
        friend_api = _api(live_server, friend)
    finally:
        pass

    # The commission appears as pending (10% of 49.90), once the worker has handled OrderPaid.
    with _api(live_server, page) as sharer_api:
        for _ in range(50):
            if sharer_api.get("/api/v1/distribution/me").json()["pending_fen"] == 499:
                break
            time.sleep(0.2)
    page.goto(f"{base}/shop/#/distribution")
    expect(page.locator(".dist-balance")).to_contain_text("4.99")
    expect(page.locator(f".dist-order[data-order-id='{order_id}']")).to_contain_text("待结算")
    shot(page, "distribution-03-pending")

    # Shipped and received; the clock passes after-sales (OrderCompleted) and a month end (settlement).
    with _admin(live_server) as boss:
        r = boss.post(f"/api/admin/v1/orders/{order_id}/ship", json={"carrier": "顺丰", "tracking_no": "SF900800700"})
        assert r.status_code == 200, r.text
    with friend_api:
        assert friend_api.post(f"/api/v1/orders/{order_id}/receive").status_code == 200
    friend_ctx.close()
    _clock(live_server, 8)
    _clock(live_server, 32)

    # The distributor (logged in again: a week passed) withdraws.
    _login(page, base, sharer, "#/distribution")
    expect(page.locator(".dist-balance")).to_contain_text("4.99")
    page.get_by_role("button", name="提现", exact=True).click()
    page.get_by_role("spinbutton", name="提现金额（元）").fill("3")
    page.get_by_role("button", name="确认提现").click()
    expect(page.get_by_text("提现申请已提交")).to_be_visible()
    expect(page.locator(".dist-balance")).to_contain_text("1.99")
    shot(page, "distribution-04-withdrawn")

    # The operator approves it in the console; the sandbox transfer pays it.
    console = desktop
    console.goto(base + "/admin/distribution/withdrawals")
    console.get_by_label("用户名").fill(live_server["admin_user"])
    console.get_by_label("密码").fill(live_server["admin_password"])
    console.get_by_role("button", name="登录").click()
    row = console.locator("#withdrawal-table tr", has_text="¥3.00").first
    expect(row).to_be_visible()
    shot(console, "distribution-05-console-withdrawals")
    row.get_by_role("button", name="同意打款").click()
    expect(console.get_by_text("已同意，正在打款")).to_be_visible()
    for _ in range(20):
        console.reload()
        if console.locator("#withdrawal-table tr", has_text="已到账").count():
            break
        console.wait_for_timeout(300)
    expect(console.locator("#withdrawal-table tr", has_text="已到账").first).to_be_visible()
    console.goto(base + "/admin/distribution")
    expect(console.get_by_role("heading", name="分销设置")).to_be_visible()
    shot(console, "distribution-06-console-settings")

    page.reload()
    expect(page.locator(".dist-balance")).to_contain_text("3.00")
    with httpx.Client(base_url=base, timeout=10) as c:
        assert c.get("/api/v1/distribution/media/" + "0" * 24 + "-qr.png").status_code == 404
