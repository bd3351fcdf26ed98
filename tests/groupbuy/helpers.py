"""Shared steps for the group-buying tests: an activity, open, join, pay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from fissionmall.core import clock
from tests.helpers import ADDRESS, pay

API = "/api/v1/groupbuy"
ADMIN = "/api/admin/v1/groupbuy"


def activity_body(product: dict[str, Any], **over: Any) -> dict[str, Any]:
    now = clock.now()
    body = {
        "product_id": product["id"],
        "skus": [{"sku_id": product["skus"][0]["id"], "price_fen": 990}],
        "group_size": 3,
        "duration_minutes": 60 * 24,
        "new_user_required": False,
        "leader_discount_fen": 0,
        "max_open_per_user": 3,
        "stock": 10,  # units moved out of the SKU into the activity
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=7)).isoformat(),
    }
    body.update(over)
    return body


async def make_activity(client: httpx.AsyncClient, boss: dict[str, str], product: dict[str, Any], **over: Any) -> dict:
    r = await client.post(f"{ADMIN}/activities", json=activity_body(product, **over), headers=boss)
    assert r.status_code == 201, r.text
    return r.json()


def order_body(sku_id: int, qty: int = 1) -> dict[str, Any]:
    return {"sku_id": sku_id, "qty": qty, "address": ADDRESS}


async def open_group(
    client: httpx.AsyncClient, who: dict[str, str], act: dict[str, Any], qty: int = 1
) -> httpx.Response:
    return await client.post(
        f"{API}/activities/{act['id']}/groups", json=order_body(act["skus"][0]["sku_id"], qty), headers=who
    )


async def join(client: httpx.AsyncClient, who: dict[str, str], group_id: int, sku_id: int) -> httpx.Response:
    return await client.post(f"{API}/groups/{group_id}/join", json=order_body(sku_id), headers=who)


async def opened_and_paid(client: httpx.AsyncClient, who: dict[str, str], act: dict[str, Any]) -> tuple[int, int]:
    r = await open_group(client, who, act)
    assert r.status_code == 201, r.text
    gid, oid = r.json()["group_id"], r.json()["order"]["id"]
    await pay(client, who, oid)
    return gid, oid


async def joined_and_paid(client: httpx.AsyncClient, who: dict[str, str], gid: int, sku_id: int) -> int:
    r = await join(client, who, gid, sku_id)
    assert r.status_code == 201, r.text
    oid = r.json()["order"]["id"]
    await pay(client, who, oid)
    return int(oid)
