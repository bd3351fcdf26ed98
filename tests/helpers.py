"""Small steps the tests share: log in, make products, place and pay orders."""

from __future__ import annotations

from typing import Any

import httpx

from fissionmall.accounts import service as accounts
from fissionmall.core import jobs
from fissionmall.core.db import Database

ADDRESS = {"name": "张三", "phone": "13800138000", "region": "上海市 浦东新区", "detail": "世纪大道 100 号"}


async def shopper(client: httpx.AsyncClient, code: str = "alice") -> dict[str, str]:
    r = await client.post("/api/v1/auth/wechat-login", json={"code": code})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def admin(
    client: httpx.AsyncClient, db: Database, role: str = "owner", username: str | None = None
) -> dict[str, str]:
    username = username or f"{role}-user"
    async with db.tx() as s:
        await accounts.create_admin(s, username=username, password="correct horse battery", role=role)
    r = await client.post("/api/admin/v1/auth/login", json={"username": username, "password": "correct horse battery"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def product(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    *,
    stock: int = 100,
    prices: tuple[int, ...] = (1990,),
    title: str = "测试商品",
) -> dict[str, Any]:
    body = {
        "title": title,
        "category": "测试",
        "skus": [{"name": f"规格{i}", "price_fen": p, "stock": stock} for i, p in enumerate(prices)],
    }
    r = await client.post("/api/admin/v1/products", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    return r.json()


async def order(
    client: httpx.AsyncClient, headers: dict[str, str], items: list[dict[str, int]], **extra: Any
) -> httpx.Response:
    return await client.post("/api/v1/orders", json={"items": items, "address": ADDRESS, **extra}, headers=headers)


async def pay(client: httpx.AsyncClient, headers: dict[str, str], order_id: int) -> dict[str, Any]:
    r = await client.post(f"/api/v1/orders/{order_id}/pay", json={"method": "gateway"}, headers=headers)
    assert r.status_code == 200, r.text
    pid = r.json()["payment_id"]
    r = await client.post(f"/api/v1/payments/sandbox/{pid}/succeed", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def run_jobs(db: Database) -> int:
    return await jobs.run_due(db)
