"""Steps the distribution tests share: configure, become a distributor, invite, buy, settle."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.distribution import settlement
from fissionmall.distribution.models import Commission
from tests.helpers import order, pay, run_jobs

CONFIG = "/api/admin/v1/distribution/config"


async def configure(client: httpx.AsyncClient, boss: dict[str, str], **changes: Any) -> dict[str, Any]:
    body = {"enabled": True, "level1_rate_bp": 1000, "level2_rate_bp": 500, "frozen_days": 7, **changes}
    r = await client.put(CONFIG, json=body, headers=boss)
    assert r.status_code == 200, r.text
    return r.json()


async def login(client: httpx.AsyncClient, code: str, ref: str | None = None) -> dict[str, str]:
    body = {"code": code, **({"ref": ref} if ref else {})}
    r = await client.post("/api/v1/auth/wechat-login", json=body)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def distributor(
    client: httpx.AsyncClient, db: Database, code: str, ref: str | None = None
) -> tuple[dict[str, str], str]:
    """A shopper (brought by `ref`, if given) who becomes an approved distributor: (headers, share code)."""
    h = await login(client, code, ref)
    await run_jobs(db)
    r = await client.post("/api/v1/distribution/apply", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    return h, r.json()["share_code"]


async def customer_id(client: httpx.AsyncClient, h: dict[str, str]) -> int:
    return int((await client.get("/api/v1/me", headers=h)).json()["id"])


async def buy(
    client: httpx.AsyncClient, db: Database, h: dict[str, str], items: list[dict[str, int]], **extra: Any
) -> dict[str, Any]:
    r = await order(client, h, items, **extra)
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    await pay(client, h, oid)
    await run_jobs(db)
    return (await client.get(f"/api/v1/orders/{oid}", headers=h)).json()


async def me(client: httpx.AsyncClient, h: dict[str, str]) -> dict[str, Any]:
    r = await client.get("/api/v1/distribution/me", headers=h)
    assert r.status_code == 200, r.text
    return r.json()


async def ledger_rows(db: Database) -> list[tuple[Any, ...]]:
    async with db.read() as s:
        rows = await s.execute(
            select(
                Commission.distributor_customer_id,
                Commission.order_line_id,
                Commission.level,
                Commission.kind,
                Commission.bucket,
                Commission.amount_fen,
            ).order_by(Commission.id)
        )
        return [tuple(r) for r in rows.all()]


async def count_commissions(db: Database, **where: Any) -> int:
    async with db.read() as s:
        q = select(func.count()).select_from(Commission)
        for k, v in where.items():
            q = q.where(getattr(Commission, k) == v)
        return int(await s.scalar(q) or 0)


async def complete(client: httpx.AsyncClient, db: Database, boss: dict[str, str], h: dict[str, str], oid: int) -> None:
    """Ship, receive, and let the after-sales window close (OrderCompleted)."""
    r = await client.post(
        f"/api/admin/v1/orders/{oid}/ship", json={"carrier": "顺丰", "tracking_no": "SF123456"}, headers=boss
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/orders/{oid}/receive", headers=h)
    assert r.status_code == 200, r.text
    clock.advance(timedelta(days=8).total_seconds())
    await run_jobs(db)


async def settle_now(db: Database, days: int = 40) -> None:
    """Move the clock past maturity and through month ends; the settlement jobs run."""
    clock.advance(timedelta(days=days).total_seconds())
    await run_jobs(db)


async def settle_period(db: Database, period: str) -> Any:
    async with db.tx() as s:
        return await settlement.settle(s, period=period)
