"""Console test helpers: log in through the console form, read its CSRF token, a paid order to work on."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import func, select

from fissionmall.accounts import service as accounts
from fissionmall.accounts.models import AdminUser
from fissionmall.core.db import Database
from fissionmall.orders.models import Order
from tests.helpers import admin, order, pay, product, shopper

PASSWORD = "console-pass-123"


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden input {name}"
    return m.group(1)


def _meta_csrf(html: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([0-9a-f]{64})">', html)
    assert m, "no CSRF meta tag"
    return m.group(1)


async def _make_admin(db: Database, role: str, username: str | None = None) -> int:
    async with db.tx() as s:
        a = await accounts.create_admin(s, username=username or f"{role}-console", password=PASSWORD, role=role)
        return a.id


async def _form_login(client: httpx.AsyncClient, username: str, password: str, next_: str = "") -> httpx.Response:
    client.cookies.clear()
    page = await client.get("/admin/login", params={"next": next_} if next_ else None)
    assert page.status_code == 200
    data = {"username": username, "password": password, "csrf_token": _hidden(page.text, "csrf_token")}
    data["next"] = _hidden(page.text, "next")
    return await client.post("/admin/login", data=data)


async def console(client: httpx.AsyncClient, db: Database, role: str) -> str:
    """Log in through the console form as a new admin of `role`; returns the session's CSRF token."""
    await _make_admin(db, role)
    r = await _form_login(client, f"{role}-console", PASSWORD)
    assert r.status_code == 303, r.text
    home = await client.get("/admin/")
    assert home.status_code == 200
    return _meta_csrf(home.text)


def htmx(csrf: str) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": csrf}


async def _paid_order(client: httpx.AsyncClient, db: Database, *, refund: bool = False) -> dict[str, Any]:
    """A paid order of one ¥19.90 item (¥27.90 with shipping), optionally with a pending full refund."""
    boss = await admin(client, db, username="api-owner")
    p = await product(client, boss, prices=(1990,), stock=10)
    me = await shopper(client, "bob")
    r = await order(client, me, [{"sku_id": p["skus"][0]["id"], "qty": 1}])
    assert r.status_code == 201, r.text
    o = r.json()
    await pay(client, me, o["id"])
    out: dict[str, Any] = {"order": o, "product": p, "shopper": me}
    if refund:
        r = await client.post(f"/api/v1/orders/{o['id']}/refunds", json={"reason": "尺码不合适"}, headers=me)
        assert r.status_code == 201, r.text
        out["refund"] = r.json()
    return out


async def _order_row(db: Database, order_id: int) -> Order:
    async with db.read() as s:
        o = await s.get(Order, order_id)
        assert o is not None
        return o


async def _count(db: Database, model: Any) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


def _sku_form(*rows: tuple[str, str, str, str]) -> dict[str, list[str]]:
    return {
        "sku_id": [r[0] for r in rows],
        "sku_name": [r[1] for r in rows],
        "sku_price": [r[2] for r in rows],
        "sku_stock": [r[3] for r in rows],
    }


async def _admin_id(db: Database, username: str) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(AdminUser.id).where(AdminUser.username == username)) or 0)
