"""A merchant who types no id: a flash sale and a group-buy activity made in the console with the pickers
(search by name, choose the SKU or the product), each then on sale in the shop as configured."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client, shot

ZONE = ZoneInfo("Asia/Shanghai")  # the shop's zone (settings.timezone): the console's times are typed in it


def _local(minutes: int) -> str:
    return (datetime.now(ZONE) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


def _products(base: str, live_server: dict[str, Any], tag: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two products as the merchant put them on sale (the setup, not the flow under test)."""
    with admin_client(base, live_server) as boss:
        made = []
        for title, skus in (
            (f"选择器脐橙 {tag}", [("小果", 3990, 40), ("大果", 5990, 30)]),
            (f"选择器大闸蟹 {tag}", [("公蟹", 9900, 20), ("母蟹", 8900, 20)]),
        ):
            body = {"title": title, "category": "生鲜水果"}
            body["skus"] = [{"name": n, "price_fen": p, "stock": s} for n, p, s in skus]
            r = boss.post("/api/admin/v1/products", json=body)
            assert r.status_code == 201, r.text
            made.append(r.json())
    return made[0], made[1]


def _log_in(page: Page, base: str, live_server: dict[str, Any], target: str) -> None:
    page.goto(base + target)
    page.get_by_label("用户名").fill(live_server["admin_user"])
    page.get_by_label("密码").fill(live_server["admin_password"])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + target)


def test_merchant_makes_a_flash_sale_and_a_group_buy_with_the_pickers(
    live_server: dict[str, Any], desktop: Page, phone: Page
) -> None:
    base, d = live_server["base_url"], desktop
    tag = secrets.token_hex(3)
    orange, crab = _products(base, live_server, tag)
    errors: list[str] = []
    d.on("pageerror", lambda exc: errors.append(str(exc)))

    # ---- 秒杀: the SKU comes from the picker, the price is typed in 元 --------------------------------
    _log_in(d, base, live_server, "/admin/seckill/new")
    expect(d.get_by_text("规格 ID")).to_have_count(0)
    d.get_by_label("场次名称").fill(f"选择器场 {tag}")
    d.get_by_label("开始时间").fill(_local(-1))
    d.get_by_label("结束时间").fill(_local(60))
    d.get_by_role("button", name="选择商品规格").click()
    dialog = d.get_by_role("dialog", name="选择商品规格")
    dialog.get_by_label("搜索商品名称").fill(f"脐橙 {tag}")
    result = dialog.locator(".picker-results > li")
    expect(result).to_have_count(1)
    expect(result).to_contain_text(f"选择器脐橙 {tag}")
    big = result.get_by_role("button", name=re.compile("大果"))
    expect(big).to_contain_text("¥59.90")
    expect(big).to_contain_text("库存 30")
    big.click()
    expect(dialog).to_contain_text("已选 1 项")
    shot(d, "pickers-01-sku-dialog")
    dialog.get_by_role("button", name="完成").click()
    row = d.locator("#seckill-items tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"选择器脐橙 {tag} · 大果")
    expect(row).to_contain_text("原价 ¥59.90")

    # A flash price at the SKU's own price is refused beside the price, and the chosen SKU stays.
    row.get_by_label("秒杀价（元）").fill("59.9")
    row.get_by_label("每人限购").fill("2")
    expect(d.locator("#seckill-preview")).to_contain_text("秒杀价须低于原价")
    d.get_by_role("button", name="创建场次").click()
    row = d.locator("#seckill-items tr")
    expect(row.locator(".field-error")).to_contain_text("秒杀价须低于商品原价 ¥59.90")
    expect(row).to_contain_text(f"选择器脐橙 {tag} · 大果")
    row.get_by_label("秒杀价（元）").fill("19.9")
    preview = d.locator("#seckill-preview")
    expect(preview).to_contain_text("¥19.90秒杀价，每人限购 2")
    expect(preview).to_contain_text("开抢")
    shot(d, "pickers-02-seckill-form")
    d.get_by_role("button", name="创建场次").click()
    expect(d.locator(".alert")).to_contain_text("场次已创建")
    d.locator("#session-table tr", has_text=f"选择器场 {tag}").get_by_role("link", name="实时看板 / 报告").click()
    expect(d.locator("#board-table")).to_contain_text(f"选择器脐橙 {tag}")
    expect(d.locator("#board-table")).to_contain_text("大果")

    # ---- 拼团: the product comes from the picker (product mode), the price per SKU in 元 ---------------
    d.goto(base + "/admin/groupbuy/new")
    d.get_by_role("button", name="选择商品", exact=True).click()
    dialog = d.get_by_role("dialog", name="选择商品")
    dialog.get_by_label("搜索商品名称").fill(f"大闸蟹 {tag}")
    dialog.get_by_role("button", name=re.compile(f"选择器大闸蟹 {tag}")).click()
    expect(dialog).to_be_hidden()  # one product: the dialog closes on the choice
    expect(d.locator("#gb-product")).to_contain_text(f"选择器大闸蟹 {tag}")
    d.get_by_label("活动名称").fill(f"选择器三人团 {tag}")
    d.get_by_label("成团人数").fill("3")
    d.get_by_label("开始时间").fill(_local(-60))
    d.get_by_label("结束时间").fill(_local(7 * 24 * 60))
    d.get_by_label("母蟹 拼团价（元）").fill("59.9")
    preview = d.locator("#gb-preview")
    expect(preview).to_contain_text("3人团")
    expect(preview).to_contain_text("¥59.90")
    expect(preview).to_contain_text("单独购买 ¥89.00")
    shot(d, "pickers-03-groupbuy-form")
    d.get_by_role("button", name="创建活动").click()
    expect(d.locator("#activity-table")).to_contain_text(f"选择器三人团 {tag}")
    assert errors == []

    # ---- the shop shows both as configured ------------------------------------------------------------
    with httpx.Client(base_url=base, timeout=10) as shop:
        sessions = shop.get("/api/v1/seckill/sessions").json()["sessions"]
    items = [i for sess in sessions for i in sess["items"] if i["sku_id"] == orange["skus"][1]["id"]]
    assert [(i["price_fen"], i["per_user_limit"]) for i in items] == [(1990, 2)]
    phone.goto(f"{base}/shop/#/seckill")
    card = phone.locator(f".sk-item[data-item-id='{items[0]['id']}']")
    expect(card).to_contain_text(f"选择器脐橙 {tag}")
    expect(card).to_contain_text("大果")
    expect(card).to_contain_text("¥19.90")
    expect(card).to_contain_text("每人限购 2")
    shot(phone, "pickers-04-shop-seckill")

    phone.goto(f"{base}/shop/#/p/{crab['id']}")
    section = phone.locator(".gb-section")
    expect(section).to_be_visible()
    expect(section).to_contain_text("3人拼团")
    expect(section).to_contain_text("59.90")
    shot(phone, "pickers-05-shop-groupbuy")
