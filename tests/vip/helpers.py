"""What the paid-membership tests share: a shop with a 5元 coupon, a 99元/年 plan, and a member."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from fissionmall.core.db import Database
from tests.helpers import ADDRESS, admin, pay, product, run_jobs, shopper

ADMIN = "/api/admin/v1"
API = "/api/v1"


async def shop(client: httpx.AsyncClient, db: Database, **plan: Any) -> dict[str, Any]:
    boss = await admin(client, db)
    t = await client.post(
        f"{ADMIN}/coupons/templates",
        json={
            "name": "会员5元券",
            "kind": "amount",
            "amount_fen": 500,
            "valid_days": 31,
            "issue_mode": "operator",
            "per_user_limit": 100,
        },
        headers=boss,
    )
    assert t.status_code == 201, t.text
    body = {
        "name": "尊享会员",
        "price_fen": 9900,
        "days": 365,
        "discount_bp": 9500,
        "grant_template_id": t.json()["id"],
        "grant_count": 2,
        "cooling_days": 7,
        **plan,
    }
    r = await client.post(f"{ADMIN}/membership/plans", json=body, headers=boss)
    assert r.status_code == 201, r.text
    goods = await product(client, boss, prices=(10000, 5000), title="会员好物")
    return {
        "boss": boss,
        "template": t.json(),
        "plan": r.json(),
        "product": goods,
        "skus": [k["id"] for k in goods["skus"]],
    }


async def buy(client: httpx.AsyncClient, db: Database, h: dict[str, str], plan_id: int) -> dict[str, Any]:
    r = await client.post(f"{API}/membership/subscribe", json={"plan_id": plan_id}, headers=h)
    assert r.status_code == 201, r.text
    await pay(client, h, r.json()["id"])
    await run_jobs(db)
    return r.json()


async def member(client: httpx.AsyncClient, db: Database, s: dict[str, Any], code: str = "vip") -> dict[str, str]:
    h = await shopper(client, code)
    await buy(client, db, h, s["plan"]["id"])
    return h


async def mine(client: httpx.AsyncClient, h: dict[str, str]) -> dict[str, Any]:
    r = await client.get(f"{API}/membership/subscription", headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


async def preview(client: httpx.AsyncClient, h: dict[str, str], sku_id: int, **extra: Any) -> httpx.Response:
    body = {"items": [{"sku_id": sku_id, "qty": 1}], "address": ADDRESS, **extra}
    return await client.post(f"{API}/checkout/preview", json=body, headers=h)
