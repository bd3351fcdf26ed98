"""The demo shop's 积分商城: a 5元无门槛券 for 500 积分 (a coupon template of its own, issued by the mall only)
and the 不锈钢保温杯 for 1500 积分 + ¥9.90, 20 units moved out of its 奶白 SKU, one per shopper."""

from __future__ import annotations

from typing import Any

import httpx

ADMIN = "/api/admin/v1"
COUPON = {
    "name": "积分兑换5元无门槛券",
    "kind": "amount",
    "amount_fen": 500,
    "threshold_fen": 0,
    "valid_days": 30,
    "per_user_limit": 5,
    "issue_mode": "operator",  # not in the 领券中心: only the mall hands it out
}


def _ok(r: httpx.Response, status: int = 201) -> Any:
    if r.status_code != status:
        raise RuntimeError(f"demo load: {r.request.method} {r.request.url.path} -> {r.status_code} {r.text}")
    return r.json()


async def seed(c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, Any]) -> dict[str, Any]:
    """Create the mall's two demo items through the admin API; returns them as created."""
    tpl = _ok(await c.post(f"{ADMIN}/coupons/templates", json=COUPON, headers=boss))
    coupon = _ok(
        await c.post(
            f"{ADMIN}/points/mall",
            json={
                "kind": "coupon",
                "coupon_template_id": tpl["id"],
                "title": "5元无门槛券",
                "points": 500,
                "stock": 200,
                "per_user_limit": 2,
                "sort_order": 1,
            },
            headers=boss,
        )
    )
    cup = ps["不锈钢保温杯"]
    sku = next(k for k in cup["skus"] if k["name"] == "500ml 奶白")
    product = _ok(
        await c.post(
            f"{ADMIN}/points/mall",
            json={
                "kind": "product",
                "sku_id": sku["id"],
                "title": "不锈钢保温杯 500ml 奶白",
                "points": 1500,
                "cash_fen": 990,
                "stock": 20,
                "per_user_limit": 1,
                "sort_order": 2,
            },
            headers=boss,
        )
    )
    return {"points_mall": [coupon, product]}
