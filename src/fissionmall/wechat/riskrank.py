"""WeChat's user risk rank (getuserriskrank) as a fact the risk rules may name (`wechat_risk_rank`), where
WeChat is configured. Unknown (61010, an error, no openid) is -1: a rule on the rank never refuses on it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from fissionmall.accounts.models import Customer
from fissionmall.core.db import Database
from fissionmall.risk import engine
from fissionmall.risk.decisions import Action, Subject
from fissionmall.settings import get_settings
from fissionmall.wechat.miniprogram import client_for

TTL_SECONDS = 600.0
SIGNUP_ACTS = frozenset({Action.SIGNUP.value, Action.NEW_USER_GIFT.value})
_ranks: dict[tuple[int, int], tuple[float, float]] = {}  # (database, customer) → (rank, when asked)


async def risk_rank(db: Database, *, subject: Subject, facts: Mapping[str, Any]) -> float | None:
    """The rank of the acting shopper (cached ten minutes); -1 when WeChat does not say."""
    settings = get_settings()
    if not settings.wechat_app_id or subject.customer_id is None:
        return None
    key = (id(db), subject.customer_id)
    hit = _ranks.get(key)
    if hit is not None and time.monotonic() - hit[1] < TTL_SECONDS:
        return hit[0]
    async with db.read() as s:
        openid = await s.scalar(select(Customer.openid).where(Customer.id == subject.customer_id))
    rank: float = -1.0
    if openid:
        scene = 0 if str(facts.get("action", "")) in SIGNUP_ACTS else 1
        got = await client_for(settings).user_risk_rank(openid=openid, client_ip=subject.ip or "", scene=scene)
        rank = -1.0 if got is None else float(got)
    if len(_ranks) > 100_000:
        _ranks.clear()
    _ranks[key] = (rank, time.monotonic())
    return rank


engine.provide("wechat_risk_rank", risk_rank)
