"""The H5 shop at /shop/: a shopper buys, pays in the sandbox cashier, receives and asks for a refund."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import pick_region, shot

ADDRESS = {"name": "李四", "phone": "13900139000", "region": "广东省 深圳市 南山区", "detail": "科技园路 8 号 3 栋 501"}


def _api(live_server: dict[str, Any], page: Page) -> httpx.Client:
    """An API client that speaks as the shopper logged in on `page` (the token the shop keeps)."""
    token = page.evaluate("() => localStorage.getItem('fm.token')")
    assert token, "the shop keeps its Bearer token in localStorage"
    return httpx.Client(base_url=live_server["base_url"], headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _admin(live_server: dict[str, Any]) -> httpx.Client:
    base = live_server["base_url"]
    r = httpx.post(
        f"{base}/api/admin/v1/auth/login",
        json={"username": live_server["admin_user"], "password": live_server["admin_password"]},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {r.json()['token']}"}, timeout=10)


def _demo_product(base: str, title: str) -> dict[str, Any]:
    """The demo catalogue's product of that title (other browser tests may add look-alikes later)."""
    items = httpx.get(f"{base}/api/v1/products", params={"q": title, "limit": 100}, timeout=10).json()["items"]
    return min((p for p in items if p["title"] == title), key=lambda p: p["id"])


def snap(page: Page, name: str) -> None:
    """A screenshot once the transient toast has gone, so the screen itself shows."""
    expect(page.locator("#toast")).to_be_hidden(timeout=5_000)
    page.wait_for_function("() => [...document.images].every((i) => i.complete)")
    shot(page, name)


def _login(page: Page, base: str, code: str) -> None:
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()


