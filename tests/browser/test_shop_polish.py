"""The shop's polish in the browser: 分享 for any shopper (poster, and Back closes the sheet), what an
order owes (待付 until paid, 实付 after), a forming group's order (拼团中 with its group's link), and no
earlier screen's toast over the cashier's pay button."""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import admin_client, shot

ADDRESS = {"name": "王五", "phone": "13700137000", "region": "浙江省 杭州市 西湖区", "detail": "文三路 90 号"}
POSTER_LOADED = (
    "() => { const i = document.querySelector('img.share-poster'); return i && i.complete && i.naturalWidth > 0; }"
)


def _login(page: Page, base: str, code: str) -> httpx.Client:
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    token = page.evaluate("() => localStorage.getItem('fm.token')")
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _demo_product(base: str, title: str) -> dict[str, Any]:
    items = httpx.get(f"{base}/api/v1/products", params={"q": title}, timeout=10).json()["items"]
    return dict(httpx.get(f"{base}/api/v1/products/{items[0]['id']}", timeout=10).json())


def _order(me: httpx.Client, product: dict[str, Any]) -> dict[str, Any]:
    r = me.post("/api/v1/orders", json={"items": [{"sku_id": product["skus"][0]["id"], "qty": 1}], "address": ADDRESS})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _pay(me: httpx.Client, order_id: int) -> None:
    pay = me.post(f"/api/v1/orders/{order_id}/pay", json={"method": "gateway"}).json()
    assert me.post(f"/api/v1/payments/sandbox/{pay['payment_id']}/succeed").status_code == 200


def _wait(fn: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := fn()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.2)
    return value


def test_share_opens_a_poster_and_browser_back_closes_the_sheet_not_the_page(live_server, phone):
    base = live_server["base_url"]
    oranges = _demo_product(base, "赣南脐橙")
    page = phone
    page.goto(f"{base}/shop/#/")
    expect(page.get_by_text("为你推荐")).to_be_visible()
    page.goto(f"{base}/shop/#/p/{oranges['id']}")

    # Not logged in, no distributor: 分享 still gives the link and a poster.
    page.get_by_role("button", name="分享", exact=True).click()
    sheet = page.get_by_role("dialog", name="分享给好友")
    expect(sheet).to_be_visible()
    page.wait_for_function(POSTER_LOADED)
    size = page.evaluate(
        "() => { const i = document.querySelector('img.share-poster'); return [i.naturalWidth, i.naturalHeight]; }"
    )
    assert size == [750, 1200]
    link = sheet.get_by_role("textbox", name="分享链接").input_value()
    assert link.endswith(f"/shop/#/p/{oranges['id']}") and "ref=" not in link
    expect(sheet.get_by_role("link", name="保存海报")).to_have_attribute("href", re.compile(r"-poster\.png$"))
    shot(page, "shop-polish-01-share")

    # Browser Back closes the sheet and stays on the product.
    page.go_back()
    expect(sheet).to_be_hidden()
    expect(page).to_have_url(re.compile(rf"#/p/{oranges['id']}$"))
    expect(page.get_by_role("heading", name="赣南脐橙")).to_be_visible()
    expect(page.locator(".sheet-wrap")).to_have_count(0)

    # Closed with ×, the sheet leaves no entry behind: the next Back goes to the home page.
    page.get_by_role("button", name="分享", exact=True).click()
    expect(sheet).to_be_visible()
    sheet.get_by_role("button", name="关闭").click()
    expect(sheet).to_be_hidden()
    page.go_back()
    expect(page.get_by_text("为你推荐")).to_be_visible()


