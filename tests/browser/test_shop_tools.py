"""The tools where shoppers look, from `make demo` data alone: the demo's campaigns are seeded on this
module's live server exactly as `fissionmall demo` seeds them (demo/campaigns.py `seed`, over HTTP), then a
shopper sees the flash sale on the product page (opened from the distributor's share link) and buys at the
flash price, opens a group with a non-default SKU and pays what the button said, and claims a coupon."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from fissionmall.demo.campaigns import seed
from tests.browser.conftest import pick_region, shot
from tests.conftest import _run_in_thread

pytestmark = pytest.mark.browser
ADDRESS = {"name": "赵六", "phone": "13600136000", "region": "浙江省 杭州市 西湖区", "detail": "文三路 8 号"}


@pytest.fixture(scope="module")
def demo(live_server: dict[str, Any]) -> dict[str, Any]:
    """The live server with the demo's campaigns, and what the ready banner prints (share code, group)."""

    async def run() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=live_server["base_url"], timeout=60) as c:
            return await seed(c, admin_password=live_server["admin_password"], db=None)

    info = _run_in_thread(run())
    products = httpx.get(f"{live_server['base_url']}/api/v1/products", params={"limit": 100}).json()["items"]
    return {**live_server, **info, "products": {p["title"]: p for p in products}}


def _login(page: Page, base: str) -> None:
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill("tools-" + secrets.token_hex(4))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()


def _amount(text: str) -> str:
    found = re.search(r"¥\s*([\d,]+\.\d\d)", text.replace("\n", ""))
    assert found, text
    return found.group(1)


def _pay_at_cashier(page: Page) -> str:
    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"))
    charged = _amount(page.locator(".cashier-amount").inner_text())
    page.get_by_role("button", name="沙箱支付：确认付款").click()
    expect(page).to_have_url(re.compile(r"#/orders/\d+$"))
    return charged


def test_the_flash_sale_shows_on_the_product_page_from_a_share_link_and_sells_at_its_price(demo, phone: Page):
    base = demo["base_url"]
    buds = demo["products"]["蓝牙无线耳机"]
    _login(phone, base)

    # Home: the 限时秒杀 row (the demo's session running now) above the products, then 拼团.
    row = phone.locator(".sk-home")
    expect(row).to_be_visible()
    expect(row).to_contain_text("距结束")
    expect(row.locator(f'a[href="#/p/{buds["id"]}"]')).to_contain_text("¥99.00")
    expect(phone.locator(".gb-home")).to_contain_text("赣南脐橙")
    boxes = [phone.locator(sel).bounding_box() for sel in (".sk-home", ".gb-home", ".section-title")]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]  # type: ignore[index]
    shot(phone, "tools-01-home")

    # An upcoming session's product says 即将开抢 with the time to its start.
    phone.goto(f"{base}/shop/#/p/{demo['products']['纯棉四件套']['id']}")
    expect(phone.locator(".sk-pd")).to_contain_text("距开抢")
    expect(phone.locator(".sk-pd-buy")).to_contain_text("即将开抢")

    # The distributor's link to the earphones: the flash price, the countdown to the end, its own button.
    phone.goto(f"{base}/shop/?ref={demo['share_code']}#/p/{buds['id']}")
    banner = phone.locator(".sk-pd")
    expect(banner).to_contain_text("¥99.00")
    expect(banner).to_contain_text("¥199.00")
    # The session ends an hour from the seed or later: under an hour the clock reads MM:SS.
    expect(banner.locator(".sk-pd-clock")).to_have_text(re.compile(r"^距结束 (\d\d:)?\d\d:\d\d$"))
    grab = phone.locator(".sk-pd-buy")
    expect(grab).to_contain_text("¥99.00")
    expect(grab).to_contain_text("立即秒杀")
    expect(phone.locator(".actionbar .ab-main")).to_contain_text("单独购买")
    shot(phone, "tools-02-flash-product")

    # No address yet: the shopper adds one and comes back to the product, then grabs.
    grab.click()
    expect(phone).to_have_url(re.compile(r"#/me/addresses/new"))
    phone.get_by_label("收货人").fill(ADDRESS["name"])
    phone.get_by_label("手机号").fill(ADDRESS["phone"])
    pick_region(phone, ADDRESS["region"])
    phone.get_by_label("详细地址").fill(ADDRESS["detail"])
    phone.get_by_role("button", name=re.compile("保存")).click()
    expect(phone).to_have_url(re.compile(rf"#/p/{buds['id']}"))
    phone.locator(".sk-pd-buy").click()

    # The cashier charges the flash price, and its 5-minute window starts at 05:00 or less (never 05:01).
    expect(phone).to_have_url(re.compile(r"#/cashier/\d+$"))
    expect(phone.locator(".cashier-deadline")).to_have_text(re.compile(r"剩余支付时间 0[0-5]:\d\d"))
    left = phone.locator(".cashier-deadline").inner_text()
    minutes, seconds = map(int, left.rsplit(" ", 1)[1].split(":"))
    assert minutes * 60 + seconds <= 300, left
    shot(phone, "tools-03-flash-cashier")
    assert _pay_at_cashier(phone) == "99.00"
    expect(phone.locator(".page")).to_contain_text("秒杀价")


