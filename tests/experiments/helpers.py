"""Steps the experiment tests share: an experiment over HTTP, shoppers found in a given arm."""

from __future__ import annotations

from typing import Any

import httpx

from fissionmall.experiments import rules
from tests.helpers import shopper
from tests.pricing.helpers import ADMIN, iso


def body(promotion_ids: list[list[int]], **over: Any) -> dict[str, Any]:
    arms = [
        {"name": f"方案{chr(65 + i)}", "weight": 1, "plan": {"promotion_ids": ids}}
        for i, ids in enumerate(promotion_ids)
    ]
    return {"name": "满减对比", "arms": arms, "starts_at": iso(-1), "ends_at": iso(7), **over}


async def experiment(client: httpx.AsyncClient, boss: dict[str, str], **b: Any) -> dict[str, Any]:
    r = await client.post(f"{ADMIN}/experiments", json=b, headers=boss)
    assert r.status_code == 201, r.text
    return r.json()


async def shoppers_by_arm(
    client: httpx.AsyncClient, exp: dict[str, Any], *, per_arm: int = 1, prefix: str = "s"
) -> list[list[dict[str, str]]]:
    """Log shoppers in until each arm has `per_arm` of them (their arm computed as the shop computes it)."""
    weights = [a["weight"] for a in exp["arms"]]
    found: list[list[dict[str, str]]] = [[] for _ in weights]
    n = 0
    while any(len(f) < per_arm for f in found):
        h = await shopper(client, f"{prefix}{n}")
        cid = (await client.get("/api/v1/me", headers=h)).json()["id"]
        i = rules.assign(exp["id"], cid, weights=weights, coverage_bp=exp["coverage_bp"])
        if i is not None and len(found[i]) < per_arm:
            found[i].append(h)
        n += 1
        assert n < 500
    return found
