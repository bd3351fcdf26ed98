"""What a shopper's level gives now: the level itself, whether they count as a member (for the member
day), and the points multiplier the points tool asks for.

Who is a member: a shopper whose level is above the base level, or one a registered check accepts
(paid membership registers `vip.service.is_member` at merge). The points tool registers
`points_multiplier_bp` as one of its multipliers; neither side imports the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.money import BP
from fissionmall.membership import config, levels
from fissionmall.membership.models import MemberProfile
from fissionmall.membership.rules import LevelSpec
from fissionmall.membership.schemas import MembershipConfigData
from fissionmall.points import earning as points_earning

MemberCheck = Callable[..., Awaitable[bool]]  # fn(s, *, customer_id: int, at: datetime) -> bool

_checks: dict[str, MemberCheck] = {}


def register_member_check(fn: MemberCheck) -> MemberCheck:
    """Count the shoppers `fn(s, *, customer_id, at)` accepts as members (once per function)."""
    _checks[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


def unregister_member_check(fn: MemberCheck) -> None:
    """Tests only: forget a check registered for one test."""
    _checks.pop(f"{fn.__module__}.{fn.__qualname__}", None)


@dataclass(frozen=True)
class Standing:
    """A shopper's level now, with the ladder it sits on."""

    level: LevelSpec
    base: bool  # the base level (普通会员)
    ladder: tuple[LevelSpec, ...]
    birthday: str | None = None
    total_fen: int = 0


async def standing(s: AsyncSession, *, customer_id: int) -> Standing:
    """The level a shopper holds (the base level without a profile, or when theirs was removed)."""
    ladder = await levels.specs(s)
    base = levels.base_of(ladder)
    p = await s.get(MemberProfile, customer_id)
    lv = next((x for x in ladder if p is not None and x.id == p.level_id), base)
    return Standing(
        level=lv,
        base=lv is base or lv.id == base.id,
        ladder=tuple(ladder),
        birthday=p.birthday.isoformat() if p is not None and p.birthday else None,
        total_fen=p.total_fen if p is not None else 0,
    )


async def checked_member(s: AsyncSession, *, customer_id: int, at: datetime) -> bool:
    """Whether a registered check (a paid membership) counts the shopper as a member."""
    for fn in list(_checks.values()):
        if await fn(s, customer_id=customer_id, at=at):
            return True
    return False


async def is_member(s: AsyncSession, *, customer_id: int, at: datetime) -> bool:
    """A level above the base, or a member by a registered check."""
    st = await standing(s, customer_id=customer_id)
    return not st.base or await checked_member(s, customer_id=customer_id, at=at)


def multiplier(st: Standing, *, member: bool, cfg: MembershipConfigData, at: datetime) -> int:
    """The level's points multiplier, doubled on the member day for a member when the day doubles points."""
    bp = st.level.points_multiplier_bp or BP
    if member and cfg.member_day.double_points and config.member_day_now(cfg, at):
        bp *= 2
    return bp


async def points_multiplier_bp(s: AsyncSession, *, customer_id: int, at: datetime) -> int:
    """Basis points (10000 = ×1) the points tool multiplies a shopper's earned points by."""
    st = await standing(s, customer_id=customer_id)
    cfg = await config.get_config(s)
    member = not st.base or await checked_member(s, customer_id=customer_id, at=at)
    return multiplier(st, member=member, cfg=cfg, at=at)


# Points earned on a payment are multiplied by the level's rate (×2 on the member day): points asks every
# registered multiplier, so neither package names the other's tables.
points_earning.register_multiplier(points_multiplier_bp)
