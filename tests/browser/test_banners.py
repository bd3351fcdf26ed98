"""首页轮播图 end to end: a merchant adds a banner in the console (an uploaded picture, a product chosen with
the picker, no id typed); the shop's home page, without a carousel before, opens with it, and a tap on it
opens the product."""

from __future__ import annotations

import io
import re
import secrets
from typing import Any

from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client, shot


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (750, 300), (230, 60, 80)).save(out, "PNG")
    return out.getvalue()


def test_merchant_adds_a_banner_and_the_shop_home_opens_with_it(
    live_server: dict[str, Any], desktop: Page, phone: Page
) -> None:
    base, d = live_server["base_url"], desktop
    tag = secrets.token_hex(3)
    with admin_client(base, live_server) as boss:
        body = {
            "title": f"轮播耳机 {tag}",
            "category": "数码配件",
            "skus": [{"name": "白色", "price_fen": 9900, "stock": 9}],
        }
        r = boss.post("/api/admin/v1/products", json=body)
        assert r.status_code == 201, r.text
        earphones = r.json()
    errors: list[str] = []
    d.on("pageerror", lambda exc: errors.append(str(exc)))

    # Before: the shop's home has no carousel (seen in the desktop's context: the list is cached briefly,
    # GET /banners max-age=30, so the phone's first look must be after the merchant's change)
    d.goto(base + "/shop/")
    expect(d.locator(".pcard").first).to_be_visible()
    expect(d.locator(".bn-home")).to_be_hidden()

    d.goto(base + "/admin/banners/new")
    d.get_by_label("用户名").fill(live_server["admin_user"])
    d.get_by_label("密码").fill(live_server["admin_password"])
    d.get_by_role("button", name="登录").click()
    expect(d).to_have_url(base + "/admin/banners/new")
    d.get_by_role("button", name="保存").click()  # nothing filled: the mistakes beside their fields
    expect(d.locator('[data-error-for="image"]')).to_have_text("请上传或从素材库选择一张图片")
    expect(d.locator('[data-error-for="title"]')).to_have_text("请填写标题")

    d.locator("[data-gallery] input[type=file]").set_input_files(
        {"name": "banner.png", "mimeType": "image/png", "buffer": _png()}
    )
    expect(d.locator("[data-gallery] .gallery-item")).to_have_count(1)
    d.get_by_label("标题").fill(f"耳机秒杀 {tag}")
    expect(d.locator("#product-field")).to_be_hidden()
    d.get_by_label("点击后跳转").select_option(label="商品")
    d.get_by_role("button", name="选择商品", exact=True).click()
    dialog = d.get_by_role("dialog", name="选择商品")
    dialog.get_by_label("搜索商品名称").fill(f"轮播耳机 {tag}")
    dialog.get_by_role("button", name=re.compile(f"轮播耳机 {tag}")).click()
    expect(dialog).to_be_hidden()
    expect(d.locator("#banner-product-picker")).to_contain_text(f"轮播耳机 {tag}")
    shot(d, "banners-01-form")
    d.get_by_role("button", name="保存").click()
    expect(d).to_have_url(base + "/admin/banners?ok=created")
    expect(d.get_by_text("轮播图已添加")).to_have_count(1)
    row = d.locator("#banner-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"耳机秒杀 {tag}")
    expect(row).to_contain_text(f"商品：轮播耳机 {tag}")
    expect(row).to_contain_text("展示中")
    expect(row.locator("img.banner-thumb")).to_have_attribute("src", re.compile(r"^/media/lib/.+_t\.jpg$"))
    shot(d, "banners-02-list")
    assert errors == []

    # After: the home page opens with the carousel; a tap opens the product
    phone.goto(base + "/shop/")
    carousel = phone.locator(".bn-home")
    expect(carousel).to_be_visible()
    slide = carousel.locator(".bn-slide")
    expect(slide).to_have_count(1)
    expect(slide.locator("img")).to_have_attribute("alt", f"耳机秒杀 {tag}")
    box, first_section = carousel.bounding_box(), phone.locator(".page.home > section").first
    assert box is not None and first_section.get_attribute("class") == "bn-home"
    shot(phone, "banners-03-shop-home")
    slide.click()
    expect(phone).to_have_url(re.compile(rf"#/p/{earphones['id']}$"))
    expect(phone.get_by_text(f"轮播耳机 {tag}").first).to_be_visible()
    shot(phone, "banners-04-product")
