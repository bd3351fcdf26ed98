"""Steps the pricing tests share: templates, promotions, previews with the caller's coupons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from fissionmall.core import clock

ADMIN = "/api/admin/v1"


def iso(days: float = 0) -> str:
    return (clock.now() + timedelta(days=days)).isoformat()


async def template(client: httpx.AsyncClient, boss: dict[str, str], **over: Any) -> dict[str, Any]:
    body = {
        "name": "满100减20",
        "kind": "amount",
        "amount_fen": 2000,
        "threshold_fen": 10_000,
        "total": 100,
        "per_user_limit": 1,
        "valid_days": 7,
        **over,
    }
    r = await client.post(f"{ADMIN}/coupons/templates", json=body, headers=boss)
    assert r.status_code == 201, r.text
    return r.json()


async def promotion(client: httpx.AsyncClient, boss: dict[str, str], **body: Any) -> dict[str, Any]:
    body = {"starts_at": iso(-1), "ends_at": iso(7), **body}
    r = await client.post(f"{ADMIN}/promotions", json=body, headers=boss)
    assert r.status_code == 201, r.text
    return r.json()


async def claim(client: httpx.AsyncClient, me: dict[str, str], template_id: int) -> dict[str, Any]:
    r = await client.post(f"/api/v1/coupons/{template_id}/claim", headers=me)
    assert r.status_code == 201, r.text
    return r.json()


async def preview(
    client: httpx.AsyncClient, me: dict[str, str], items: list[dict[str, int]], **extra: Any
) -> httpx.Response:
    return await client.post("/api/v1/coupons/checkout-preview", json={"items": items, **extra}, headers=me)


async def coupon_status(client: httpx.AsyncClient, me: dict[str, str], coupon_id: int) -> str:
    items = (await client.get("/api/v1/me/coupons", headers=me)).json()["items"]
    return next(c["status"] for c in items if c["id"] == coupon_id)
