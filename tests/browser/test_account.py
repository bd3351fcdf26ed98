"""我的 in the H5 shop: 收货地址 with the 省/市/区 picker (a municipality picks its 区 straight away), the product
page's ♡ 收藏, 我的收藏 and 足迹 (grouped by day, delete one, clear all)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot


def _login(page: Page, base: str) -> str:
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill("acct-" + secrets.token_hex(4))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    return str(page.evaluate("() => localStorage.getItem('fm.token')"))


def test_picker_favourite_and_history(live_server: dict[str, Any], phone: Page) -> None:
    page, base = phone, live_server["base_url"]
    token = _login(page, base)
    me = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    # 我的 lists the three entries; 收货地址 with the picker: 北京市 has no 城市 column, 朝阳区 straight away.
    page.goto(f"{base}/shop/#/me")
    mine = page.locator(".me-mine")
    expect(mine.get_by_role("link")).to_have_text(["收货地址", "我的收藏", "足迹"])
    mine.get_by_role("link", name="收货地址").click()
    page.get_by_role("link", name="＋ 新增收货地址").click()
    page.get_by_placeholder("请填写收货人姓名").fill("钱九")
    page.get_by_placeholder("手机或座机，如 020-81167888").fill("13900139000")
    page.get_by_label("省份").select_option(label="北京市")
    expect(page.get_by_label("城市")).to_be_hidden()
    page.get_by_label("区县").select_option(label="朝阳区")
    page.get_by_placeholder("街道、门牌号等").fill("建国路 88 号")
    shot(page, "shop-address-picker")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".addr-item")).to_have_count(1)
    expect(page.locator(".addr-item")).to_contain_text("北京市 朝阳区 建国路 88 号")
    book = me.get("/api/v1/me/addresses").json()["items"]
    assert [(a["region_code"], a["region"]) for a in book] == [("110105", "北京市 朝阳区")]
    # The table is kept with its version, so the next editor opens without fetching it again.
    kept = page.evaluate("() => JSON.parse(localStorage.getItem('fm.regions'))")
    assert kept["version"] and len(kept["regions"]) == 34

    # ♡ 收藏 on two product pages; opening them records 足迹.
    items = httpx.get(f"{base}/api/v1/products", params={"limit": 20}, timeout=10).json()["items"]
    first, second = items[0], items[1]
    for p in (first, second):
        page.goto(f"{base}/shop/#/p/{p['id']}")
        fav = page.locator(".fav-btn")
        expect(fav).to_have_attribute("aria-pressed", "false")
        fav.click()
        expect(fav).to_have_attribute("aria-pressed", "true")
        expect(fav).to_contain_text("已收藏")
    shot(page, "shop-favourite-button")
    page.reload()  # the state comes back from the server
    expect(page.locator(".fav-btn")).to_have_attribute("aria-pressed", "true")
    page.locator(".fav-btn").click()  # un-favourite the second
    expect(page.locator(".fav-btn")).to_have_attribute("aria-pressed", "false")

    page.goto(f"{base}/shop/#/me")
    page.get_by_role("link", name="我的收藏").click()
    expect(page).to_have_url(re.compile(r"#/me/favorites$"))
    expect(page.locator(".fav-item")).to_have_count(1)
    expect(page.locator(".fav-item")).to_contain_text(first["title"])
    shot(page, "shop-favourites")

    page.goto(f"{base}/shop/#/me")
    page.get_by_role("link", name="足迹").click()
    expect(page).to_have_url(re.compile(r"#/me/history$"))
    expect(page.locator(".hist-day-title")).to_have_text(["今天"])
    expect(page.locator(".fav-item")).to_have_count(2)
    expect(page.locator(".fav-item").first).to_contain_text(second["title"])  # the last viewed first
    shot(page, "shop-history")
    page.locator(".fav-item", has_text=second["title"]).get_by_role("button", name="删除").click()
    expect(page.locator(".fav-item")).to_have_count(1)
    page.get_by_role("button", name="清空").click()
    page.get_by_role("button", name="清空").last.click()  # the confirm box's button
    expect(page.get_by_text("还没有浏览过的商品")).to_be_visible()
    assert me.get("/api/v1/me/history").json()["items"] == []
    assert [f["product_id"] for f in me.get("/api/v1/me/favorites").json()["items"]] == [first["id"]]
    me.close()
