"""付费会员 in the H5 shop and the console: a shopper sees the 会员价 banner with 开通会员, opens 尊享会员 from
我的, buys the plan at the sandbox cashier, sees its expiry, then the member price on the product page and in
the 确认订单 price chain; a member-only product is refused to a non-member in words. The console's three
pages (付费会员, 会员价, 付费会员名单) list what the shop made."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from fissionmall.demo.vip import seed
from tests.browser.conftest import admin_client, pick_region, shot
from tests.conftest import _run_in_thread
from tests.english import english_sentences

ADMIN = "/api/admin/v1"
ADDRESS = {"name": "孙七", "phone": "13500135000", "region": "浙江省 杭州市 西湖区", "detail": "文三路 9 号"}


@pytest.fixture(scope="module")
def vip(live_server: dict[str, Any]) -> dict[str, Any]:
    """The demo's plan (尊享会员 99元/年, 9.5折, 2×5元 a month; demo/vip.py `seed`, over HTTP) with its 9折 会员价
    on a product's first SKU (¥128.00 → ¥115.20), and a member-only product."""
    base = live_server["base_url"]
    with admin_client(base, live_server) as boss:

        def make(title: str, skus: list[tuple[str, int]]) -> dict[str, Any]:
            body = {
                "title": title,
                "category": "测试",
                "skus": [{"name": n, "price_fen": p, "stock": 50} for n, p in skus],
            }
            r = boss.post(f"{ADMIN}/products", json=body)
            assert r.status_code == 201, r.text
            return r.json()

        tea = make("会员价龙井茶", [("250克", 12800), ("500克", 23800)])
        only = make("会员专享黑茶", [("礼盒", 36800)])
        headers = {"Authorization": boss.headers["Authorization"]}

        async def run() -> dict[str, Any]:
            async with httpx.AsyncClient(base_url=base, timeout=30) as c:
                return await seed(c, headers, {tea["title"]: tea})

        made = _run_in_thread(run())
        body = {"prices": made["member_prices"], "member_only_product_ids": [only["id"]]}
        r = boss.put(f"{ADMIN}/membership/member-prices", json=body)
        assert r.status_code == 200, r.text
    return {**live_server, **made, "tea": tea, "only": only}


def _login(page: Page, base: str, who: str) -> None:
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill(f"{who}-{secrets.token_hex(4)}")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()


def _tidy(page: Page) -> None:
    """Fits a 375 px phone, and reads in Chinese: no English sentence, no raw code (MEMBER_ONLY)."""
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= page.viewport_size["width"], f"page {wide}px wide"  # type: ignore[index]
    text = page.locator("body").inner_text()
    assert english_sentences(text) == [], text
    assert not re.search(r"\b[A-Z]{2,}(_[A-Z]+)+\b", text), text