def test_shopper_buys_pays_receives_and_asks_for_a_refund(live_server: dict[str, Any], phone: Page) -> None:
    page, base = phone, live_server["base_url"]
    code = "buyer-" + secrets.token_hex(4)

    # Log in with a test code (the sandbox maps it to a shopper).
    page.goto(f"{base}/shop/#/login")
    expect(page.get_by_role("button", name="微信一键登录")).to_be_visible()
    snap(page, "shop-01-login")
    page.get_by_placeholder("测试账号，如 alice").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()

    # Home: categories and the demo catalogue, then search.
    expect(page.get_by_text("为你推荐")).to_be_visible()
    expect(page.locator(".chip", has_text="生鲜水果")).to_be_visible()
    expect(page.locator(".pcard").first).to_be_visible()
    snap(page, "shop-02-home")
    more = page.get_by_role("button", name="加载更多")
    while more.is_visible():  # pages of 10 until the whole catalogue is there
        more.click()
        expect(page.locator(".btn-more, .end").last).to_be_visible()
    expect(page.get_by_text("没有更多了")).to_be_visible()
    assert page.locator(".pcard").count() >= 18
    page.locator(".chip", has_text="休闲零食").click()
    expect(page).to_have_url(re.compile(r"#/\?c=\d+$"))
    expect(page.locator(".pcard", has_text="手撕牛肉干")).to_be_visible()
    expect(page.locator(".pcard", has_text="赣南脐橙")).to_have_count(0)
    page.locator(".chip", has_text="全部").click()
    page.get_by_role("searchbox", name="搜索商品").fill("脐橙")
    page.get_by_role("button", name="搜索", exact=True).click()
    expect(page.locator(".pcard", has_text="手撕牛肉干")).to_have_count(0)
    oranges = _demo_product(base, "赣南脐橙")
    card = page.locator(f".pcard[href='#/p/{oranges['id']}']")
    expect(card).to_contain_text("¥29.90")

    # Product: pick the 10斤装 SKU, two of them.
    card.click()
    expect(page.get_by_role("heading", name="赣南脐橙")).to_be_visible()
    expect(page.get_by_text("江西赣州产地直发")).to_be_visible()
    page.get_by_role("button", name="10斤装").click()
    expect(page.locator(".pd-price")).to_contain_text("¥49.90")
    stock = next(k["stock"] for k in oranges["skus"] if k["name"] == "10斤装")
    expect(page.locator(".pd-stock")).to_have_text(f"库存 {stock} 件")
    page.get_by_role("button", name="增加").click()
    expect(page.get_by_role("spinbutton", name="数量")).to_have_value("2")
    snap(page, "shop-03-product")
    page.get_by_role("button", name="立即购买").click()

    # Checkout: the price chain, step by step, and the address.
    expect(page).to_have_url(re.compile(r"#/checkout$"))
    expect(page.locator(".step[data-kind=goods]")).to_have_text(re.compile(r"商品金额\s*¥99\.80"))
    expect(page.locator(".step[data-kind=shipping]")).to_have_text(re.compile(r"运费\s*¥8\.00"))
    expect(page.locator(".step-total")).to_contain_text("¥107.80")
    expect(page.locator(".line")).to_contain_text("10斤装")
    page.get_by_placeholder("请填写收货人姓名").fill(ADDRESS["name"])
    page.get_by_placeholder("请填写收货人手机号").fill(ADDRESS["phone"])
    pick_region(page, ADDRESS["region"])
    page.get_by_placeholder("街道、门牌号等").fill(ADDRESS["detail"])
    snap(page, "shop-04-checkout")
    page.get_by_role("button", name="提交订单").click()

    # Sandbox cashier.
    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"))
    expect(page.locator(".cashier-price")).to_have_text("¥107.80")
    expect(page.get_by_text(re.compile(r"剩余支付时间 \d\d:\d\d"))).to_be_visible()
    snap(page, "shop-05-cashier")
    page.get_by_role("button", name="沙箱支付：确认付款").click()

    # The order: paid, waiting to be shipped.
    expect(page).to_have_url(re.compile(r"#/orders/\d+$"))
    expect(page.locator(".ostatus-name")).to_have_text("待发货")
    order_id = int(re.search(r"#/orders/(\d+)$", page.url).group(1))  # type: ignore[union-attr]
    snap(page, "shop-06-paid")
    with _api(live_server, page) as me:
        o = me.get(f"/api/v1/orders/{order_id}").json()
        assert o["status"] == "paid" and o["paid_fen"] == 10780 and o["address"].items() >= ADDRESS.items()
        assert [(ln["sku_name"], ln["qty"]) for ln in o["lines"]] == [("10斤装", 2)]
        assert o["steps"] == [
            {"kind": "goods", "label": "商品金额", "amount_fen": 9980},
            {"kind": "shipping", "label": "运费", "amount_fen": 800},
        ]
        assert me.get("/api/v1/me").json()["nickname"]

    # The order list shows it under 待发货.
    page.goto(f"{base}/shop/#/orders")
    page.get_by_role("tab", name="待发货").click()
    expect(page).to_have_url(re.compile(r"#/orders\?status=paid$"))
    expect(page.locator(f".ocard[data-id='{order_id}']")).to_contain_text("待发货")
    snap(page, "shop-07-orders")

    # The merchant ships it; the shopper reloads the order and confirms receipt.
    with _admin(live_server) as boss:
        r = boss.post(f"/api/admin/v1/orders/{order_id}/ship", json={"carrier": "顺丰", "tracking_no": "SF100200300"})
        assert r.status_code == 200 and r.json()["status"] == "shipped", r.text
    page.goto(f"{base}/shop/#/orders/{order_id}")
    page.reload()
    expect(page.locator(".ostatus-name")).to_have_text("已发货")
    expect(page.locator(".ostatus-hint")).to_contain_text("顺丰 SF100200300")
    snap(page, "shop-08-shipped")
    page.get_by_role("button", name="确认收货").click()
    page.locator(".dialog").get_by_role("button", name="确认收货").click()
    expect(page.locator(".ostatus-name")).to_have_text("已收货")

    # A refund of one unit of the line: its 申请售后 opens the one after-sales form with that line chosen.
    line_id = o["lines"][0]["id"]
    page.locator(f".btn-refund[data-line='{line_id}']").click()
    expect(page).to_have_url(re.compile(rf"#/aftersales/new/{order_id}\?line={line_id}$"))
    form = page.locator(f".aftersales-apply .oline[data-line='{line_id}']")
    expect(form.get_by_role("spinbutton", name="退货数量")).to_have_value("2")
    form.get_by_role("button", name="减少").click()
    expect(form.get_by_role("spinbutton", name="退货数量")).to_have_value("1")
    page.get_by_role("button", name="质量问题").click()
    expect(page.locator(".aftersales-amount")).to_contain_text("¥")  # the amount, before submitting
    snap(page, "shop-09-refund-form")
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"#/aftersales/\d+$"))
    expect(page.locator(".ostatus-name")).to_have_text("待商家处理")
    page.get_by_role("link", name="查看订单").click()
    refund = page.locator(".refund")
    expect(refund).to_have_count(1)
    expect(refund).to_contain_text("待商家处理")
    expect(page.locator(f".oline[data-line='{line_id}']")).to_contain_text("退款中 1 件")
    snap(page, "shop-10-refund")
    with _api(live_server, page) as me:
        o = me.get(f"/api/v1/orders/{order_id}").json()
    assert o["status"] == "received"
    [r] = o["refunds"]
    assert r["status"] == "pending" and r["reason"] == "质量问题"
    assert r["lines"] == [{"line_id": line_id, "qty": 1, "amount_fen": r["amount_fen"]}] and r["amount_fen"] > 0
    amount = r["amount_fen"]
    expect(refund).to_contain_text(f"¥{amount // 100}.{amount % 100:02d}")
    assert o["lines"][0]["refund_pending_qty"] == 1