def test_a_distributors_share_carries_their_code(live_server, phone):
    base = live_server["base_url"]
    oranges = _demo_product(base, "赣南脐橙")
    with admin_client(base, live_server) as boss:
        assert boss.put("/api/admin/v1/distribution/config", json={"enabled": True}).status_code == 200
    me = _login(phone, base, "polish-dist-" + secrets.token_hex(3))
    code = me.post("/api/v1/distribution/apply").json()["share_code"]
    phone.goto(f"{base}/shop/#/p/{oranges['id']}")
    phone.get_by_role("button", name="分享", exact=True).click()
    sheet = phone.get_by_role("dialog", name="分享给好友")
    expect(sheet).to_contain_text("你将获得佣金")
    link = sheet.get_by_role("textbox", name="分享链接").input_value()
    assert f"?ref={code}#/p/{oranges['id']}" in link
    phone.wait_for_function(POSTER_LOADED)


def test_an_unpaid_order_reads_due_and_a_paid_one_paid(live_server, phone):
    base = live_server["base_url"]
    oranges = _demo_product(base, "赣南脐橙")
    me = _login(phone, base, "polish-pay-" + secrets.token_hex(3))
    o = _order(me, oranges)

    phone.goto(f"{base}/shop/#/orders")
    card = phone.locator(f'.ocard[data-id="{o["id"]}"]')
    expect(card.locator(".ocard-sum")).to_contain_text("待付")
    expect(card.locator(".ocard-sum")).not_to_contain_text("实付")
    phone.goto(f"{base}/shop/#/orders/{o['id']}")
    expect(phone.locator(".step-total")).to_contain_text("待付款")
    expect(phone.locator(".order-bar .bar-total")).to_contain_text("待付")
    shot(phone, "shop-polish-02-unpaid")

    _pay(me, o["id"])
    phone.goto(f"{base}/shop/#/orders")
    expect(card.locator(".ocard-sum")).to_contain_text("实付")
    expect(card.locator(".ocard-sum")).not_to_contain_text("待付")
    phone.goto(f"{base}/shop/#/orders/{o['id']}")
    expect(phone.locator(".step-total")).to_contain_text("实付款")


