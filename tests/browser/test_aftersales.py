"""退货退款 in real browsers: the shopper asks for a return with a photo, the merchant approves it in the
console, the shopper sends the tracking number, the merchant confirms receipt, the refund succeeds."""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.helpers import ADDRESS

pytestmark = pytest.mark.browser


def _shipped_order(base: str, server: dict[str, Any], token: str) -> dict[str, Any]:
    """The shopper buys and pays through the API; the merchant ships it through the admin API."""
    me = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=15) as api:
        items = api.get("/api/v1/products", params={"limit": 20}).json()["items"]
        sku = next(k for p in items for k in p["skus"] if k["stock"] > 0 and p.get("source", "normal") == "normal")
        r = api.post(
            "/api/v1/orders", json={"items": [{"sku_id": sku["id"], "qty": 1}], "address": ADDRESS}, headers=me
        )
        assert r.status_code == 201, r.text
        order = r.json()
        r = api.post(f"/api/v1/orders/{order['id']}/pay", json={"method": "gateway"}, headers=me)
        r = api.post(f"/api/v1/payments/sandbox/{r.json()['payment_id']}/succeed", headers=me)
        assert r.status_code == 200, r.text
        login = {"username": server["admin_user"], "password": server["admin_password"]}
        boss = {"Authorization": f"Bearer {api.post('/api/admin/v1/auth/login', json=login).json()['token']}"}
        r = api.post(
            f"/api/admin/v1/orders/{order['id']}/ship",
            json={"carrier": "顺丰速运", "tracking_no": "SF55667788"},
            headers=boss,
        )
        assert r.status_code == 200, r.text
        return api.get(f"/api/v1/orders/{order['id']}", headers=me).json()


def test_a_return_with_a_photo_from_request_to_refund(live_server, phone: Page, desktop: Page, tmp_path: Path):
    base = live_server["base_url"]
    page = phone
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill("return-" + secrets.token_hex(4))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    order = _shipped_order(base, live_server, page.evaluate("() => localStorage.getItem('fm.token')"))

    # 订单详情 → 整单售后: 退货退款, 质量问题, one photo; the amount shows before submitting.
    page.goto(f"{base}/shop/#/orders/{order['id']}")
    page.get_by_role("link", name="整单售后").click()
    expect(page).to_have_url(re.compile(r"#/aftersales/new/\d+$"))
    page.get_by_role("button", name="退货退款").click()
    page.get_by_role("button", name="质量问题").click()
    photo = tmp_path / "broken.png"
    buf = io.BytesIO()
    Image.new("RGB", (60, 40), (10, 120, 200)).save(buf, format="PNG")
    photo.write_bytes(buf.getvalue())
    page.get_by_label("上传凭证图片").set_input_files(str(photo))
    expect(page.locator(".aftersales-photos img")).to_have_count(1)
    # Everything of the order for a quality reason: the whole amount paid, shipping included.
    expect(page.locator(".aftersales-amount")).to_have_text("¥" + f"{order['paid_fen'] / 100:.2f}")
    shot(page, "shop-aftersales-apply")
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"#/aftersales/\d+$"))
    refund_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator(".aftersales-status")).to_contain_text("待商家处理")

    # The merchant approves the return with the return address, in the console.
    console = desktop
    console.goto(f"{base}/admin/refunds/{refund_id}")
    console.get_by_label("用户名").fill(live_server["admin_user"])
    console.get_by_label("密码").fill(live_server["admin_password"])
    console.get_by_role("button", name="登录").click()
    expect(console.locator("#refund-status")).to_have_text("待处理")
    expect(console.locator(".refund-photos img")).to_have_count(2)  # the request and its history entry
    console.get_by_label("退货地址").fill("上海市浦东新区 售后仓 王五 021-12345678")
    console.get_by_role("button", name="同意退货").click()
    expect(console.locator("#refund-status")).to_have_text("待买家退货")
    shot(console, "console-aftersales-approved")

    # The shopper sends the goods back with the carrier and tracking number.
    page.reload()
    expect(page.locator(".aftersales-status")).to_contain_text("待寄回商品")
    expect(page.get_by_text("上海市浦东新区 售后仓").first).to_be_visible()
    page.get_by_label("快递公司").fill("中通快递")
    page.get_by_label("快递单号").fill("ZT778899001")
    page.get_by_role("button", name="提交物流信息").click()
    expect(page.locator(".aftersales-status")).to_contain_text("待商家收货")

    # The merchant confirms receipt; the sandbox gateway refunds.
    console.reload()
    expect(console.locator("#refund-status")).to_have_text("待确认收货")
    expect(console.get_by_text("ZT778899001").first).to_be_visible()
    console.get_by_role("button", name="确认收货并退款").click()
    for _ in range(20):
        console.reload()
        if console.locator("#refund-status").inner_text() == "已退款":
            break
        console.wait_for_timeout(500)
    expect(console.locator("#refund-status")).to_have_text("已退款")
    expect(console.locator(".refund-history")).to_contain_text("退款成功")

    page.reload()
    expect(page.locator(".aftersales-status")).to_contain_text("已退款")
    expect(page.locator(".aftersales-history")).to_contain_text("同意退货")
    shot(page, "shop-aftersales-refunded")
    page.goto(f"{base}/shop/#/aftersales")
    expect(page.locator(f'.refund[data-id="{refund_id}"]')).to_contain_text("已退款")
