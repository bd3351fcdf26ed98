"""Steps the membership tests share: the levels, the member day, paying orders to earn growth."""

from __future__ import annotations

from typing import Any

import httpx

from fissionmall.core.db import Database
from tests.helpers import order, pay, run_jobs

ADMIN = "/api/admin/v1/membership"


async def levels(client: httpx.AsyncClient, boss: dict[str, str]) -> dict[str, dict[str, Any]]:
    r = await client.get(f"{ADMIN}/levels", headers=boss)
    assert r.status_code == 200, r.text
    return {lv["name"]: lv for lv in r.json()}


async def member_day(client: httpx.AsyncClient, boss: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await client.put(f"{ADMIN}/member-day", json={"enabled": True, "day_of_month": 18, **body}, headers=boss)
    assert r.status_code == 200, r.text
    return r.json()


async def paid_order(
    client: httpx.AsyncClient, db: Database, me: dict[str, str], sku_id: int, qty: int = 1
) -> dict[str, Any]:
    r = await order(client, me, [{"sku_id": sku_id, "qty": qty}])
    assert r.status_code == 201, r.text
    await pay(client, me, r.json()["id"])
    await run_jobs(db)
    return (await client.get(f"/api/v1/orders/{r.json()['id']}", headers=me)).json()


async def me_level(client: httpx.AsyncClient, me: dict[str, str]) -> dict[str, Any]:
    r = await client.get("/api/v1/me/level", headers=me)
    assert r.status_code == 200, r.text
    return r.json()