def test_one_click_login_is_stable_and_me_tab_logs_out(live_server: dict[str, Any], phone: Page) -> None:
    page, base = phone, live_server["base_url"]
    # /shop redirects to the page and keeps a share code; orders need a login first.
    page.goto(f"{base}/shop?ref=NOSUCHCODE#/orders")
    expect(page).to_have_url(re.compile(r"/shop/\?ref=NOSUCHCODE#/login\?next=%2Forders$"))
    assert page.evaluate("() => localStorage.getItem('fm.ref')") == "NOSUCHCODE"
    page.get_by_role("button", name="微信一键登录").click()
    expect(page.get_by_role("heading", name="我的订单")).to_be_visible()
    expect(page.get_by_text("暂无相关订单")).to_be_visible()
    assert page.evaluate("() => localStorage.getItem('fm.ref')") is None  # sent with the login
    with _api(live_server, page) as me:
        first = me.get("/api/v1/me").json()

    page.get_by_role("link", name="我的").click()
    expect(page.locator(".me-name")).to_have_text(first["nickname"])
    # points and the wallet have landed: a new shopper's cells read 0 积分 and 0.00 余额
    expect(page.locator('.me-stats [data-stat="points"]')).to_contain_text("0")
    expect(page.locator('.me-stats [data-stat="wallet"]')).to_contain_text("0.00")
    snap(page, "shop-11-me")
    page.get_by_role("button", name="退出登录").click()
    page.locator(".dialog").get_by_role("button", name="退出").click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    assert page.evaluate("() => localStorage.getItem('fm.token')") is None

    # The same device logs in as the same shopper again; a typed test code switches to another one.
    page.goto(f"{base}/shop/#/login")
    page.get_by_role("button", name="微信一键登录").click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    with _api(live_server, page) as me:
        assert me.get("/api/v1/me").json()["id"] == first["id"]
    _login(page, base, "other-" + secrets.token_hex(4))
    with _api(live_server, page) as me:
        assert me.get("/api/v1/me").json()["id"] != first["id"]


