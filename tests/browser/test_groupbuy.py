"""拼团 in the browser: a leader opens and pays, two friends join from the share link and pay, the group
succeeds and the operator ships in the console; a second group expires (dev clock) and is refunded."""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import pick_region, shot

ADDRESS = {"name": "王五", "phone": "13700137000", "region": "浙江省 杭州市 西湖区", "detail": "文三路 90 号"}


def _admin(base: str, live_server: dict[str, Any]) -> httpx.Client:
    r = httpx.post(
        f"{base}/api/admin/v1/auth/login",
        json={"username": live_server["admin_user"], "password": live_server["admin_password"]},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {r.json()['token']}"}, timeout=10)


def _shopper_api(base: str, page: Page) -> httpx.Client:
    token = page.evaluate("() => localStorage.getItem('fm.token')")
    assert token
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _product(boss: httpx.Client, title: str, sku_name: str, *, price_fen: int, stock: int) -> dict[str, Any]:
    r = boss.post(
        "/api/admin/v1/products",
        json={
            "title": title,
            "category": "生鲜水果",
            "skus": [{"name": sku_name, "price_fen": price_fen, "stock": stock}],
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def _login(page: Page, base: str, code: str) -> None:
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()


def _fill_address_and_pay(page: Page, button: str) -> None:
    for key, value in ADDRESS.items():
        if key == "region":
            pick_region(page, value)
        else:
            page.locator(f".gb-buy input[name={key}]").fill(value)
    page.get_by_role("button", name=button).click()
    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"))
    page.get_by_role("button", name="沙箱支付：确认付款").click()
    expect(page).to_have_url(re.compile(r"#/orders/\d+$"))


def _wait(fn: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.2)


def _activity(boss: httpx.Client, product: dict[str, Any], **over: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "product_id": product["id"],
        "skus": [{"sku_id": product["skus"][0]["id"], "price_fen": 990}],
        "group_size": 3,
        "duration_minutes": 60,
        "stock": 20,
        "starts_at": (now - timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=30)).isoformat(),
        **over,
    }
    r = boss.post("/api/admin/v1/groupbuy/activities", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_group_forms_from_the_share_link_succeeds_ships_and_another_expires(live_server, browser, mobile, desktop):
    base = live_server["base_url"]
    errors: list[str] = []
    boss = _admin(base, live_server)
    tag = secrets.token_hex(3)
    product = _product(boss, f"拼团苹果 {tag}", "5斤装", price_fen=1990, stock=50)
    act = _activity(boss, product)

    # The leader finds the group section on the product page, opens a group and pays.
    leader = mobile
    leader.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(leader, base, f"gb-leader-{tag}")
    leader.goto(f"{base}/shop/#/p/{product['id']}")
    section = leader.locator(".gb-section")
    expect(section).to_be_visible()
    expect(section).to_contain_text("3人拼团")
    shot(leader, "groupbuy-01-product")
    leader.locator(".gb-open").click()  # 发起拼团, beside 单独购买
    _fill_address_and_pay(leader, "开团并支付")
    leader_api = _shopper_api(base, leader)
    gid = _wait(
        lambda: next(
            (
                g["group_id"]
                for g in leader_api.get("/api/v1/groupbuy/me/groups").json()
                if g["group_status"] == "forming"
            ),
            None,
        )
    )
    leader.goto(f"{base}/shop/#/groupbuy/g/{gid}")
    expect(leader.locator(".gb-status")).to_contain_text("还差2人")
    expect(leader.get_by_role("button", name="邀请好友参团")).to_be_visible()
    shot(leader, "groupbuy-02-share")

    # Two friends join from the link and pay.
    for i in range(2):
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
        friend = ctx.new_page()
        friend.set_default_timeout(15_000)
        friend.on("pageerror", lambda exc: errors.append(str(exc)))
        _login(friend, base, f"gb-friend{i}-{tag}")
        friend.goto(f"{base}/shop/#/groupbuy/g/{gid}")
        friend.locator(".gb-join").click()
        _fill_address_and_pay(friend, "参团并支付")
        ctx.close()

    leader.goto(f"{base}/shop/#/groupbuy/g/{gid}")
    _wait(lambda: httpx.get(f"{base}/api/v1/groupbuy/groups/{gid}").json()["status"] == "succeeded")
    leader.reload()
    expect(leader.locator(".gb-status")).to_contain_text("拼团成功")
    expect(leader.locator(".gb-member")).to_have_count(3)
    shot(leader, "groupbuy-03-succeeded")

    # The operator ships the group's orders from the console.
    page = desktop
    page.goto(f"{base}/admin/groupbuy/groups/{gid}")
    page.get_by_label("用户名").fill(live_server["admin_user"])
    page.get_by_label("密码").fill(live_server["admin_password"])
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#group-status")).to_have_text("拼团成功")
    form = page.locator(".ship-form").first
    form.get_by_label("快递单号").fill("SF" + tag.upper() + "01")
    form.get_by_role("button", name="发货").click()
    expect(page.locator("#flash")).to_contain_text("已发货")
    expect(page.locator(".ship-form")).to_have_count(2)
    page.goto(f"{base}/admin/groupbuy")
    expect(page.locator(f'tr[data-activity-id="{act["id"]}"] [data-figure="succeeded"]')).to_have_text("1")
    shot(page, "groupbuy-04-console")

    # A second group stays short and expires: the dev clock runs its timer, the leader is refunded.
    short_act = _activity(boss, product, duration_minutes=5, group_size=2)
    r = leader_api.post(
        f"/api/v1/groupbuy/activities/{short_act['id']}/groups",
        json={"sku_id": product["skus"][0]["id"], "qty": 1, "address": ADDRESS},
    )
    assert r.status_code == 201, r.text
    gid2, oid2 = r.json()["group_id"], r.json()["order"]["id"]
    pay = leader_api.post(f"/api/v1/orders/{oid2}/pay", json={"method": "gateway"}).json()
    assert leader_api.post(f"/api/v1/payments/sandbox/{pay['payment_id']}/succeed").status_code == 200
    _wait(lambda: httpx.get(f"{base}/api/v1/groupbuy/groups/{gid2}").status_code == 200)
    r = boss.post("/api/admin/v1/dev/clock", json={"advance_seconds": 5 * 60 + 5})
    assert r.status_code == 200, r.text
    _wait(lambda: leader_api.get(f"/api/v1/orders/{oid2}").json()["status"] == "closed")
    o = leader_api.get(f"/api/v1/orders/{oid2}").json()
    assert o["refunded_fen"] == o["paid_fen"] and o["refunds"][0]["reason"] == "拼团失败，已原路退款"
    leader.goto(f"{base}/shop/#/groupbuy/g/{gid2}")
    expect(leader.locator(".gb-status")).to_contain_text("拼团失败")
    leader.goto(f"{base}/shop/#/groupbuy/mine")
    expect(leader.locator(f'.gb-mine[data-group-id="{gid2}"]')).to_contain_text("拼团失败")
    shot(leader, "groupbuy-05-mine")
    assert errors == []


def test_a_friend_on_the_share_page_waits_while_the_leaders_payment_is_confirmed(live_server, mobile):
    """The share card tapped before the leader's payment is confirmed: "团长支付确认中", asked again
    until the group opens; a leader who never pays leaves the page saying to come back later."""
    base = live_server["base_url"]
    errors: list[str] = []
    boss = _admin(base, live_server)
    tag = secrets.token_hex(3)
    product = _product(boss, f"拼团梨 {tag}", "3斤装", price_fen=1590, stock=20)
    act = _activity(boss, product)
    r = httpx.post(f"{base}/api/v1/auth/wechat-login", json={"code": f"gb-wait-leader-{tag}"}, timeout=10)
    leader = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {r.json()['token']}"}, timeout=10)
    body = {"sku_id": product["skus"][0]["id"], "qty": 1, "address": ADDRESS}

    def opened() -> tuple[int, int]:
        r = leader.post(f"/api/v1/groupbuy/activities/{act['id']}/groups", json=body)
        assert r.status_code == 201, r.text
        return r.json()["group_id"], r.json()["order"]["id"]

    friend = mobile
    friend.on("pageerror", lambda exc: errors.append(str(exc)))
    gid, oid = opened()
    friend.goto(f"{base}/shop/#/groupbuy/g/{gid}")
    expect(friend.locator(".gb-confirming")).to_contain_text("团长支付确认中")
    shot(friend, "groupbuy-06-confirming")
    pay = leader.post(f"/api/v1/orders/{oid}/pay", json={"method": "gateway"}).json()
    assert leader.post(f"/api/v1/payments/sandbox/{pay['payment_id']}/succeed").status_code == 200
    # No reload: the page asks again by itself and finds the group open.
    expect(friend.locator(".gb-join")).to_be_visible()
    expect(friend.locator(".gb-status")).to_contain_text("还差2人")

    gid2, _ = opened()
    friend.goto(f"{base}/shop/#/groupbuy/g/{gid2}")
    expect(friend.locator(".gb-confirming")).to_contain_text("稍后再来看看", timeout=20_000)
    expect(friend.get_by_role("button", name="刷新")).to_be_visible()
    assert errors == []
