"""The shop's membership settings: the member day (会员日) and the level rules (rolling window, stacking
with limited-time discounts), one validated JSON row; defaults until a merchant saves."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import cache, clock
from fissionmall.core.db import is_postgres
from fissionmall.core.errors import AppError
from fissionmall.core.money import BP
from fissionmall.membership import rules
from fissionmall.membership.errors import MembershipError
from fissionmall.membership.models import MembershipConfig
from fissionmall.membership.schemas import LevelRules, MemberDay, MemberDayIn, MemberDayPublic, MembershipConfigData
from fissionmall.settings import get_settings

DEFAULT = MembershipConfigData(
    member_day=MemberDay(enabled=False, day_of_month=18, extra_rate_bp=8000, double_points=True),
    rules=LevelRules(),
)


def shop_tz() -> ZoneInfo:
    """The shop's time zone: the member day and birthdays are its dates."""
    return ZoneInfo(get_settings().timezone)


async def _load_config(s: AsyncSession) -> MembershipConfigData:
    row = await s.get(MembershipConfig, 1)
    return MembershipConfigData.model_validate(row.data) if row else DEFAULT


# Read on every checkout and every paid order: kept per process, versioned like the catalogue (core/cache.py).
_config: cache.Value[MembershipConfigData] = cache.Value("membership")


async def get_config(s: AsyncSession) -> MembershipConfigData:
    """The saved settings, or the defaults (an edit shows within about `cache.POLL_SECONDS`)."""
    return await _config.get(s, _load_config)


async def _save(s: AsyncSession, data: MembershipConfigData) -> None:
    values = {"data": data.model_dump(mode="json"), "updated_at": clock.now()}
    ins = pg_insert(MembershipConfig) if is_postgres(s) else sqlite_insert(MembershipConfig)
    res = await s.execute(ins.values(id=1, **values).on_conflict_do_nothing())
    if not res.rowcount:  # type: ignore[attr-defined]
        await s.execute(update(MembershipConfig).where(MembershipConfig.id == 1).values(**values))
    await cache.bump(s, "membership")


def checked_member_day(data: MemberDayIn) -> MemberDay:
    """The member day as saved, or a refusal: the day 1-28 or 'last', the rate from 1折 to none."""
    day = data.day_of_month
    if isinstance(day, str):
        day = day.strip()
        if day.isdigit():
            day = int(day)
    if not (day == "last" or (isinstance(day, int) and 1 <= day <= 28)):
        raise AppError(MembershipError.MEMBER_DAY_INVALID, field="day_of_month")
    if not rules.MIN_DISCOUNT_BP <= data.extra_rate_bp <= BP:
        raise AppError(MembershipError.MEMBER_DAY_RATE_OUT_OF_RANGE, field="extra_rate_bp")
    return MemberDay(
        enabled=data.enabled, day_of_month=day, extra_rate_bp=data.extra_rate_bp, double_points=data.double_points
    )


async def save_member_day(s: AsyncSession, *, data: MemberDayIn) -> MemberDay:
    """Replace the member day settings."""
    day = checked_member_day(data)
    cfg = await _load_config(s)  # the stored row, not the cached copy: the other half is saved back
    await _save(s, MembershipConfigData(member_day=day, rules=cfg.rules))
    return day


async def save_rules(s: AsyncSession, *, data: LevelRules) -> LevelRules:
    """Replace the level rules (window 1-36 months); the caller queues the levels' recomputation."""
    if not 1 <= data.window_months <= 36:
        raise AppError(MembershipError.WINDOW_OUT_OF_RANGE, field="window_months")
    cfg = await _load_config(s)
    await _save(s, MembershipConfigData(member_day=cfg.member_day, rules=data))
    return data


def member_day_now(cfg: MembershipConfigData, at: datetime) -> bool:
    """Whether `at` falls on the member day (in the shop's zone)."""
    d = cfg.member_day
    return rules.is_member_day(at.astimezone(shop_tz()).date(), enabled=d.enabled, day_of_month=d.day_of_month)


def day_label(d: MemberDay) -> str:
    """How the shop names the member day: 每月18日会员日 · 会员再享8折 · 双倍积分."""
    when = "每月最后一天" if d.day_of_month == "last" else f"每月{d.day_of_month}日"
    parts = [f"{when}会员日"]
    if d.extra_rate_bp < BP:
        parts.append(f"会员再享{rules.zhe(d.extra_rate_bp)}")
    if d.double_points:
        parts.append("双倍积分")
    return " · ".join(parts)


def member_day_public(cfg: MembershipConfigData, at: datetime) -> MemberDayPublic:
    """The member day as the shop's banner reads it."""
    d = cfg.member_day
    today = at.astimezone(shop_tz()).date()
    nxt = rules.next_member_day(today, day_of_month=d.day_of_month) if d.enabled else None
    return MemberDayPublic(
        **d.model_dump(),
        today=member_day_now(cfg, at),
        next_date=nxt.isoformat() if nxt else None,
        label=day_label(d),
    )
