"""Figures for the distributor centre and the console: balances, team sizes, the ledger page, the
distributor list with its summaries, and the rankings. Reads only (everyone mode may create a row on look).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fissionmall.accounts import service as accounts
from fissionmall.core import clock
from fissionmall.core.db import keyset_page
from fissionmall.distribution.config import get_config
from fissionmall.distribution.distributors import current_distributor
from fissionmall.distribution.ledger import EARNING_KINDS, sum_fen
from fissionmall.distribution.models import Binding, Commission, DistributionOrder, Distributor, ShareVisit
from fissionmall.distribution.settlement import shop_tz


async def nickname(s: AsyncSession, *, customer_id: int) -> str:
    """The shopper's nickname as the console and the bind answer show it (`#id` when unknown)."""
    c = await accounts.get_customer(s, customer_id=customer_id)
    return c.nickname if c else f"#{customer_id}"


async def balances(s: AsyncSession, *, customer_id: int) -> dict[str, int]:
    """A distributor's balance per bucket: frozen, available, withdrawing, withdrawn."""
    rows = await s.execute(
        select(Commission.bucket, func.sum(Commission.amount_fen))
        .where(Commission.distributor_customer_id == customer_id)
        .group_by(Commission.bucket)
    )
    out = {"frozen": 0, "available": 0, "withdrawing": 0, "withdrawn": 0}
    out.update({b: int(v or 0) for b, v in rows.all()})
    return out


async def team_sizes(s: AsyncSession, *, customer_id: int) -> tuple[int, int]:
    """How many shoppers are bound to the distributor (level 1) and to those (level 2)."""
    l1 = await s.scalar(select(func.count()).select_from(Binding).where(Binding.distributor_customer_id == customer_id))
    b1 = aliased(Binding)
    l2 = await s.scalar(
        select(func.count())
        .select_from(Binding)
        .join(b1, b1.customer_id == Binding.distributor_customer_id)
        .where(b1.distributor_customer_id == customer_id)
    )
    return int(l1 or 0), int(l2 or 0)


async def me(s: AsyncSession, *, customer_id: int) -> dict[str, Any]:
    """The distributor centre's figures."""
    d = await current_distributor(s, customer_id=customer_id)
    cfg = await get_config(s)
    bal = await balances(s, customer_id=customer_id)
    l1, l2 = await team_sizes(s, customer_id=customer_id)
    tz = shop_tz()
    local = clock.now().astimezone(tz)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = today.replace(day=1)
    mine = (Commission.distributor_customer_id == customer_id, Commission.kind.in_(EARNING_KINDS))
    rows = (
        await s.scalars(
            select(DistributionOrder)
            .where(
                (DistributionOrder.level1_customer_id == customer_id)
                | (DistributionOrder.level2_customer_id == customer_id)
            )
            .order_by(DistributionOrder.id.desc())
            .limit(20)
        )
    ).all()
    brought = []
    for do in rows:
        mine_fen = await sum_fen(s, Commission.order_id == do.order_id, *mine)
        status = {"frozen": "pending", "matured": "settled", "void": "void"}[do.status]
        if mine_fen <= 0 and do.status != "void":
            status = "refunded"
        brought.append(
            {
                "order_id": do.order_id,
                "level": 1 if do.level1_customer_id == customer_id else 2,
                "goods_fen": do.goods_fen,
                "commission_fen": mine_fen,
                "status": status,
                "bind_origin": do.bind_origin,
                "paid_at": do.paid_at,
            }
        )
    visits = await s.scalar(
        select(func.count()).select_from(ShareVisit).where(ShareVisit.distributor_customer_id == customer_id)
    )
    return {
        "status": d.status if d else None,
        "share_code": d.share_code if d and d.status == "approved" else None,
        "level1_count": l1,
        "level2_count": l2,
        "pending_fen": bal["frozen"],
        "available_fen": bal["available"],
        "withdrawing_fen": bal["withdrawing"],
        "withdrawn_fen": bal["withdrawn"],
        "today_fen": await sum_fen(s, *mine, Commission.created_at >= today),
        "month_fen": await sum_fen(s, *mine, Commission.created_at >= month),
        "total_fen": await sum_fen(s, *mine),
        "visits": int(visits or 0),
        "min_withdraw_fen": cfg.min_withdraw_fen,
        "withdraw_fee_bp": cfg.withdraw_fee_bp,
        "orders": brought,
    }


