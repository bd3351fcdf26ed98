"""Who is a distributor: applying, an operator's decision, share codes, and 人人分销 (everyone mode).

A distributor row moves pending → approved / rejected → disabled by compare-and-set on its status
(rules.DISTRIBUTOR_TRANSITIONS); its share code is what links and posters carry.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, events, extras
from fissionmall.core.errors import AppError, Conflict, Forbidden, NotFound
from fissionmall.distribution import rules
from fissionmall.distribution.config import get_config
from fissionmall.distribution.errors import DistributionError
from fissionmall.distribution.events import DistributorApplied
from fissionmall.distribution.ledger import insert_ignore, move_status
from fissionmall.distribution.models import Distributor
from fissionmall.distribution.settlement import ensure_settlement_scheduled

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
CODE_LEN = 8


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LEN))


async def get_distributor(s: AsyncSession, *, customer_id: int) -> Distributor | None:
    """The shopper's distributor row, whatever its status (None: never applied)."""
    return await s.scalar(select(Distributor).where(Distributor.customer_id == customer_id))


async def _create_distributor(s: AsyncSession, customer_id: int, status: str) -> Distributor:
    for _ in range(5):  # a code collision (32^8 codes) is retried with a fresh code
        code = _new_code()
        now = clock.now()
        await insert_ignore(
            s,
            Distributor,
            {
                "customer_id": customer_id,
                "status": status,
                "share_code": code,
                "withdraw_seq": 0,
                "created_at": now,
                "decided_at": now if status == "approved" else None,
            },
        )
        d = await get_distributor(s, customer_id=customer_id)
        if d is not None:
            return d
    raise Conflict(DistributionError.SHARE_CODE_CONFLICT)


async def apply(s: AsyncSession, *, customer_id: int) -> Distributor:
    """One-tap application: approved at once (auto / everyone) or queued for an operator (manual)."""
    cfg = await get_config(s)
    if not cfg.enabled:
        raise AppError(DistributionError.DISTRIBUTION_DISABLED)
    d = await get_distributor(s, customer_id=customer_id)
    target = "pending" if cfg.approval == "manual" else "approved"
    if d is None:
        d = await _create_distributor(s, customer_id, target)
    elif d.status == "rejected":
        await _distributor_cas(s, d.id, target, decided_at=clock.now() if target == "approved" else None)
    elif d.status == "disabled":
        raise Forbidden(DistributionError.DISTRIBUTOR_DISABLED)
    await ensure_settlement_scheduled(s)
    s.expire_all()
    d = await get_distributor(s, customer_id=customer_id)
    assert d is not None
    await events.publish(s, DistributorApplied(distributor_id=d.id, customer_id=customer_id, status=d.status))
    return d


async def current_distributor(s: AsyncSession, *, customer_id: int) -> Distributor | None:
    """The shopper's distributor row; 人人分销: in `everyone` mode a shopper is one as soon as they look."""
    d = await get_distributor(s, customer_id=customer_id)
    if d is None:
        cfg = await get_config(s)
        if cfg.enabled and cfg.approval == "everyone":
            d = await _create_distributor(s, customer_id, "approved")
    return d


async def _distributor_cas(s: AsyncSession, distributor_id: int, target: str, **values: Any) -> bool:
    return await move_status(s, Distributor, distributor_id, rules.DISTRIBUTOR_TRANSITIONS, target, **values)


async def decide_distributor(s: AsyncSession, *, distributor_id: int, approve: bool, admin_id: int) -> Distributor:
    """An operator approves or rejects an application (or disables / re-enables a distributor)."""
    d = await s.get(Distributor, distributor_id)
    if d is None:
        raise NotFound(DistributionError.DISTRIBUTOR_NOT_FOUND)
    if approve:
        target = "approved"
    else:
        target = "rejected" if d.status == "pending" else "disabled"
    if not await _distributor_cas(s, d.id, target, decided_at=clock.now(), decided_by=admin_id):
        raise Conflict(DistributionError.DISTRIBUTOR_STATE_INVALID)
    await s.refresh(d)
    return d


async def by_code(s: AsyncSession, *, ref: str) -> Distributor:
    """The approved distributor behind a share code; an unknown, forged or inactive code is refused."""
    d = await s.scalar(select(Distributor).where(Distributor.share_code == ref.strip().upper()))
    if d is None or d.status != "approved":
        raise AppError(DistributionError.REF_UNKNOWN)
    return d


async def is_distributor(s: AsyncSession, *, customer_id: int) -> bool:
    """Whether the shopper is an approved distributor."""
    d = await get_distributor(s, customer_id=customer_id)
    return d is not None and d.status == "approved"


@extras.contributes(extras.ME)
async def _me(s: AsyncSession, *, customer_id: int) -> dict[str, Any]:
    return {"is_distributor": await is_distributor(s, customer_id=customer_id)}