def test_a_forming_groups_order_says_so_and_links_to_its_group(live_server, phone):
    base = live_server["base_url"]
    tag = secrets.token_hex(3)
    with admin_client(base, live_server) as boss:
        r = boss.post(
            "/api/admin/v1/products",
            json={
                "title": f"拼团蜜柚 {tag}",
                "category": "生鲜水果",
                "skus": [{"name": "2个装", "price_fen": 2990, "stock": 30}],
            },
        )
        assert r.status_code == 201, r.text
        product = r.json()
        now = datetime.now(UTC)
        r = boss.post(
            "/api/admin/v1/groupbuy/activities",
            json={
                "product_id": product["id"],
                "skus": [{"sku_id": product["skus"][0]["id"], "price_fen": 1990}],
                "group_size": 3,
                "duration_minutes": 60,
                "stock": 10,
                "starts_at": (now - timedelta(days=1)).isoformat(),
                "ends_at": (now + timedelta(days=3)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        act = r.json()
    me = _login(phone, base, f"polish-gb-{tag}")
    r = me.post(
        f"/api/v1/groupbuy/activities/{act['id']}/groups",
        json={"sku_id": product["skus"][0]["id"], "qty": 1, "address": ADDRESS},
    )
    assert r.status_code == 201, r.text
    gid, oid = r.json()["group_id"], r.json()["order"]["id"]
    _pay(me, oid)
    _wait(lambda: me.get(f"/api/v1/groupbuy/groups/{gid}").json().get("status") == "forming")

    phone.goto(f"{base}/shop/#/orders")
    card = phone.locator(f'.ocard[data-id="{oid}"]')
    expect(card.locator(".ocard-head .status")).to_have_text("拼团中")
    expect(card.get_by_role("link", name=re.compile("查看拼团"))).to_contain_text("差2人")
    shot(phone, "shop-polish-03-group-order")

    phone.goto(f"{base}/shop/#/orders/{oid}")
    expect(phone.locator(".ostatus-name")).to_have_text("拼团中")
    expect(phone.locator(".ostatus-hint")).to_contain_text("还差 2 人成团")
    expect(phone.locator(".btn-refund")).to_have_count(0)  # no refund request while the group counts on the seat
    shot(phone, "shop-polish-04-group-detail")
    phone.get_by_role("link", name=re.compile("查看拼团")).click()
    expect(phone).to_have_url(re.compile(rf"#/groupbuy/g/{gid}$"))
    expect(phone.locator(".gb-status")).to_contain_text("还差2人")


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_no_earlier_toast_covers_the_cashiers_pay_button(live_server, phone):
    base = live_server["base_url"]
    oranges = _demo_product(base, "赣南脐橙")
    me = _login(phone, base, "polish-toast-" + secrets.token_hex(3))
    toast = phone.locator("#toast")
    pay = phone.get_by_role("button", name="沙箱支付：确认付款")

    # A toast the order page showed a while ago does not follow the shopper to the cashier.
    o = _order(me, oranges)
    phone.goto(f"{base}/shop/#/orders/{o['id']}")
    expect(phone.get_by_role("button", name="去支付")).to_be_visible()
    phone.evaluate("() => import('/static/shop/ui.js').then((m) => m.toast('这是订单页上的提示'))")
    expect(toast).to_be_visible()
    phone.wait_for_timeout(1150)
    phone.get_by_role("button", name="去支付").click()
    expect(pay).to_be_visible()
    assert toast.is_hidden()  # at once: not merely gone once its own two seconds are up

    # One said on the way there (抢到了！请在 5 分钟内支付 → 收银台) shows under the top bar, clear of the button.
    o = _order(me, oranges)
    phone.goto(f"{base}/shop/#/orders/{o['id']}")
    expect(phone.get_by_role("button", name="去支付")).to_be_visible()
    phone.evaluate(
        """() => import('/static/shop/ui.js').then((m) => {
             m.toast('抢到了！请在 5 分钟内支付');
             document.querySelector('.order-bar .btn-primary').click();
           })"""
    )
    expect(pay).to_be_visible()
    if toast.is_visible():
        box, button = toast.bounding_box(), pay.bounding_box()
        assert box and button and not _overlaps(box, button), (box, button)
        shot(phone, "shop-polish-05-cashier-toast")
    pay.click()  # the button takes the tap
    expect(phone).to_have_url(re.compile(rf"#/orders/{o['id']}$"))


def test_me_shows_points_balance_and_level_only_once_me_carries_them(live_server, phone):
    base = live_server["base_url"]
    me = _login(phone, base, "polish-me-" + secrets.token_hex(3))
    assert {k: me.get("/api/v1/me").json()[k] for k in ("level", "points", "wallet_fen")} == {
        "level": "普通会员",  # membership names the base level too
        "points": 0,  # points and the wallet have landed: a new shopper has 0 of each
        "wallet_fen": 0,
    }
    phone.goto(f"{base}/shop/#/me")
    expect(phone.locator(".me-name")).not_to_have_text("加载中…")
    expect(phone.locator('.me-stats [data-stat="wallet"]')).to_have_text(re.compile(r"0\.00.*余额"))
    expect(phone.locator('.me-stats [data-stat="points"]')).to_have_text(re.compile(r"^\s*0\s*积分"))

    # The day the tools land and /me carries them, each shows (the balance in 元).
    def carried(route: Any) -> None:
        body = route.fetch().json()
        route.fulfill(json={**body, "level": "黄金会员", "points": 120, "wallet_fen": 3550})

    phone.route(re.compile(r".*/api/v1/me$"), carried)
    phone.reload()
    stats = phone.locator(".me-stats")
    expect(stats.locator('[data-stat="points"]')).to_have_text(re.compile("120.*积分"))
    expect(stats.locator('[data-stat="wallet"]')).to_have_text(re.compile(r"35\.50.*余额"))
    expect(phone.locator(".me-level").first).to_have_text("黄金会员")
    expect(phone.locator(".me-level").first).to_have_attribute("href", "#/me/member")
    expect(stats.locator('[data-stat="points"]')).to_have_attribute("href", "#/me/points")
    expect(stats.locator('[data-stat="wallet"]')).to_have_attribute("href", "#/me/wallet")
