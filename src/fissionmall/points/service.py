"""Points for the shopper and the merchant: the rules row, the balance with what expires soon, the ledger's
pages, manual adjustments, and /me's `points`."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import cache, clock, extras
from fissionmall.core.db import keyset_page
from fissionmall.points import ledger
from fissionmall.points.models import PointsAccount, PointsEntry, PointsRules
from fissionmall.points.rules import year_end_after_next
from fissionmall.points.schemas import PointsPublic, RulesUpdate
from fissionmall.settings import get_settings

LABELS = {
    "earn": "购物奖励",
    "earn_back": "退款扣回",
    "spend": "下单抵扣",
    "spend_back": "抵扣退回",
    "signin": "每日签到",
    "review": "评价奖励",
    "leader": "团长奖励",
    "adjust": "人工调整",
    "expire": "积分过期",
    "redeem": "积分兑换",
    "redeem_back": "兑换退回",
}


def shop_tz() -> ZoneInfo:
    """The shop's time zone: sign-in days and expiry years are counted in it."""
    return ZoneInfo(get_settings().timezone)


def label(kind: str) -> str:
    """The Chinese name of an entry's kind."""
    return LABELS.get(kind, "积分变动")


def expires_for(r: RulesUpdate, *, at: datetime) -> datetime | None:
    """When points credited at `at` expire under the rules (None: never)."""
    return year_end_after_next(at, shop_tz()) if r.expiry == "next_year_end" else None


async def _load_rules(s: AsyncSession) -> RulesUpdate:
    row = await s.get(PointsRules, 1)
    return RulesUpdate.model_validate(row.data) if row else RulesUpdate()


# Read by every checkout and every paid order: kept per process, versioned (core/cache.py).
_rules: cache.Value[RulesUpdate] = cache.Value("points_rules")


async def get_rules(s: AsyncSession) -> RulesUpdate:
    """The merchant's points rules (defaults, off, until saved; an edit shows within about a second)."""
    return (await _rules.get(s, _load_rules)).model_copy(deep=True)  # a caller's change stays its own


async def save_rules(s: AsyncSession, *, data: RulesUpdate, admin_id: int | None) -> RulesUpdate:
    """Replace the rules (validated by the schema)."""
    values = {"data": data.model_dump(mode="json"), "updated_at": clock.now(), "updated_by": admin_id}
    if await s.get(PointsRules, 1) is None:
        s.add(PointsRules(id=1, **values))
        await s.flush()
    else:
        await s.execute(update(PointsRules).where(PointsRules.id == 1).values(**values))
    await cache.bump(s, "points_rules")
    return data


async def expiring(s: AsyncSession, *, customer_id: int, at: datetime) -> tuple[int, datetime | None]:
    """What of the balance expires at the next deadline after `at` (soonest-expiring points are spent first)."""
    nxt = await s.scalar(
        select(func.min(PointsEntry.expires_at)).where(
            PointsEntry.customer_id == customer_id, PointsEntry.points > 0, PointsEntry.expires_at > at
        )
    )
    if nxt is None:
        return 0, None
    return await expirable(s, customer_id=customer_id, deadline=nxt), nxt


async def expirable(s: AsyncSession, *, customer_id: int, deadline: datetime) -> int:
    """Points of credits expiring by `deadline` still unspent: max(0, those credits − every debit so far)."""
    credits = await s.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
            PointsEntry.customer_id == customer_id, PointsEntry.points > 0, PointsEntry.expires_at <= deadline
        )
    )
    debits = await s.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
            PointsEntry.customer_id == customer_id, PointsEntry.points < 0
        )
    )
    bal = await ledger.balance(s, customer_id=customer_id)
    return max(0, min(int(credits or 0) + int(debits or 0), bal))


async def overview(s: AsyncSession, *, customer_id: int) -> PointsPublic:
    """GET /points: what can be spent, any debt, what expires next, and the spend rate."""
    r = await get_rules(s)
    bal = await ledger.balance(s, customer_id=customer_id)
    soon, at = await expiring(s, customer_id=customer_id, at=clock.now())
    return PointsPublic(
        points=max(bal, 0),
        debt=max(-bal, 0),
        expiring_points=soon,
        expiring_at=at if soon else None,
        spend_points_per_yuan=r.spend_points_per_yuan,
        spend_unit=r.spend_unit,
        enabled=r.enabled,
    )


async def entries(
    s: AsyncSession, *, customer_id: int | None, before_id: int | None, limit: int, kind: str | None = None
) -> tuple[list[PointsEntry], str | None]:
    """One page of entries, newest first (one shopper's, or every shopper's for the console)."""
    q = select(PointsEntry).where(PointsEntry.points != 0).order_by(PointsEntry.id.desc())
    if customer_id is not None:
        q = q.where(PointsEntry.customer_id == customer_id)
    if kind:
        q = q.where(PointsEntry.kind == kind)
    if before_id is not None:
        q = q.where(PointsEntry.id < before_id)
    return await keyset_page(s, q, limit=limit)


async def balances(s: AsyncSession, *, customer_ids: list[int]) -> dict[int, int]:
    """Balances of several shoppers (the console's list)."""
    if not customer_ids:
        return {}
    rows = await s.execute(
        select(PointsAccount.customer_id, PointsAccount.balance).where(PointsAccount.customer_id.in_(customer_ids))
    )
    return {int(c): int(b) for c, b in rows.all()}


@extras.contributes(extras.ME)
async def _me(s: AsyncSession, customer_id: int) -> dict[str, object]:
    return {"points": max(await ledger.balance(s, customer_id=customer_id), 0)}
