"""Steps the wallet's tests share: packages, a paid top-up, an order paid by the wallet, the ledger's sums."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from fissionmall.accounts.models import Customer
from fissionmall.core.db import Database
from fissionmall.wallet import ledger
from tests.helpers import order

C = "/api/v1"
A = "/api/admin/v1"


async def package(client: httpx.AsyncClient, boss: dict[str, str], pay_fen: int, bonus_fen: int) -> dict[str, Any]:
    r = await client.post(f"{A}/wallet/packages", json={"pay_fen": pay_fen, "bonus_fen": bonus_fen}, headers=boss)
    assert r.status_code == 201, r.text
    return r.json()


async def top_up(client: httpx.AsyncClient, h: dict[str, str], package_id: int) -> dict[str, Any]:
    r = await client.post(f"{C}/wallet/top-ups", json={"package_id": package_id}, headers=h)
    assert r.status_code == 200, r.text
    o = r.json()
    r = await client.post(f"{C}/orders/{o['id']}/pay", json={"method": "gateway"}, headers=h)
    assert r.status_code == 200, r.text
    r = await client.post(f"{C}/payments/sandbox/{r.json()['payment_id']}/succeed", headers=h)
    assert r.status_code == 200 and r.json()["outcome"] == "applied", r.text
    return o


async def wallet(client: httpx.AsyncClient, h: dict[str, str]) -> tuple[int, int]:
    w = (await client.get(f"{C}/wallet", headers=h)).json()
    return w["principal_fen"], w["bonus_fen"]


async def goods_order(client: httpx.AsyncClient, h: dict[str, str], sku_id: int, qty: int = 1) -> dict[str, Any]:
    r = await order(client, h, [{"sku_id": sku_id, "qty": qty}])
    assert r.status_code == 201 or r.status_code == 200, r.text
    return r.json()


async def customer_id(db: Database, openid: str) -> int:
    async with db.read() as s:
        cid = await s.scalar(select(Customer.id).where(Customer.openid == f"sandbox-{openid}"))
    assert cid is not None
    return int(cid)


async def assert_ledger_balances(db: Database, cid: int) -> tuple[int, int]:
    """The balance row equals the sum of the entries, and neither part is negative."""
    async with db.read() as s:
        row = await ledger.balance_of(s, customer_id=cid)
        sums = await ledger.sums_of(s, customer_id=cid)
    assert row == sums, (row, sums)
    assert row[0] >= 0 and row[1] >= 0
    return row


async def funded(
    client: httpx.AsyncClient, db: Database, code: str, *, pay_fen: int, bonus_fen: int, price: int
) -> tuple[dict[str, str], dict[str, str], int, dict[str, Any]]:
    """An owner, a package, a product at `price`, and shopper `code` who bought the package.

    Returns (boss, shopper, sku, top-up)."""
    from tests.helpers import admin, product, shopper

    boss = await admin(client, db)
    p = await package(client, boss, pay_fen, bonus_fen)
    sku = (await product(client, boss, prices=(price,)))["skus"][0]["id"]
    h = await shopper(client, code)
    return boss, h, sku, await top_up(client, h, p["id"])
