"""Helpers for the risk engine's tests: a rulebook of exactly the rules a test names, and acts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from fissionmall.core import cache
from fissionmall.core.db import Database
from fissionmall.risk import decisions, engine, rulestore
from fissionmall.risk.decisions import Action, Outcome, Subject, Verdict
from fissionmall.risk.models import RiskRule


async def only(db: Database, *rules: dict[str, Any]) -> None:
    """Replace the rulebook (seeded first, so the defaults do not come back) with these rules."""
    await rulestore.ensure_seeded(db)
    async with db.tx() as s:
        await s.execute(delete(RiskRule))
        await cache.bump(s, "risk_book")
    for i, r in enumerate(rules):
        body = {"label": r.get("name", f"r{i}"), "actions": [], "outcome": "deny", "penalty": 0, "enabled": True}
        body |= {"position": i, "confirm": True, **r}
        body.setdefault("name", f"rule_{i}")
        await rulestore.save_rule(db, body=body)


def rule(condition: str, **kw: Any) -> dict[str, Any]:
    return {"condition": condition, **kw}


async def act(
    db: Database, action: Action = Action.GROUP_OPEN, facts: dict[str, Any] | None = None, **subject: Any
) -> Verdict:
    subject.setdefault("customer_id", 1)
    return await decisions.check(db, action=action, subject=Subject(**subject), facts=facts)


def denied(v: Verdict) -> bool:
    return v.outcome is Outcome.DENY


async def flushed(db: Database) -> None:
    await engine.flush_now(db)
