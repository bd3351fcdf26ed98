"""The demo shop's bargain (砍价): an activity running now on a demo product ("邀请 5 人助力，¥39 抱回家")
and one bargain a demo shopper started, with a first friend's cut, made through the public and admin APIs
like every other campaign (campaigns.py calls `seed`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from fissionmall.core import clock

ADMIN = "/api/admin/v1"
API = "/api/v1"
PRODUCT, SKU = "不锈钢保温杯", "500ml 奶白"
STARTER_CODE = "demo-bargainer"  # sandbox WeChat: this code is the demo shopper who started the bargain
FRIEND_CODE = "demo-bargain-friend"


async def _shopper(c: httpx.AsyncClient, code: str) -> dict[str, str]:
    r = await c.post(f"{API}/auth/wechat-login", json={"code": code})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _ok(r: httpx.Response, status: int) -> Any:
    if r.status_code != status:
        raise RuntimeError(f"demo bargain: {r.request.method} {r.request.url.path} → {r.status_code} {r.text}")
    return r.json()


async def seed(c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Create the demo bargaining activity and a started bargain; returns their ids."""
    cup = ps[PRODUCT]
    sku = next(k for k in cup["skus"] if k["name"] == SKU)
    body = {
        "title": "邀请 5 人助力，¥39 抱回家",
        "product_id": cup["id"],
        "sku_id": sku["id"],
        "target_fen": 3900,
        "helpers_needed": 5,
        "min_cut_fen": 500,
        "max_cut_fen": 2000,
        "duration_minutes": 24 * 60,
        "stock": 20,
        "new_user_boost_bp": 15_000,
        "starts_at": (clock.now() - timedelta(minutes=10)).isoformat(),
        "ends_at": (clock.now() + timedelta(days=7)).isoformat(),
    }
    act = _ok(await c.post(f"{ADMIN}/bargain/activities", json=body, headers=boss), 201)
    starter = await _shopper(c, STARTER_CODE)
    started = _ok(await c.post(f"{API}/bargain/activities/{act['id']}/start", headers=starter), 201)
    friend = await _shopper(c, FRIEND_CODE)
    _ok(await c.post(f"{API}/bargain/{started['bargain_id']}/help", headers=friend), 200)
    return {"bargain_activity_id": act["id"], "bargain_id": started["bargain_id"]}