async def ledger(
    s: AsyncSession, *, customer_id: int, before_id: int | None, limit: int
) -> tuple[list[Commission], str | None]:
    """A distributor's ledger entries newest first; (page, next cursor)."""
    q = select(Commission).where(Commission.distributor_customer_id == customer_id).order_by(Commission.id.desc())
    if before_id:
        q = q.where(Commission.id < before_id)
    return await keyset_page(s, q, limit=limit)


async def list_distributors(
    s: AsyncSession, *, status: str | None = None, before_id: int | None = None, limit: int = 20
) -> tuple[list[dict[str, Any]], str | None]:
    """Distributors newest first, optionally in one status, each with its summary; (page, next cursor)."""
    q = select(Distributor).order_by(Distributor.id.desc())
    if status:
        q = q.where(Distributor.status == status)
    if before_id:
        q = q.where(Distributor.id < before_id)
    rows, nxt = await keyset_page(s, q, limit=limit)
    return [await distributor_summary(s, distributor=d) for d in rows], nxt


async def distributor_summary(s: AsyncSession, *, distributor: Distributor) -> dict[str, Any]:
    """A distributor's row in the console: team size, goods brought, commission earned, available."""
    d = distributor
    l1, _ = await team_sizes(s, customer_id=d.customer_id)
    gmv = await s.scalar(
        select(func.coalesce(func.sum(DistributionOrder.goods_fen), 0)).where(
            DistributionOrder.level1_customer_id == d.customer_id
        )
    )
    return {
        "id": d.id,
        "customer_id": d.customer_id,
        "nickname": await nickname(s, customer_id=d.customer_id),
        "status": d.status,
        "share_code": d.share_code,
        "created_at": d.created_at,
        "level1_count": l1,
        "gmv_fen": int(gmv or 0),
        "commission_fen": await sum_fen(
            s, Commission.distributor_customer_id == d.customer_id, Commission.kind.in_(EARNING_KINDS)
        ),
        "available_fen": await sum_fen(
            s, Commission.distributor_customer_id == d.customer_id, Commission.bucket == "available"
        ),
    }


async def ranking(s: AsyncSession, *, by: str, limit: int = 20) -> list[dict[str, Any]]:
    """Top distributors by the goods amount they brought (level 1) or by net commission earned."""
    earned = (
        select(Commission.distributor_customer_id.label("cid"), func.sum(Commission.amount_fen).label("fen"))
        .where(Commission.kind.in_(EARNING_KINDS))
        .group_by(Commission.distributor_customer_id)
        .subquery()
    )
    brought = (
        select(
            DistributionOrder.level1_customer_id.label("cid"),
            func.count().label("n"),
            func.sum(DistributionOrder.goods_fen).label("gmv"),
        )
        .group_by(DistributionOrder.level1_customer_id)
        .subquery()
    )
    q = (
        select(Distributor.customer_id, brought.c.n, brought.c.gmv, earned.c.fen)
        .outerjoin(brought, brought.c.cid == Distributor.customer_id)
        .outerjoin(earned, earned.c.cid == Distributor.customer_id)
        .where(and_(Distributor.status == "approved"))
    )
    order = func.coalesce(brought.c.gmv, 0) if by == "gmv" else func.coalesce(earned.c.fen, 0)
    rows = (await s.execute(q.order_by(order.desc(), Distributor.customer_id).limit(limit))).all()
    return [
        {
            "customer_id": cid,
            "nickname": await nickname(s, customer_id=cid),
            "orders": int(n or 0),
            "gmv_fen": int(gmv or 0),
            "commission_fen": int(fen or 0),
        }
        for cid, n, gmv, fen in rows
    ]
