"""The demo's 付费会员: 尊享会员 99元/年, 全场 9.5 折, 2 张 5 元无门槛券 each month, 7 天无理由退款, and
会员价 on the first SKU of two demo products (about 9 折 of their price), all through the admin API."""

from __future__ import annotations

from typing import Any

import httpx

ADMIN = "/api/admin/v1"


def _ok(r: httpx.Response, status: int = 200) -> Any:
    if r.status_code != status:
        raise RuntimeError(f"demo vip: {r.request.method} {r.request.url.path} -> {r.status_code} {r.text}")
    return r.json()


async def seed(c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Create the plan, its monthly coupon and two SKU member prices; answers what was made."""
    coupon = {
        "name": "会员专享5元券",
        "kind": "amount",
        "amount_fen": 500,
        "valid_days": 31,
        "issue_mode": "operator",
        "per_user_limit": 100,  # 2 a month for a year and its renewals
    }
    t = _ok(await c.post(f"{ADMIN}/coupons/templates", json=coupon, headers=boss), 201)
    plan = {
        "name": "尊享会员",
        "price_fen": 9900,
        "days": 365,
        "discount_bp": 9500,
        "grant_template_id": t["id"],
        "grant_count": 2,
        "cooling_days": 7,
    }
    p = _ok(await c.post(f"{ADMIN}/membership/plans", json=plan, headers=boss), 201)
    prices = []
    for prod in list(ps.values())[:2]:
        sku = prod["skus"][0]
        fen = sku["price_fen"] * 9 // 10
        if 0 < fen < sku["price_fen"]:
            prices.append({"sku_id": sku["id"], "price_fen": fen})
    _ok(await c.put(f"{ADMIN}/membership/member-prices", json={"prices": prices}, headers=boss))
    return {"plan_id": p["id"], "coupon_template_id": t["id"], "member_prices": prices}
