"""Manual adjustments (人工调整): a signed delta with its required reason, recorded with the operator."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.errors import AccountsError
from fissionmall.accounts.models import Customer
from fissionmall.core import clock
from fissionmall.core.errors import AppError, NotFound
from fissionmall.points import ledger
from fissionmall.points.errors import PointsError
from fissionmall.points.expiry import deadline_for
from fissionmall.points.service import get_rules


async def adjust(
    s: AsyncSession, *, customer_id: int, delta: int, reason: str, admin_id: int, key: str | None = None
) -> ledger.Posted:
    """A manual adjustment with its reason and operator; a negative one never takes the balance below zero."""
    if not reason.strip():
        raise AppError(PointsError.REASON_REQUIRED)
    if delta == 0:
        raise AppError(PointsError.DELTA_ZERO)
    if await s.get(Customer, customer_id) is None:
        raise NotFound(AccountsError.CUSTOMER_NOT_FOUND)
    if delta > 0:
        expires = await deadline_for(s, r=await get_rules(s), at=clock.now())
        return await ledger.grant(
            s,
            customer_id=customer_id,
            points=delta,
            kind="adjust",
            ref=key,
            note=reason,
            expires_at=expires,
            operator_id=admin_id,
        )
    try:
        return await ledger.spend(
            s, customer_id=customer_id, points=-delta, kind="adjust", ref=key, note=reason, operator_id=admin_id
        )
    except AppError as e:
        if e.code == PointsError.INSUFFICIENT_POINTS:
            raise AppError(PointsError.ADJUSTMENT_BELOW_ZERO, balance=e.detail.get("balance")) from e
        raise
