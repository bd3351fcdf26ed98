"""The demo shop's points (消费积分): rules on, 1 point per 元 paid, 100 points = 1 元, at most half an order."""

from __future__ import annotations

from typing import Any

import httpx

RULES = {
    "enabled": True,
    "earn_per_yuan": 1,
    "spend_points_per_yuan": 100,
    "spend_cap_bp": 5000,
    "spend_unit": 100,
    "sign_in_enabled": True,
    "sign_in_points": 5,
    "streak_bonus": [{"day": 3, "points": 5}, {"day": 7, "points": 20}],
    "review_points": 10,
    "leader_points": 50,
    "expiry": "next_year_end",
    "refund_policy": "debt",
}


async def seed(c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, Any]) -> dict[str, Any]:
    """Save the demo's points rules through the admin API; returns them as saved."""
    r = await c.put("/api/admin/v1/points/rules", json=RULES, headers=boss)
    r.raise_for_status()
    return {"points_rules": r.json()}
