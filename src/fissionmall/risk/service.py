"""The risk gate: limits an operator tunes, path tokens, captcha, and rate limits for the embedded path.

On the Redis path the rate limits are counted inside the flash-sale Lua script (one round trip); the
embedded path counts them here through core.kv. Limits are read from the database at most every few
seconds, in the background, so the hot path never waits on it.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fissionmall.core import clock
from fissionmall.core.db import Database, is_postgres
from fissionmall.core.errors import AppError, CoreError, TooMany
from fissionmall.core.kv import get_kv
from fissionmall.risk import rules
from fissionmall.risk.errors import RiskError
from fissionmall.risk.models import RiskRules
from fissionmall.risk.rules import HelpFacts, HelpLimits, Limits

SCOPE = "seckill"
HELP_SCOPE = "bargain_help"
_REFRESH_SECONDS = 3.0
_cache: tuple[Limits, float] | None = None
_refreshing: asyncio.Task[None] | None = None
_help_cache: tuple[HelpLimits, float] | None = None


async def _load(db: Database) -> Limits:
    async with db.read() as s:
        row = await s.scalar(select(RiskRules.rules).where(RiskRules.scope == SCOPE))
    return Limits.from_dict(row) if row else Limits()


async def _refresh(db: Database) -> None:
    global _cache
    _cache = (await _load(db), time.monotonic())


async def limits(db: Database) -> Limits:
    """The limits in force: cached; a stale cache is served while a refresh runs in the background."""
    global _refreshing
    if _cache is None:
        await _refresh(db)
        assert _cache is not None
        return _cache[0]
    value, at = _cache
    if time.monotonic() - at > _REFRESH_SECONDS and (_refreshing is None or _refreshing.done()):
        _refreshing = asyncio.ensure_future(_refresh(db))
    return value


def forget() -> None:
    """Drop the caches (tests, and after an operator edits the limits)."""
    global _cache, _help_cache
    _cache = None
    _help_cache = None


async def save_limits(db: Database, *, new: Limits) -> Limits:
    """Store the merchant's risk limits (one row, upserted) and return them."""
    async with db.tx() as s:
        ins = pg_insert(RiskRules) if is_postgres(s) else sqlite_insert(RiskRules)
        stmt = ins.values(scope=SCOPE, rules=new.to_dict(), updated_at=clock.now())
        await s.execute(
            stmt.on_conflict_do_update(
                index_elements=["scope"], set_={"rules": stmt.excluded.rules, "updated_at": stmt.excluded.updated_at}
            )
        )
    forget()
    return new


def issue_token(secret: str, *, item_id: int, customer_id: int) -> tuple[str, int]:
    """A one-time path token for this shopper and item, and when it expires (epoch seconds)."""
    expires = int(clock.now().timestamp()) + rules.TOKEN_TTL_SECONDS
    return rules.sign_token(secret, item_id=item_id, customer_id=customer_id, expires=expires), expires


def token_nonce(secret: str, token: str | None, *, item_id: int, customer_id: int) -> str:
    """The nonce of a genuine token, or BAD_TOKEN (missing, forged, another shopper's or item's, expired)."""
    if not token:
        raise AppError(RiskError.BAD_TOKEN)
    nonce = rules.read_token(secret, token, item_id=item_id, customer_id=customer_id, now=int(clock.now().timestamp()))
    if nonce is None:
        raise AppError(RiskError.BAD_TOKEN)
    return nonce


def captcha_passed(secret: str, captcha_id: str | None, answer: str | None, *, customer_id: int) -> bool:
    """Whether the captcha answer is right for this shopper and still fresh."""
    if not captcha_id or answer is None:
        return False
    return rules.check_captcha(secret, captcha_id, answer, customer_id=customer_id, now=int(clock.now().timestamp()))


async def gate_embedded(lim: Limits, *, customer_id: int, ip: str, device_id: str | None, captcha_ok: bool) -> None:
    """Sliding-window limits per shopper, address and device, and the captcha soft limit (embedded path)."""
    kv = get_kv()
    w = float(lim.window_seconds)
    checks = [(f"sk:ip:{ip}", lim.per_ip)]
    if device_id:
        checks.append((f"sk:dev:{device_id}", lim.per_device))
    for key, limit in checks:
        if not await kv.allow(key, limit=limit, window_seconds=w):
            raise TooMany(CoreError.RATE_LIMITED)
    if not await kv.allow(f"sk:user:{customer_id}", limit=lim.per_user, window_seconds=w):
        raise TooMany(CoreError.RATE_LIMITED)
    if not captcha_ok and not await kv.allow(f"sk:soft:{customer_id}", limit=lim.captcha_after, window_seconds=w):
        raise TooMany(RiskError.CAPTCHA_REQUIRED)


async def help_limits(db: Database) -> HelpLimits:
    """The bargain-help gate's limits in force (read at most every few seconds)."""
    global _help_cache
    if _help_cache is not None and time.monotonic() - _help_cache[1] <= _REFRESH_SECONDS:
        return _help_cache[0]
    async with db.read() as s:
        row = await s.scalar(select(RiskRules.rules).where(RiskRules.scope == HELP_SCOPE))
    _help_cache = (HelpLimits.from_dict(row) if row else HelpLimits(), time.monotonic())
    return _help_cache[0]


async def save_help_limits(db: Database, *, new: HelpLimits) -> HelpLimits:
    """Store the bargain-help gate's limits (one row, upserted) and return them."""
    async with db.tx() as s:
        ins = pg_insert(RiskRules) if is_postgres(s) else sqlite_insert(RiskRules)
        stmt = ins.values(scope=HELP_SCOPE, rules=new.to_dict(), updated_at=clock.now())
        await s.execute(
            stmt.on_conflict_do_update(
                index_elements=["scope"], set_={"rules": stmt.excluded.rules, "updated_at": stmt.excluded.updated_at}
            )
        )
    forget()
    return new


def gate_help(lim: HelpLimits, facts: HelpFacts) -> None:
    """Refuse a bargain help the gate judges abusive, with the reason in the shopper's words."""
    code = rules.help_refusal(lim, facts)
    if code is not None:
        raise AppError(RiskError(code))
