"""The product itself in Chromium: a 2×2 spec matrix built in the console, bought by spec in the shop; a
hostile 图文详情 runs nothing anywhere; pictures that are missing or broken show the placeholder."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot

pytestmark = pytest.mark.browser

IMAGE = "/media/test-catalog/tee.png"
DIRTY = (
    '<p>面料<img src="x" onerror="window.__pwned = 1; alert(1)"></p>'
    "<script>window.__pwned = 2; alert(2)</script><strong>纯棉</strong>"
)


def _write_image(live_server: dict[str, Any]) -> None:
    folder = live_server["var"] / "media" / "test-catalog"
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (220, 60, 60)).save(buf, "PNG")
    (folder / "tee.png").write_bytes(buf.getvalue())


def _watch(page: Page) -> list[str]:
    """Every dialog (dismissed) and page error: a hostile detail that ran would show in one of them."""
    seen: list[str] = []

    def on_dialog(d: Any) -> None:
        seen.append(f"dialog: {d.message}")
        d.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: seen.append(f"pageerror: {exc}"))
    return seen


def _console_login(page: Page, live_server: dict[str, Any], path: str) -> None:
    base = live_server["base_url"]
    page.goto(base + path)
    page.get_by_label("用户名").fill(live_server["admin_user"])
    page.get_by_label("密码").fill(live_server["admin_password"])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + path)


def _dimension(page: Page, n: int, name: str, values: str) -> None:
    page.get_by_role("button", name="＋ 添加维度").click()
    dim = page.locator("#spec-dims .spec-dim").nth(n)
    dim.get_by_label("规格维度名称").fill(name)
    dim.get_by_label("规格值").fill(values)
    dim.get_by_label("规格值").press("Tab")  # the rows follow on change


def test_a_spec_matrix_made_in_the_console_is_bought_by_spec_in_the_shop(
    live_server: dict[str, Any], desktop: Page, mobile: Page
) -> None:
    base = live_server["base_url"]
    _write_image(live_server)
    seen = _watch(desktop)
    page = desktop
    _console_login(page, live_server, "/admin/products/new")
    page.get_by_label("商品标题").fill("浏览器测试 T 恤")

    rows = page.locator("#sku-rows tr.sku-row")
    _dimension(page, 0, "颜色", "红，蓝")
    expect(rows).to_have_count(2)
    rows.nth(0).get_by_label("价格（元）").fill("19.90")  # typed before the next dimension: carried over
    _dimension(page, 1, "尺码", "M, L")
    expect(rows).to_have_count(4)
    expect(page.locator("#sku-rows .sku-combo")).to_have_text(["红 / M", "红 / L", "蓝 / M", "蓝 / L"])
    expect(rows.nth(1).get_by_label("价格（元）")).to_have_value("19.90")
    for i, (p, lp, stock) in enumerate([("19.90", "29.90", "5"), ("21", "", "5"), ("18", "", "3"), ("18", "", "0")]):
        rows.nth(i).get_by_label("价格（元）").fill(p)
        rows.nth(i).get_by_label("划线价（元）").fill(lp)
        rows.nth(i).get_by_label("库存").fill(stock)
    rows.nth(0).get_by_label("商家编码").fill("BT-RM")
    rows.nth(0).get_by_label("重量（克）").fill("220")

    # The gallery's hidden inputs, as the gallery widget leaves them.
    page.evaluate(
        "(url) => { const i = document.createElement('input'); i.type = 'hidden'; i.name = 'images'; i.value = url;"
        " document.querySelector('[data-gallery]').append(i); }",
        IMAGE,
    )
    # 图文详情: typed text, an image picked from the gallery, then hostile markup pasted in.
    area = page.get_by_role("textbox", name="图文详情")
    area.click()
    page.keyboard.type("柔软透气")
    page.get_by_role("button", name="插入图片").click()
    page.get_by_title("插入这张图片").click()
    area.evaluate(
        "(el, html) => { const dt = new DataTransfer(); dt.setData('text/html', html);"
        " el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true })); }",
        DIRTY,
    )
    hidden = page.locator("input[name=detail_html]").input_value()
    assert "柔软透气" in hidden and f'<img src="{IMAGE}"' in hidden and "纯棉" in hidden
    assert "onerror" not in hidden and "script" not in hidden and 'src="x"' not in hidden
    shot(page, "catalog-01-console-form")
    page.get_by_role("button", name="发布商品").click()
    expect(page.get_by_text("商品已创建")).to_be_visible()
    pid = int(re.search(r"/admin/products/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    expect(page.locator("#sku-rows .sku-combo")).to_have_count(4)
    expect(page.get_by_role("textbox", name="图文详情")).to_contain_text("柔软透气")

    # The stored detail even gets the hostile markup straight through the API: cleaned on save.
    token = httpx.post(
        f"{base}/api/admin/v1/auth/login",
        json={"username": live_server["admin_user"], "password": live_server["admin_password"]},
        timeout=10,
    ).json()["token"]
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    body = api.get(f"/api/admin/v1/products/{pid}").json()
    assert body["skus"][0]["list_price_fen"] == 2990 and body["skus"][0]["weight_g"] == 220
    detail = body["detail_html"] + DIRTY
    r = api.put(f"/api/admin/v1/products/{pid}", json={"detail_html": detail})
    assert r.status_code == 200 and "onerror" not in r.json()["detail_html"]
    page.reload()
    expect(page.get_by_role("textbox", name="图文详情")).to_contain_text("纯棉")

    # The shop: 红 then M shows 红/M's price and 划线价; 蓝/L (no stock) cannot be chosen.
    shop = mobile
    seen_shop = _watch(shop)
    shop.goto(f"{base}/shop/#/p/{pid}")
    expect(shop.get_by_role("heading", name="浏览器测试 T 恤")).to_be_visible()
    shop.locator(".spec-row", has_text="颜色").get_by_role("button", name="蓝").click()
    expect(shop.locator(".spec-row", has_text="尺码").get_by_role("button", name="L")).to_be_disabled()
    shop.locator(".spec-row", has_text="颜色").get_by_role("button", name="红").click()
    shop.locator(".spec-row", has_text="尺码").get_by_role("button", name="M").click()
    expect(shop.locator(".pd-price-num")).to_have_text("¥19.90")
    expect(shop.locator(".pd-list-price")).to_have_text("¥29.90")
    expect(shop.locator(".pd-chosen")).to_have_text("已选：红 / M")
    expect(shop.locator(".pd-stock")).to_have_text("库存 5 件")
    shop.locator(".spec-row", has_text="尺码").get_by_role("button", name="L").click()
    expect(shop.locator(".pd-price-num")).to_have_text("¥21.00")
    expect(shop.locator(".pd-list-price")).to_have_count(0)
    detail_box = shop.locator(".pd-detail-html")
    expect(detail_box).to_contain_text("柔软透气")
    expect(detail_box.locator(f"img[src='{IMAGE}']").first).to_be_visible()
    assert detail_box.locator("script, [onerror]").count() == 0
    expect(shop.locator(".gallery img.gallery-img")).to_have_count(1)
    shot(shop, "catalog-02-shop-product")
    for p in (page, shop):
        assert p.evaluate("() => window.__pwned") is None
    assert seen == [] and seen_shop == []


def test_missing_and_broken_pictures_show_the_placeholder(
    live_server: dict[str, Any], mobile: Page, desktop: Page
) -> None:
    base = live_server["base_url"]
    token = httpx.post(
        f"{base}/api/admin/v1/auth/login",
        json={"username": live_server["admin_user"], "password": live_server["admin_password"]},
        timeout=10,
    ).json()["token"]
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    sku = [{"name": "默认", "price_fen": 500, "stock": 3, "list_price_fen": 900}]
    none = api.post("/api/admin/v1/products", json={"title": "无图好物", "skus": sku}).json()
    broken = api.post(
        "/api/admin/v1/products", json={"title": "坏图好物", "skus": sku, "images": ["/media/nope/missing.png"]}
    ).json()

    mobile.goto(f"{base}/shop/#/?q=好物")
    for p, char in ((none, "无"), (broken, "坏")):
        card = mobile.locator(f".pcard[href='#/p/{p['id']}']")
        expect(card.locator(".img-ph")).to_contain_text(char)
        expect(card.locator("img")).to_have_count(0)
        expect(card.locator(".list-price")).to_have_text("¥9.00")
    mobile.goto(f"{base}/shop/#/p/{broken['id']}")
    expect(mobile.locator(".gallery .img-ph")).to_contain_text("坏")
    expect(mobile.locator(".gallery img")).to_have_count(0)

    _console_login(desktop, live_server, "/admin/products")
    desktop.goto(f"{base}/admin/products?q=好物")
    for p, char in ((none, "无"), (broken, "坏")):
        row = desktop.locator(f"tr[data-product-id='{p['id']}']")
        expect(row.locator(".thumb-empty")).to_have_text(char)
        expect(row.locator("img")).to_have_count(0)
