"""The demo's 风控: the default rules (seeded by the engine on its first decision), decisions in 决策记录
from every tool the demo's shoppers used, a few refusals, and one held withdrawal in 审核队列.

- A phone that signs up four accounts in a minute and claims 满299减50 on each: from the third account on
  the default rule 同一设备 5 分钟内超过 2 个账号 refuses the claim (决策记录 shows the denials).
- The merchant adds one rule of their own through the rules API, 提现满 10 元人工审核（演示店）, and the demo
  distributor asks to withdraw what their referred shoppers' orders earned: the withdrawal is held for a
  reviewer (审核队列), its amount out of the available balance until released or voided.
  The commission must first be available: the history's referred orders (demo/analytics.py, backdated) are
  marked received a day after payment by SQL and last month's settlement is run (`_settle`), the same
  code the monthly job runs, which moves their matured commission to the available balance.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.distribution import rules as dist_rules
from fissionmall.distribution import settlement
from fissionmall.distribution.models import DistributionOrder
from fissionmall.distribution.settlement import shop_tz
from fissionmall.risk import engine

ADMIN = "/api/admin/v1"
API = "/api/v1"
DISTRIBUTOR_CODE = "demo-distributor"
BOT_DEVICE = "demo-bot-phone"
RULE = {
    "name": "demo_withdrawal_review",
    "label": "提现满 10 元人工审核（演示店）",
    "actions": ["withdrawal"],
    "condition": "amount_fen >= 1000",
    "outcome": "review",
    "position": 95,
}
FROZEN_DAYS = 7  # demo/campaigns.py's distribution config


def _ok(r: httpx.Response, *status: int) -> Any:
    if r.status_code not in (status or (200,)):
        raise RuntimeError(f"demo risk: {r.request.method} {r.request.url.path} → {r.status_code} {r.text}")
    return r.json()


async def _login(c: httpx.AsyncClient, code: str, device: str) -> dict[str, str]:
    token = _ok(await c.post(f"{API}/auth/wechat-login", json={"code": code}, headers={"X-Device-Id": device}))
    return {"Authorization": f"Bearer {token['token']}", "X-Device-Id": device}


async def _bot_farm(c: httpx.AsyncClient) -> list[int]:
    """Four accounts on one phone claim the same coupon; the statuses of their claims."""
    codes = []
    for n in range(4):
        me = await _login(c, f"demo-bot-{n}", BOT_DEVICE)
        rows = _ok(await c.get(f"{API}/coupons", headers=me))
        template = next(t for t in (rows["items"] if isinstance(rows, dict) else rows) if t["name"] == "满299减50")
        codes.append((await c.post(f"{API}/coupons/{template['id']}/claim", headers=me)).status_code)
    return codes


async def _settle(db: Database) -> None:
    """The referred orders of the history were received a day after payment (their after-sales window long
    closed); last month's settlement moves their matured commission to the distributor's available balance."""
    now = clock.now()
    async with db.tx() as s:
        due = (
            await s.scalars(
                select(DistributionOrder).where(
                    DistributionOrder.status == "frozen",
                    DistributionOrder.paid_at <= now - timedelta(days=FROZEN_DAYS + 1),
                )
            )
        ).all()
        for do in due:
            do.completed_at = do.paid_at + timedelta(days=1)
            do.matures_at = do.completed_at + timedelta(days=FROZEN_DAYS)
    period = dist_rules.period_of(now.astimezone(shop_tz()).replace(day=1) - timedelta(days=1), shop_tz())
    async with db.tx() as s:
        await settlement.settle(s, period=period)


async def seed(
    c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]], *, db: Database | None = None
) -> dict[str, Any]:
    """Refusals from a bot phone and (with `db`) the demo distributor's held withdrawal; returns their ids."""
    claims = await _bot_farm(c)
    rule = _ok(await c.post(f"{ADMIN}/risk/rules", json=RULE, headers=boss), 201)
    out: dict[str, Any] = {"bot_claims": claims, "rule_id": rule["id"]}
    if db is not None:
        await _settle(db)
        dist = await _login(c, DISTRIBUTOR_CODE, f"{DISTRIBUTOR_CODE}-phone")
        available = int(_ok(await c.get(f"{API}/distribution/me", headers=dist))["available_fen"])
        if available < 1000:
            raise RuntimeError(f"demo risk: the distributor has only {available} fen available to withdraw")
        body = {"amount_fen": available, "real_name": "王阿强"}
        held = _ok(await c.post(f"{API}/distribution/withdrawals", json=body, headers=dist), 201)
        out["withdrawal"] = {"id": held["id"], "status": held["status"], "amount_fen": available}
        await engine.flush_now(db)
    return out
