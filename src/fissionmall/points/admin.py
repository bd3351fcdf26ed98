"""Points on the console's 客户 pages: a panel (balance, recent entries), a 积分 column and filter.

The rules' form (积分规则) and the all-shoppers ledger page (积分明细) are not built yet: the API is
(GET/PUT /api/admin/v1/points/rules, GET /api/admin/v1/points/entries).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import Customer
from fissionmall.core import extras
from fissionmall.points import ledger, service
from fissionmall.points.models import PointsAccount, PointsEntry
from fissionmall.web.console import local_time

router = APIRouter(prefix="/admin/points")  # the points pages come with the rules form (not built yet)
NAV: list[Any] = []

FILTER_ZH = {"has": "有积分", "none": "无积分", "debt": "欠积分"}


@extras.contributes(extras.CUSTOMER_PANELS)
async def _customer_points(s: AsyncSession, customer_id: int) -> dict[str, Any]:
    bal = await ledger.balance(s, customer_id=customer_id)
    rows = (
        await s.scalars(
            select(PointsEntry)
            .where(PointsEntry.customer_id == customer_id, PointsEntry.points != 0)
            .order_by(PointsEntry.id.desc())
            .limit(10)
        )
    ).all()
    table = tuple((service.label(e.kind), f"{e.points:+d}", e.note or "", local_time(e.created_at)) for e in rows)
    figures: tuple[tuple[str, extras.Cell], ...] = (("积分余额", str(max(bal, 0))),)
    if bal < 0:
        figures += (("欠积分", str(-bal)),)
    panel = extras.CustomerPanel("积分", 45, figures, ("类型", "积分", "说明", "时间"), table, "暂无积分记录")
    return {"points": panel}


@extras.contributes(extras.CUSTOMER_COLUMNS)
async def _customer_column(s: AsyncSession, customer_ids: list[int]) -> dict[str, Any]:
    got = await service.balances(s, customer_ids=customer_ids)
    return {"积分": {cid: str(got.get(cid, 0)) for cid in customer_ids}}


@extras.contributes(extras.CUSTOMER_FILTERS)
async def _customer_filters(params: dict[str, str]) -> dict[str, Any]:
    want = params.get("points", "")
    positive = Customer.id.in_(select(PointsAccount.customer_id).where(PointsAccount.balance > 0))
    cond = {
        "has": positive,
        "none": ~Customer.id.in_(select(PointsAccount.customer_id).where(PointsAccount.balance != 0)),
        "debt": Customer.id.in_(select(PointsAccount.customer_id).where(PointsAccount.balance < 0)),
    }.get(want)
    fields = (extras.FilterField("select", ("points",), "积分", (("", "不限"), *FILTER_ZH.items())),)
    return {"points": extras.CustomerFilter(fields, cond, order=45)}
