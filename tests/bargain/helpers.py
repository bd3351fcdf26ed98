"""Shared steps for the bargaining tests: an activity, start, friends' helps, a database snapshot."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from fissionmall.bargain.models import Bargain, BargainActivity, BargainHelp, BargainHelpDay, BargainQuota
from fissionmall.catalog.models import Sku
from fissionmall.core.db import Database
from fissionmall.orders.models import Order
from tests.helpers import ADDRESS, shopper

API = "/api/v1/bargain"
ADMIN = "/api/admin/v1/bargain"


def activity_body(product: dict[str, Any], **over: Any) -> dict[str, Any]:
    """Exactly the fields API.md names, unless a test adds more."""
    body = {
        "product_id": product["id"],
        "sku_id": product["skus"][0]["id"],
        "target_fen": 3900,
        "helpers_needed": 5,
        "min_cut_fen": 100,
        "max_cut_fen": 2000,
        "duration_minutes": 60 * 24,
        "stock": 10,
    }
    body.update(over)
    return body


async def make_activity(client: httpx.AsyncClient, boss: dict[str, str], product: dict[str, Any], **over: Any) -> dict:
    r = await client.post(f"{ADMIN}/activities", json=activity_body(product, **over), headers=boss)
    assert r.status_code == 201, r.text
    return r.json()


async def start(client: httpx.AsyncClient, who: dict[str, str], act: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(f"{API}/activities/{act['id']}/start", headers=who)
    assert r.status_code == 201, r.text
    return r.json()


async def friends(client: httpx.AsyncClient, n: int, prefix: str = "friend") -> list[dict[str, str]]:
    return [await shopper(client, f"{prefix}{i}") for i in range(n)]


async def help_(client: httpx.AsyncClient, who: dict[str, str], bargain_id: int, **headers: str) -> httpx.Response:
    return await client.post(f"{API}/{bargain_id}/help", headers={**who, **headers})


async def order(client: httpx.AsyncClient, who: dict[str, str], bargain_id: int, **body: Any) -> httpx.Response:
    return await client.post(f"{API}/{bargain_id}/order", json={"address": ADDRESS, **body}, headers=who)


async def snapshot(db: Database) -> dict[str, Any]:
    """Every bargaining row, the SKUs' stock and the orders: a refusal must leave all of it unchanged."""
    out: dict[str, Any] = {}
    async with db.read() as s:
        for model in (BargainActivity, Bargain, BargainHelp, BargainQuota, BargainHelpDay):
            rows = (await s.scalars(select(model).order_by(model.id))).all()
            out[model.__tablename__] = [{c.name: getattr(r, c.name) for c in model.__table__.columns} for r in rows]
        out["skus"] = [(k.id, k.stock) for k in (await s.scalars(select(Sku).order_by(Sku.id))).all()]
        out["orders"] = [(o.id, o.status) for o in (await s.scalars(select(Order).order_by(Order.id))).all()]
    return out
