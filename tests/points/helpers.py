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


RULES = {
    "enabled": True,
    "earn_per_yuan": 1,
    "spend_points_per_yuan": 100,
    "spend_cap_bp": 5000,
    "spend_unit": 100,
    "sign_in_points": 5,
    "streak_bonus": [{"day": 3, "points": 2}, {"day": 7, "points": 20}],
}


async def set_rules(client: httpx.AsyncClient, boss: dict[str, str], **over: object) -> dict[str, object]:
    """Save the points rules (RULES with `over` applied)."""
    r = await client.put("/api/admin/v1/points/rules", json={**RULES, **over}, headers=boss)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def give(db: Database, customer_id: int, points: int, ref: str = "seed") -> None:
    """Credit a shopper straight through the ledger."""
    async with db.tx() as s:
        await ledger.grant(s, customer_id=customer_id, points=points, kind="adjust", ref=ref)