def test_sold_out_sku_is_disabled_and_bad_token_goes_to_login(live_server: dict[str, Any], phone: Page) -> None:
    page, base = phone, live_server["base_url"]
    bedding = _demo_product(base, "纯棉四件套")
    # Opened straight from a link, 返回 leads into the shop's home, not out of the shop.
    page.goto(f"{base}/shop/#/p/{bedding['id']}")
    page.get_by_role("button", name="返回").click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    page.locator(f".pcard[href='#/p/{bedding['id']}']").click()
    page.get_by_role("button", name="返回").click()
    expect(page).to_have_url(re.compile(r"/shop/#/$"))
    page.go_forward()
    sold_out = page.get_by_role("button", name=re.compile("1.8米床 米白"))
    expect(sold_out).to_be_disabled()
    expect(sold_out).to_contain_text("缺货")
    # Buying while logged out asks for a login, then comes back to checkout.
    page.get_by_role("button", name="立即购买").click()
    expect(page).to_have_url(re.compile(r"#/login\?next=%2Fcheckout$"))
    page.get_by_placeholder("测试账号，如 alice").fill("bedding-" + secrets.token_hex(4))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(re.compile(r"#/checkout$"))
    expect(page.locator(".step[data-kind=goods]")).to_contain_text("¥199.00")

    # A token the server no longer accepts sends the shopper back to log in.
    page.evaluate("() => localStorage.setItem('fm.token', 'not-a-token')")
    page.goto(f"{base}/shop/#/me")
    expect(page).to_have_url(re.compile(r"#/login\?next=%2Fme$"))


def test_unpaid_order_counts_down_and_can_be_cancelled(live_server: dict[str, Any], phone: Page) -> None:
    page, base = phone, live_server["base_url"]
    _login(page, base, "unpaid-" + secrets.token_hex(4))
    cups = _demo_product(base, "不锈钢保温杯")
    page.goto(f"{base}/shop/#/p/{cups['id']}")
    page.get_by_role("button", name="立即购买").click()
    # The address typed last time on this device is remembered; this device has none yet.
    expect(page.get_by_placeholder("请填写收货人姓名")).to_have_value("")
    page.get_by_role("button", name="提交订单").click()
    expect(page.get_by_text("请填写收货人", exact=True)).to_be_visible()
    page.get_by_placeholder("请填写收货人姓名").fill(ADDRESS["name"])
    page.get_by_placeholder("请填写收货人手机号").fill(ADDRESS["phone"])
    page.get_by_placeholder("街道、门牌号等").fill(ADDRESS["detail"])
    # 所在地区 is chosen, never typed: without it the order is not sent, and the picker says what is missing.
    page.get_by_role("button", name="提交订单").click()
    expect(page.get_by_text("请选择所在省份")).to_be_visible()
    pick_region(page, ADDRESS["region"])
    page.get_by_role("button", name="提交订单").click()
    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"))

    # Leave the cashier unpaid: the order waits under 待付款 with a countdown, 去支付 and 取消订单.
    page.goto(f"{base}/shop/#/orders?status=pending_payment")
    card = page.locator(".ocard").first
    expect(card).to_contain_text("待付款")
    card.get_by_role("link", name="查看详情").click()
    expect(page.locator(".ostatus-name")).to_have_text("待付款")
    expect(page.locator(".ostatus-hint")).to_have_text(re.compile(r"剩余 \d\d:\d\d，超时订单将自动取消"))
    expect(page.get_by_role("button", name="去支付")).to_be_visible()
    order_id = int(re.search(r"#/orders/(\d+)$", page.url).group(1))  # type: ignore[union-attr]
    snap(page, "shop-12-unpaid")
    page.get_by_role("button", name="取消订单").click()
    page.locator(".dialog").get_by_role("button", name="取消订单").click()
    expect(page.locator(".ostatus-name")).to_have_text("已取消")
    expect(page.get_by_role("button", name="去支付")).to_have_count(0)
    with _api(live_server, page) as me:
        o = me.get(f"/api/v1/orders/{order_id}").json()
        assert o["status"] == "cancelled" and o["cancel_reason"] == "customer"

    # The address typed at the first checkout went into the address book (its default): the next checkout
    # ships there without asking again.
    page.goto(f"{base}/shop/#/p/{cups['id']}")
    page.get_by_role("button", name="立即购买").click()
    expect(page.locator(".addr-chosen")).to_contain_text(ADDRESS["phone"])
    expect(page.locator(".addr-chosen")).to_contain_text(ADDRESS["detail"])
    expect(page.get_by_placeholder("请填写收货人手机号")).to_have_count(0)
