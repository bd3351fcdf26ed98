"""收货地址 in the H5 shop: a shopper adds addresses from 我的 with the 省/市/区 picker, makes one the default, and
checkout ships to it (and offers the others through 更换地址)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import pick_region, shot

HOME = {"name": "周八", "phone": "13600136000", "region": "江苏省 南京市 玄武区", "detail": "中山路 1 号"}
WORK = {"name": "周八", "phone": "(025)84561234", "region": "江苏省 南京市 鼓楼区", "detail": "汉中路 2 号 5 楼"}


def _fill(page: Page, a: dict[str, str], *, default: bool = False) -> None:
    page.get_by_placeholder("请填写收货人姓名").fill(a["name"])
    page.get_by_placeholder("手机或座机，如 020-81167888").fill(a["phone"])
    pick_region(page, a["region"])
    page.get_by_placeholder("街道、门牌号等").fill(a["detail"])
    if default:
        page.locator("input[name=is_default]").check()
    page.get_by_role("button", name="保存").click()


def test_add_set_default_and_order_with_it(live_server: dict[str, Any], phone: Page) -> None:
    page, base = phone, live_server["base_url"]
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill("addr-" + secrets.token_hex(4))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()

    # 我的 → 收货地址: empty, then two addresses; the first becomes the default.
    page.goto(f"{base}/shop/#/me")
    page.get_by_role("link", name="收货地址").click()
    expect(page).to_have_url(re.compile(r"#/me/addresses$"))
    expect(page.get_by_text("还没有收货地址")).to_be_visible()
    page.get_by_role("link", name="＋ 新增收货地址").click()
    # Saving without a 区/县 says what is missing, in Chinese, and stores nothing.
    page.get_by_placeholder("请填写收货人姓名").fill(HOME["name"])
    page.get_by_placeholder("手机或座机，如 020-81167888").fill(HOME["phone"])
    page.get_by_label("省份").select_option(label="江苏省")
    page.get_by_label("城市").select_option(label="南京市")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("请选择所在区县")).to_be_visible()
    expect(page).to_have_url(re.compile(r"#/me/addresses/new$"))
    _fill(page, HOME)
    expect(page).to_have_url(re.compile(r"#/me/addresses$"))
    expect(page.locator(".addr-item")).to_have_count(1)
    expect(page.locator(".addr-item").first.locator(".addr-default")).to_have_text("默认")
    page.get_by_role("link", name="＋ 新增收货地址").click()
    _fill(page, WORK)
    expect(page.locator(".addr-item")).to_have_count(2)
    work = page.locator(".addr-item", has_text="汉中路 2 号 5 楼")
    expect(work).to_contain_text("(025)84561234")  # shown as typed
    expect(work.locator(".addr-default")).to_have_count(0)

    # Make the second one the default: the tag moves, and it leads the list.
    work.get_by_role("button", name="设为默认").click()
    expect(page.locator(".addr-item").first).to_contain_text("汉中路 2 号 5 楼")
    expect(page.locator(".addr-item").first.locator(".addr-default")).to_have_text("默认")
    expect(page.locator(".addr-default")).to_have_count(1)
    # Edit it: the picker shows its region, the detail changes, it stays the default.
    page.locator(".addr-item").first.get_by_role("link", name="编辑").click()
    expect(page.get_by_placeholder("街道、门牌号等")).to_have_value(WORK["detail"])
    expect(page.get_by_label("区县")).to_have_value("320106")  # 鼓楼区
    page.get_by_placeholder("街道、门牌号等").fill("汉中路 2 号 6 楼")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".addr-item").first).to_contain_text("汉中路 2 号 6 楼")
    shot(page, "shop-addresses")

    # Checkout ships to the default; 更换地址 lists the book.
    token = page.evaluate("() => localStorage.getItem('fm.token')")
    items = httpx.get(f"{base}/api/v1/products", params={"limit": 20}, timeout=10).json()["items"]
    prod = next(p for p in items if any(k["stock"] > 0 for k in p["skus"]))
    page.goto(f"{base}/shop/#/p/{prod['id']}")
    page.get_by_role("button", name="立即购买").click()
    expect(page).to_have_url(re.compile(r"#/checkout$"))
    chosen = page.locator(".addr-chosen")
    expect(chosen).to_contain_text("汉中路 2 号 6 楼")
    expect(page.get_by_placeholder("请填写收货人姓名")).to_have_count(0)  # no form: the book serves
    page.get_by_role("button", name="更换地址").click()
    expect(page.locator(".addr-option")).to_have_count(2)
    page.locator(".addr-option", has_text="中山路 1 号").click()
    expect(chosen).to_contain_text("中山路 1 号")
    page.get_by_role("button", name="更换地址").click()
    page.locator(".addr-option", has_text="汉中路 2 号 6 楼").click()
    expect(chosen).to_contain_text("汉中路 2 号 6 楼")
    shot(page, "shop-checkout-address")
    page.get_by_role("button", name="提交订单").click()
    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"))
    order_id = int(re.search(r"#/cashier/(\d+)$", page.url).group(1))  # type: ignore[union-attr]

    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as me:
        book = me.get("/api/v1/me/addresses").json()["items"]
        default = next(a for a in book if a["is_default"])
        o = me.get(f"/api/v1/orders/{order_id}").json()
    assert default["detail"] == "汉中路 2 号 6 楼" and default["region_code"] == "320106"
    assert default["region"] == "江苏省 南京市 鼓楼区"
    assert o["address"]["address_id"] == default["id"] and o["address"]["phone"] == "(025)84561234"
    assert o["address"]["detail"] == "汉中路 2 号 6 楼"