def test_a_group_opened_with_a_non_default_sku_costs_what_the_button_said(demo, phone: Page):
    base = demo["base_url"]
    oranges = demo["products"]["赣南脐橙"]
    _login(phone, base)
    phone.goto(f"{base}/shop/#/p/{oranges['id']}")

    # The group section lists the demo's forming group to join; the bar pairs 单独购买 with 发起拼团.
    section = phone.locator(".gb-section")
    expect(section).to_contain_text("3人拼团")
    expect(section.locator(f'.gb-group[data-group-id="{demo["group_id"]}"]')).to_contain_text("还差")
    solo, group = phone.locator(".actionbar .ab-main"), phone.locator(".gb-open")
    expect(solo).to_contain_text("单独购买")
    expect(group).to_contain_text("发起拼团")

    # 10斤装 (not the default 5斤装): ¥49.90 alone, ¥35.90 in a group less the leader's ¥2.00.
    phone.locator(".pd-skus button.sku", has_text="10斤装").click()
    expect(solo).to_contain_text("¥49.90")
    expect(group).to_contain_text("¥33.90")
    ten = next(k for k in oranges["skus"] if k["name"] == "10斤装")
    expect(group).to_have_attribute("data-sku-id", str(ten["id"]))
    shot(phone, "tools-04-group-product")
    group.click()

    # The buy page: the product, the SKU, the group price and the whole breakdown before paying.
    page = phone.locator(".gb-buy")
    expect(page.locator(".gb-buy-line")).to_contain_text("10斤装")
    expect(page.locator(".gb-buy-line")).to_contain_text("¥35.90")
    for kind in ("goods", "activity", "shipping"):
        expect(page.locator(f'.step[data-kind="{kind}"]')).to_be_visible()
    submit = phone.locator(".gb-submit")
    expect(submit).to_have_text(re.compile(r"开团并支付 ¥\d+\.\d\d"))
    phone.locator(".gb-buy input[name=name]").fill(ADDRESS["name"])
    phone.locator(".gb-buy input[name=phone]").fill(ADDRESS["phone"])
    pick_region(phone, ADDRESS["region"])
    phone.locator(".gb-buy input[name=detail]").fill(ADDRESS["detail"])
    expect(submit).to_have_text("开团并支付 ¥33.90")
    shown = _amount(submit.inner_text())
    assert shown == _amount(page.locator(".step-total").inner_text())
    shot(phone, "tools-05-group-buy")
    submit.click()
    assert _pay_at_cashier(phone) == shown == "33.90"


def test_a_shopper_claims_a_demo_coupon_in_the_coupon_centre(demo, phone: Page):
    base = demo["base_url"]
    _login(phone, base)
    phone.locator(".coupon-banner").click()
    expect(phone).to_have_url(re.compile(r"#/coupons$"))
    card = phone.locator(".coupon-card", has_text="满99减10")
    expect(card).to_be_visible()
    card.get_by_role("button", name="立即领取").click()
    expect(card.get_by_role("button", name="已领取")).to_be_visible()
    shot(phone, "tools-06-coupons")
    phone.goto(f"{base}/shop/#/me/coupons")
    expect(phone.locator(".my-coupon", has_text="满99减10")).to_be_visible()
