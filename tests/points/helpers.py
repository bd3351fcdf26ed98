"""Small steps the points tests share: a shopper's id, the ledger's invariant."""

from __future__ import annotations

import httpx

from fissionmall.core.db import Database
from fissionmall.points import ledger
from tests.helpers import shopper


async def customer(client: httpx.AsyncClient, code: str = "alice") -> tuple[dict[str, str], int]:
    """A logged-in shopper: (headers, customer id)."""
    h = await shopper(client, code)
    r = await client.get("/api/v1/me", headers=h)
    assert r.status_code == 200, r.text
    return h, int(r.json()["id"])


async def balance_and_sum(db: Database, customer_id: int) -> tuple[int, int]:
    """The account's balance and the sum of the shopper's entries (they must be equal)."""
    async with db.read() as s:
        return (
            await ledger.balance(s, customer_id=customer_id),
            await ledger.entries_sum(s, customer_id=customer_id),
        )
