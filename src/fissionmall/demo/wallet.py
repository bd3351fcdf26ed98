"""The demo's 储值: two top-up packages (储值500送100, 储值200送30), made through the admin API."""

from __future__ import annotations

from typing import Any

import httpx

ADMIN = "/api/admin/v1"
PACKAGES: tuple[dict[str, Any], ...] = (
    {"name": "储值500送100", "pay_fen": 50000, "bonus_fen": 10000, "sort": 1},
    {"name": "储值200送30", "pay_fen": 20000, "bonus_fen": 3000, "sort": 2},
)


async def seed(c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Create the demo's packages; returns them by name."""
    made: dict[str, Any] = {}
    for body in PACKAGES:
        r = await c.post(f"{ADMIN}/wallet/packages", json=body, headers=boss)
        if r.status_code != 201:
            raise RuntimeError(f"demo load: POST /wallet/packages -> {r.status_code} {r.text}")
        made[body["name"]] = r.json()
    return {"packages": made}
