"""秒杀 in the browser: a shopper waits for the server-time countdown, grabs, pays; the console shows the board."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot

ADDRESS = {"name": "王五", "phone": "13700137000", "region": "浙江省 杭州市 西湖区", "detail": "文三路 1 号"}


def _admin(live_server: dict[str, Any]) -> httpx.Client:
    base = live_server["base_url"]
    r = httpx.post(
        f"{base}/api/admin/v1/auth/login",
        json={"username": live_server["admin_user"], "password": live_server["admin_password"]},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {r.json()['token']}"}, timeout=10)


def _running_session(boss: httpx.Client, title: str, sku_id: int) -> dict[str, Any]:
    """A session that started a minute ago and runs an hour: ¥9.90, 5 in the pool, 1 each."""
    now = datetime.now(UTC)
    r = boss.post(
        "/api/admin/v1/seckill/sessions",
        json={
            "title": title,
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "items": [{"sku_id": sku_id, "price_fen": 990, "stock": 5, "per_user_limit": 1}],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def _shop_login(page: Page, base: str, prefix: str) -> None:
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill(prefix + secrets.token_hex(4))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()


def test_shopper_waits_for_the_countdown_grabs_and_pays(live_server: dict[str, Any], mobile: Page, desktop: Page):
    base, page = live_server["base_url"], mobile
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with _admin(live_server) as boss:
        p = boss.post(
            "/api/admin/v1/products",
            json={
                "title": "秒杀测试耳机",
                "category": "数码",
                "skus": [{"name": "白色", "price_fen": 19900, "stock": 20}],
            },
        ).json()
        start = datetime.now(UTC) + timedelta(seconds=8)
        sess = boss.post(
            "/api/admin/v1/seckill/sessions",
            json={
                "title": "浏览器测试场",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=1)).isoformat(),
                "items": [{"sku_id": p["skus"][0]["id"], "price_fen": 990, "stock": 5, "per_user_limit": 1}],
            },
        ).json()
        item = sess["items"][0]["id"]

    _shop_login(page, base, "sk-")
    page.evaluate("(a) => localStorage.setItem('fm.address', JSON.stringify(a))", ADDRESS)
    expect(page.locator(".sk-banner")).to_be_visible()
    page.locator(".sk-banner").click()

    card = page.locator(f".sk-item[data-item-id='{item}']")
    expect(card).to_be_visible()
    expect(card.locator(".sk-buy")).to_have_text("即将开始")
    expect(card.locator(".sk-buy")).to_be_disabled()
    expect(card.locator(".sk-clock")).to_have_text(re.compile(r"距开抢 \d\d:\d\d"))
    expect(card).to_contain_text("剩余 5 / 5")
    shot(page, "seckill-01-countdown")

    buy = card.get_by_role("button", name="马上抢")
    expect(buy).to_be_enabled(timeout=20_000)
    shot(page, "seckill-02-on-sale")
    buy.click()

    expect(page).to_have_url(re.compile(r"#/cashier/\d+$"), timeout=20_000)
    expect(page.locator(".cashier-price")).to_have_text("¥17.90")  # 9.90 + 8.00 shipping
    # The button said ¥9.90: the cashier says what the ¥17.90 is made of.
    expect(page.locator(".cashier-breakdown")).to_have_text("商品 ¥9.90 · 运费 ¥8.00 · 已优惠 ¥189.10")
    shot(page, "seckill-03-cashier")
    page.get_by_role("button", name="沙箱支付：确认付款").click()
    expect(page).to_have_url(re.compile(r"#/orders/\d+$"))
    expect(page.locator(".ostatus-name")).to_have_text("待发货")

    # Back on the sale: the shopper has had their one; the count went down.
    page.goto(f"{base}/shop/#/seckill")
    expect(page.locator(f".sk-item[data-item-id='{item}']")).to_contain_text("剩余 4 / 5")
    assert errors == []

    # The console's board.
    d = desktop
    d.goto(base + f"/admin/seckill/{sess['id']}")
    d.get_by_label("用户名").fill(live_server["admin_user"])
    d.get_by_label("密码").fill(live_server["admin_password"])
    d.get_by_role("button", name="登录").click()
    expect(d.locator("[data-figure=sold]").first).to_have_text("1")
    expect(d.locator("[data-figure=paid]").first).to_have_text("1", timeout=10_000)
    shot(d, "seckill-04-board")
    d.goto(base + "/admin/seckill")
    expect(d.locator("#session-table")).to_contain_text("浏览器测试场")


def test_operator_raises_a_pool_mid_sale_and_blocks_a_scalper(live_server: dict[str, Any], desktop: Page):
    base, d = live_server["base_url"], desktop
    with _admin(live_server) as boss:
        p = boss.post(
            "/api/admin/v1/products",
            json={
                "title": "加库存测试杯",
                "category": "家居",
                "skus": [{"name": "蓝色", "price_fen": 5900, "stock": 30}],
            },
        ).json()
        sess = _running_session(boss, "加库存测试场", p["skus"][0]["id"])
        item = sess["items"][0]["id"]
    scalper = httpx.post(f"{base}/api/v1/auth/wechat-login", json={"code": "scalper-" + secrets.token_hex(3)}).json()
    scalper_id, scalper_auth = scalper["user"]["id"], {"Authorization": f"Bearer {scalper['token']}"}

    # The session editor: the pool goes from 5 to 12 while the sale is on.
    d.goto(base + f"/admin/seckill/{sess['id']}")
    d.get_by_label("用户名").fill(live_server["admin_user"])
    d.get_by_label("密码").fill(live_server["admin_password"])
    d.get_by_role("button", name="登录").click()
    d.locator("#edit-session").click()
    row = d.locator(f"tr[data-item-id='{item}']")
    expect(row.locator("[data-figure=remaining]")).to_have_text("5")
    row.locator(f"input[name=stock_{item}]").fill("12")
    shot(d, "seckill-05-edit-pool")
    d.get_by_role("button", name="保存").click()
    expect(d.locator("[data-figure=remaining]").first).to_have_text("12")  # back on the board
    with _admin(live_server) as boss:
        got = boss.get(f"/api/admin/v1/seckill/sessions/{sess['id']}").json()["items"][0]
        assert got["pool"] == 12
        assert boss.get(f"/api/admin/v1/products/{p['id']}").json()["skus"][0]["stock"] == 18  # 30 - 12

    # 风控: block the scalper, who is then refused everywhere, and lift it again.
    d.goto(base + "/admin/risk")
    expect(d.locator("#limits")).to_be_visible()
    d.once("dialog", lambda dialog: dialog.accept())
    d.locator("#f-customer").fill(str(scalper_id))  # the customer picker: searched by 买家编号, then chosen
    d.locator(f"#block-form .cp-option[data-id='{scalper_id}']").click()
    d.locator("#block-btn").click()
    expect(d.locator(f"#blocked-table tr[data-customer-id='{scalper_id}']")).to_be_visible()
    shot(d, "risk-01-blocked")
    r = httpx.get(f"{base}/api/v1/me", headers=scalper_auth)
    assert r.status_code == 403 and r.json()["error"]["code"] == "ACCOUNT_BLOCKED"
    d.locator(f"#blocked-table tr[data-customer-id='{scalper_id}']").get_by_role("button", name="解除").click()
    expect(d.locator(f"tr[data-customer-id='{scalper_id}']")).to_have_count(0)
    assert httpx.get(f"{base}/api/v1/me", headers=scalper_auth).status_code == 200


def test_a_product_in_a_live_flash_sale_keeps_its_add_to_cart_button(live_server: dict[str, Any], mobile: Page):
    """The flash sale's pair (单独购买 · 马上抢) pushed 加入购物车 out of the bar; at 390px it stays, icon-sized."""
    base, page = live_server["base_url"], mobile
    with _admin(live_server) as boss:
        p = boss.post(
            "/api/admin/v1/products",
            json={"title": "秒杀加购耳机", "skus": [{"name": "黑色", "price_fen": 19900, "stock": 20}]},
        ).json()
        _running_session(boss, "加购测试场", p["skus"][0]["id"])
    _shop_login(page, base, "skc-")
    page.goto(f"{base}/shop/#/p/{p['id']}")
    bar = page.locator(".actionbar")
    expect(bar).to_have_class(re.compile("ab-pair"))
    expect(bar).to_contain_text("单独购买")
    add = bar.get_by_role("button", name="加入购物车")
    expect(add).to_be_visible()
    assert add.bounding_box()["x"] + add.bounding_box()["width"] <= 390  # inside the phone's width
    shot(page, "seckill-06-pair-keeps-cart")
    add.click()
    expect(page.locator("#toast")).to_have_text("已加入购物车")
