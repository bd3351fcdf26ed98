"""A/B test in the H5 shop: a signed-in shopper's product page shows their own arm's offer as 到手价 (from
the checkout preview), and the badges show neither arm's promotion; checkout charges the same."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from fissionmall.experiments import rules
from tests.browser.conftest import admin_client, shot


@pytest.fixture
def test_setup(live_server: dict[str, Any]) -> dict[str, Any]:
    base, tag = live_server["base_url"], secrets.token_hex(3)
    now = datetime.now(UTC)
    window = {"starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=2)).isoformat()}
    with admin_client(base, live_server) as boss:
        p = boss.post(
            "/api/admin/v1/products",
            json={
                "title": f"实验红茶{tag}",
                "category": "测试",
                "skus": [{"name": "礼盒", "price_fen": 6000, "stock": 50}],
            },
        ).json()
        sku = p["skus"][0]["id"]
        scope = {"scope": "products", "scope_ids": [p["id"]]}
        minus = boss.post(
            "/api/admin/v1/promotions",
            json={
                "kind": "full_reduction",
                "name": f"满100减20-{tag}",
                "tiers": [{"threshold": 10000, "amount_fen": 2000}],
                **scope,
                **window,
            },
        ).json()
        gift = boss.post(
            "/api/admin/v1/promotions",
            json={
                "kind": "gift",
                "name": f"买2送1-{tag}",
                "basis": "count",
                "threshold": 2,
                "gift_sku_id": sku,
                "gift_qty": 1,
                "gift_stock": 20,
                **scope,
                **window,
            },
        ).json()
        arms = [
            {"name": "满减", "weight": 1, "plan": {"promotion_ids": [minus["id"]]}},
            {"name": "买赠", "weight": 1, "plan": {"promotion_ids": [gift["id"]]}},
        ]
        r = boss.post(
            "/api/admin/v1/experiments", json={"name": f"实验{tag}", "product_id": p["id"], "arms": arms, **window}
        )
        assert r.status_code == 201, r.text
    return {"product": p, "minus": minus, "gift": gift, "experiment": r.json()}


def test_the_product_page_shows_the_shoppers_own_arm(live_server: dict[str, Any], phone: Page, test_setup) -> None:
    page, base = phone, live_server["base_url"]
    page.goto(f"{base}/shop/#/login")
    page.get_by_placeholder("测试账号，如 alice").fill("exp-" + secrets.token_hex(4))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_text("为你推荐")).to_be_visible()
    token = page.evaluate("() => localStorage.getItem('fm.token')")
    me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    exp = test_setup["experiment"]
    arm = rules.assign(exp["id"], me["id"], weights=[1, 1], coverage_bp=10_000)
    mine, theirs = (test_setup["minus"], test_setup["gift"]) if arm == 0 else (test_setup["gift"], test_setup["minus"])

    page.goto(f"{base}/shop/#/p/{test_setup['product']['id']}")
    page.get_by_role("button", name="礼盒").click()
    page.get_by_role("button", name="增加").click()
    offer = page.locator(".pd-offer")
    expect(offer).to_contain_text("到手价")
    expect(offer).to_contain_text(mine["name"])
    expect(offer).not_to_contain_text(theirs["name"])
    expect(offer).to_contain_text("¥100.00" if arm == 0 else "¥120.00")
    expect(page.locator(".pd-promotions")).to_be_hidden()
    shot(page, "experiments-01-product")
    page.get_by_role("button", name="立即购买").click()
    expect(page).to_have_url(re.compile(r"#/checkout$"))
    expect(page.locator(".checkout")).to_contain_text(mine["name"])
    expect(page.locator(".checkout")).not_to_contain_text(theirs["name"])
