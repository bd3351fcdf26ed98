"""The marketing forms as a merchant who types no id: a full gift, a limited-time discount and a tiered price
made with the product picker, each shown in the shop as configured; the coupon form's live preview follows
what is typed and reads as the 领券中心 card does after saving."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client, shot
from tests.browser.test_catalog import _console_login

pytestmark = pytest.mark.browser
ZONE = ZoneInfo("Asia/Shanghai")


def _picker_time(hours: float) -> str:
    return (datetime.now(ZONE) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def goods(live_server: dict[str, Any]) -> dict[str, Any]:
    """Three products of this test's own (a unique word in their titles, for the picker's search)."""
    tag = secrets.token_hex(3)
    made = {}
    with admin_client(live_server["base_url"], live_server) as boss:
        for key, title, sku, price in [
            ("shirt", f"纯棉T恤{tag}", "白色 L", 9900),
            ("mug", f"赠品马克杯{tag}", "白瓷", 1990),
            ("rice", f"五常大米{tag}", "5kg", 5000),
        ]:
            r = boss.post(
                "/api/admin/v1/products",
                json={"title": title, "category": "测试", "skus": [{"name": sku, "price_fen": price, "stock": 100}]},
            )
            assert r.status_code == 201, r.text
            made[key] = r.json()
    return made


def _pick(page: Page, button: str, search: str, choice: str, *, multi: bool = False) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    dlg = page.get_by_role("dialog", name=button, exact=True)
    dlg.get_by_label("搜索商品名称").fill(search)
    dlg.get_by_role("button", name=re.compile(re.escape(choice))).first.click()
    if multi:
        dlg.get_by_role("button", name="完成").click()
    expect(dlg).to_be_hidden()


def _window(page: Page) -> None:
    page.get_by_label("开始时间").fill(_picker_time(-1))
    page.get_by_label("结束时间").fill(_picker_time(48))


def _shopper(base: str) -> dict[str, str]:
    login = httpx.post(f"{base}/api/v1/auth/wechat-login", json={"code": "mk-" + secrets.token_hex(4)}, timeout=10)
    return {"Authorization": f"Bearer {login.json()['token']}"}


def _preview(live_server: dict[str, Any], sku_id: int, qty: int) -> dict[str, Any]:
    base = live_server["base_url"]
    auth = _shopper(base)
    r = httpx.post(
        f"{base}/api/v1/checkout/preview", json={"items": [{"sku_id": sku_id, "qty": qty}]}, headers=auth, timeout=10
    )
    assert r.status_code == 200, r.text
    return r.json()


def _shop_tags(page: Page, base: str, product_id: int) -> Any:
    page.goto(f"{base}/shop/#/p/{product_id}")
    return page.locator(".pd-promotions")


def test_a_merchant_makes_a_gift_a_limited_discount_and_a_tiered_price_with_the_picker(
    live_server: dict[str, Any], desktop: Page, goods: dict[str, Any]
) -> None:
    page, base = desktop, live_server["base_url"]
    shirt, mug, rice = goods["shirt"], goods["mug"], goods["rice"]
    _console_login(page, live_server, "/admin/promotions")

    # 满赠: buy 100 元 of the T恤, get the mug; the shirt chosen as the scope, the mug as the gift.
    page.get_by_role("link", name="新建满赠").click()
    page.get_by_label("活动名称").fill("买T恤送杯")
    _window(page)
    page.get_by_label("适用于").select_option(label="指定商品")
    _pick(page, "选择商品", shirt["title"], shirt["title"], multi=True)
    page.get_by_label("满（元）").fill("100")
    _pick(page, "选择商品规格", mug["title"], "白瓷")
    page.get_by_label("赠品总数（送完即止）").fill("20")
    preview = page.locator("#promotion-preview")
    expect(preview).to_contain_text("满100元赠品")
    expect(preview).to_contain_text(f"送 {mug['title']} · 白瓷 ×1")
    shot(page, "console-promotion-gift")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_have_text("活动已创建")

    # 限时折扣: the T恤 at 8折, one row per SKU with no JSON and no id.
    page.goto(base + "/admin/promotions/new?kind=limited_discount")
    page.get_by_label("活动名称").fill("T恤限时8折")
    _window(page)
    _pick(page, "选择商品规格", shirt["title"], "白色 L", multi=True)
    row = page.locator("#item-rows tr").first
    expect(row).to_contain_text(shirt["title"])
    row.get_by_label("方式").select_option(label="打折")
    row.get_by_label("活动价或折扣").fill("8")
    expect(preview).to_contain_text("限时 8折 ¥79.20")
    shot(page, "console-promotion-limited")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_have_text("活动已创建")

    # 阶梯价: rice 50 元, 45 元 each from 2.
    page.goto(base + "/admin/promotions/new?kind=tiered_price")
    page.get_by_label("活动名称").fill("大米阶梯价")
    _window(page)
    _pick(page, "选择商品规格", rice["title"], "5kg")
    qty, price = page.get_by_label("起购件数"), page.get_by_label("每件价格")
    qty.nth(0).fill("1")
    price.nth(0).fill("50")
    qty.nth(1).fill("2")
    price.nth(1).fill("45")
    expect(preview).to_contain_text("买2件起每件 ¥45")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_have_text("活动已创建")
    shot(page, "console-promotion-tiered")

    # The shop: the product pages carry the labels, checkout prices them as configured.
    expect(_shop_tags(page, base, shirt["id"])).to_contain_text("满100元赠品")
    expect(page.locator(".pd-promotions")).to_contain_text("限时 8折")
    # the product page shows the 8折 price checkout charges, the full price struck through, and the time left
    expect(page.locator(".pd-price-num")).to_have_text("¥79.20")
    expect(page.locator(".pd-list-price")).to_have_text("¥99.00")
    expect(page.locator(".pd-limited")).to_have_text(re.compile(r"^限时折扣 · 距结束 (\d+天 )?\d\d:\d\d:\d\d$"))
    expect(page.locator(".btn-buy.ab-main")).to_contain_text("¥79.20")
    shot(page, "shop-product-limited-discount")
    expect(_shop_tags(page, base, rice["id"])).to_contain_text("2件起每件45元")
    shirt_sku, rice_sku = shirt["skus"][0]["id"], rice["skus"][0]["id"]
    q = _preview(live_server, shirt_sku, 2)
    assert (q["goods_fen"], q["discount_fen"]) == (2 * 9900, 2 * 1980), q  # 8折 of ¥99 is ¥79.20 each
    assert any(line.get("sku_id") == mug["skus"][0]["id"] for line in q["lines"]), q["lines"]
    q = _preview(live_server, rice_sku, 2)
    assert q["goods_fen"] - q["discount_fen"] == 2 * 4500, q


def test_the_coupon_preview_follows_what_is_typed_and_matches_the_coupon_centre(
    live_server: dict[str, Any], desktop: Page
) -> None:
    page, base = desktop, live_server["base_url"]
    _console_login(page, live_server, "/admin/coupons/new")
    card = page.locator("#coupon-preview")
    name = "预览券" + secrets.token_hex(2)
    page.get_by_label("名称").fill(name)
    expect(card).to_contain_text(name)
    page.get_by_label("使用门槛（元）").fill("199")
    page.get_by_label("减免金额（元）").fill("30")
    expect(card.locator("[data-out=headline]")).to_have_text("满199减30元")
    expect(card.locator("[data-out=face]")).to_have_text("¥30")
    expect(card).to_contain_text("领取后 7 天内有效")
    page.get_by_label("类型").select_option(label="折扣券")
    expect(page.get_by_label("减免金额（元）")).to_be_hidden()
    page.get_by_label("使用门槛（元）").fill("")
    page.get_by_label("折扣（折）").fill("8.5")
    page.get_by_label("最多减（元，可不填）").fill("20")
    expect(card.locator("[data-out=headline]")).to_have_text("无门槛8.5折 最多减20元")
    expect(card.locator("[data-out=face]")).to_have_text("8.5折")
    page.get_by_label("固定时间段").check()
    page.get_by_label("截止时间").fill("2030-06-30T23:59")
    expect(card).to_contain_text("有效期至 2030-06-30")
    page.get_by_label("发放总量（不填为不限）").fill("100")
    expect(card).to_contain_text("剩余 100 张")
    shown = card.locator("[data-out=headline]").inner_text()
    shot(page, "console-coupon-preview")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_have_text("优惠券已创建")
    centre = httpx.get(f"{base}/api/v1/coupons", headers=_shopper(base), timeout=10).json()
    (mine,) = [c for c in centre if c["name"] == name]
    assert mine["headline"] == shown and mine["valid_until"].startswith("2030-06-30T23:59")

    # Several mistakes, all beside their fields in one submit.
    page.goto(base + "/admin/coupons/new")
    page.get_by_label("减免金额（元）").fill("三十")
    page.get_by_label("领取后有效天数").fill("")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#form-error")).to_be_visible()
    expect(page.locator(".field-error")).to_have_count(3)
    shot(page, "console-coupon-errors")
