"""The merchant's data settings: the attribution window (days), one row, defaults until saved.

Read on every paid order's attribution: kept per process and versioned (core/cache.py), so an edit shows
within about `cache.POLL_SECONDS`. The console may offer it on the dashboard page (`set_window_days`).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.analytics.errors import AnalyticsError
from fissionmall.analytics.models import AnalyticsConfig
from fissionmall.core import cache, clock
from fissionmall.core.db import is_postgres
from fissionmall.core.errors import AppError

DEFAULT_WINDOW_DAYS = 7
MAX_WINDOW_DAYS = 90
_window: cache.Value[int] = cache.Value("analytics")


async def _load(s: AsyncSession) -> int:
    row = await s.get(AnalyticsConfig, 1)
    return row.window_days if row is not None else DEFAULT_WINDOW_DAYS


async def ensure_row(s: AsyncSession) -> None:
    """The settings row exists (id 1), with the defaults when nobody saved one."""
    ins = pg_insert(AnalyticsConfig) if is_postgres(s) else sqlite_insert(AnalyticsConfig)
    values = {"id": 1, "window_days": DEFAULT_WINDOW_DAYS, "seckill_watermark": 0, "updated_at": clock.now()}
    await s.execute(ins.values(**values).on_conflict_do_nothing())


async def get_window_days(s: AsyncSession) -> int:
    """The attribution window in days: touches older than this before the payment do not count."""
    return await _window.get(s, _load)


async def set_window_days(s: AsyncSession, *, days: int) -> int:
    """Save the attribution window (1 to 90 days); orders paid later use it, attributed ones keep theirs."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_WINDOW_DAYS:
        raise AppError(AnalyticsError.WINDOW_DAYS_INVALID)
    await ensure_row(s)
    await s.execute(
        update(AnalyticsConfig).where(AnalyticsConfig.id == 1).values(window_days=days, updated_at=clock.now())
    )
    await cache.bump(s, "analytics")
    return days