def test_a_shopper_buys_the_plan_and_pays_the_member_price(vip: dict[str, Any], phone: Page) -> None:
    page, base = phone, vip["base_url"]
    page.set_viewport_size({"width": 375, "height": 812})
    _login(page, base, "vip")
    tea = vip["tea"]

    # The product: its 250克 SKU has a 会员价; a non-member is offered 开通会员.
    page.goto(f"{base}/shop/#/p/{tea['id']}")
    banner = page.locator(".vip-pd")
    expect(banner).to_contain_text("¥115.20")
    expect(banner).to_contain_text("会员价")
    expect(banner).to_contain_text("省¥12.80")
    expect(banner.get_by_role("link", name="开通会员")).to_be_visible()
    _tidy(page)
    shot(page, "vip-01-product-non-member")

    # 我的 → 尊享会员: the plan card with its price and benefits.
    page.goto(f"{base}/shop/#/me")
    entry = page.get_by_role("link", name=re.compile("尊享会员"))
    expect(entry).to_be_visible()
    shot(page, "vip-02-me")
    entry.click()
    expect(page).to_have_url(re.compile(r"#/me/vip$"))
    card = page.locator(".vip-plan", has_text="尊享会员")
    expect(card).to_contain_text("¥99.00")
    expect(card).to_contain_text("9.5折")
    expect(card).to_contain_text("5元")
    _tidy(page)
    shot(page, "vip-03-plans")

    # Buy it at the sandbox cashier; back on 尊享会员 it runs until a date a year on.
    card.get_by_role("button", name="立即开通").click()
    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"))
    expect(page.locator(".cashier-price")).to_have_text("¥99.00")
    shot(page, "vip-04-cashier")
    page.get_by_role("button", name="沙箱支付：确认付款").click()
    expect(page).to_have_url(re.compile(r"#/orders/\d+$"))
    expect(page.locator(".vip-order-link")).to_be_visible()
    _tidy(page)
    shot(page, "vip-05-order")
    page.goto(f"{base}/shop/#/me/vip")
    expect(page.locator(".vip-until")).to_contain_text(re.compile(r"有效期至 \d{4}-\d\d-\d\d"))
    _tidy(page)
    shot(page, "vip-06-member")

    # The product now shows the member price as theirs; 确认订单 has the 会员价 row and charges it.
    page.goto(f"{base}/shop/#/p/{tea['id']}")
    banner = page.locator(".vip-pd")
    expect(banner).to_contain_text("¥115.20")
    expect(banner.get_by_role("link", name="开通会员")).to_have_count(0)
    expect(banner).to_contain_text("您的会员价")
    expect(banner).to_contain_text("已开通会员")
    _tidy(page)
    shot(page, "vip-07-product-member")
    page.get_by_role("button", name="250克").click()
    page.get_by_role("button", name="立即购买").click()
    expect(page).to_have_url(re.compile(r"#/checkout$"))
    for key in ("name", "phone", "detail"):
        page.locator(f".checkout input[name={key}]").fill(ADDRESS[key])
    pick_region(page, ADDRESS["region"])
    expect(page.locator(".step[data-kind=goods]")).to_have_text(re.compile(r"商品金额\s*¥128\.00"))
    expect(page.locator(".step[data-kind=member]")).to_have_text(re.compile(r"会员价\s*-¥12\.80"))
    _tidy(page)
    shot(page, "vip-08-checkout")
    expect(page.locator(".step-total")).to_contain_text("¥118.20")  # less the month's 5元 coupon, plus ¥8 运费
    page.get_by_role("button", name="提交订单").click()
    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"))
    expect(page.locator(".cashier-price")).to_have_text("¥118.20")

    # The member-only product: marked, and a member may buy it.
    page.goto(f"{base}/shop/#/p/{vip['only']['id']}")
    expect(page.locator(".vip-pd")).to_contain_text("会员专享")
    shot(page, "vip-09-member-only-member")


def test_a_non_member_is_refused_the_member_only_product_in_words(vip: dict[str, Any], phone: Page) -> None:
    page, base = phone, vip["base_url"]
    page.set_viewport_size({"width": 375, "height": 812})
    _login(page, base, "plain")
    page.goto(f"{base}/shop/#/p/{vip['only']['id']}")
    banner = page.locator(".vip-pd")
    expect(banner).to_contain_text("会员专享")
    expect(banner.get_by_role("link", name="开通会员")).to_be_visible()
    _tidy(page)
    shot(page, "vip-10-member-only-non-member")
    page.get_by_role("button", name="立即购买").click()
    expect(page.get_by_text(re.compile("付费会员专享"))).to_be_visible()
    _tidy(page)
    shot(page, "vip-11-member-only-refused")


def test_the_console_lists_the_plan_prices_and_members(vip: dict[str, Any], desktop: Page) -> None:
    page, base = desktop, vip["base_url"]
    page.goto(base + "/admin/vip/plans")
    page.get_by_label("用户名").fill(vip["admin_user"])
    page.get_by_label("密码").fill(vip["admin_password"])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + "/admin/vip/plans")
    expect(page.locator("main")).to_contain_text("尊享会员")
    shot(page, "vip-console-01-plans")
    page.get_by_role("link", name="尊享会员").click()
    expect(page.locator("main input[name=price]")).to_have_value("99")
    shot(page, "vip-console-01-plan-form")
    page.goto(base + "/admin/vip/prices")
    expect(page.locator("main")).to_contain_text("会员价龙井茶")
    shot(page, "vip-console-02-prices")
    page.goto(base + "/admin/vip/members")
    expect(page.locator("main")).to_contain_text("尊享会员")
    shot(page, "vip-console-03-members")
    page.locator("main table a").first.click()
    expect(page.locator("main")).to_contain_text("付费会员")
    expect(page.locator("main")).to_contain_text("尊享会员")
    expect(page.locator("main")).not_to_contain_text("vip")  # the granted coupons' source, in words
    shot(page, "vip-console-04-customer")
