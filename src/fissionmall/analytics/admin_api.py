"""The admin API's dashboard: per-tool figures, funnels, distributors, attribution (`?from=&to=&format=csv`).

Owner, operator and finance only (the `dashboard` permission). Dates are the shop's, both ends included;
without them the last 30 days up to today. `format=csv` downloads the call's table (for `/dashboard`,
`table=` picks daily, non_goods, repurchase or attribution).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import Field

from fissionmall.accounts.deps import Admin, require
from fissionmall.analytics import dashboard as dash
from fissionmall.analytics.dashboard_errors import DashboardError
from fissionmall.analytics.dashboard_export import csv_response, funnel_rows
from fissionmall.analytics.dashboard_schemas import DashboardOut, DistributorsOut, FunnelsOut, ToolsOut
from fissionmall.analytics.rollups import shop_day
from fissionmall.core import clock
from fissionmall.core.deps import DbDep
from fissionmall.core.errors import AppError

admin_router = APIRouter(tags=["admin: data"])

Reader = Annotated[Admin, Depends(require("dashboard"))]
DayQ = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))]
FromQ = Annotated[DayQ | None, Query(alias="from", description="开始日期（店铺时区，含）")]
ToQ = Annotated[DayQ | None, Query(alias="to", description="结束日期（含当天）")]
FormatQ = Annotated[Literal["csv"] | None, Query(description="导出 CSV")]
MAX_DAYS = 366
DEFAULT_DAYS = 30


def date_range(start: date | None, end: date | None) -> tuple[date, date]:
    """The asked range, or the last 30 days to today; refused when reversed or longer than a year."""
    end = end or (start + timedelta(days=DEFAULT_DAYS - 1) if start else shop_day(clock.now()))
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise AppError(DashboardError.DASHBOARD_RANGE_INVALID)
    if (end - start).days + 1 > MAX_DAYS:
        raise AppError(DashboardError.DASHBOARD_RANGE_TOO_LONG, max_days=MAX_DAYS)
    return start, end


@admin_router.get("/dashboard", response_model=DashboardOut)
async def dashboard(
    _: Reader,
    db: DbDep,
    date_from: FromQ = None,
    date_to: ToQ = None,
    format: FormatQ = None,
    table: Annotated[Literal["daily", "non_goods", "repurchase", "attribution"], Query()] = "daily",
) -> dict[str, Any] | Response:
    """The overview (goods GMV net of refunds, top-ups and membership fees apart), its days, repurchase by
    first tool and first/last-touch attribution."""
    start, end = date_range(date_from, date_to)
    async with db.read() as s:
        out: dict[str, Any] = {
            "date_from": start,
            "date_to": end,
            "overview": await dash.overview(s, start=start, end=end),
            "daily": await dash.daily(s, start=start, end=end),
            "repurchase": await dash.repurchase(s, start=start, end=end),
            "attribution": await dash.attribution(s, start=start, end=end),
        }
    if format == "csv":
        rows = out["overview"]["non_goods"] if table == "non_goods" else out[table]
        return csv_response(table, rows, start=start, end=end)
    return out


@admin_router.get("/dashboard/tools", response_model=ToolsOut)
async def dashboard_tools(
    _: Reader, db: DbDep, date_from: FromQ = None, date_to: ToQ = None, format: FormatQ = None
) -> dict[str, Any] | Response:
    """Per tool: participants → orders → paid GMV → discount cost and commission → net; new shoppers."""
    start, end = date_range(date_from, date_to)
    async with db.read() as s:
        items = await dash.tools(s, start=start, end=end)
    if format == "csv":
        return csv_response("tools", items, start=start, end=end)
    return {"date_from": start, "date_to": end, "items": items}


@admin_router.get("/dashboard/funnels", response_model=FunnelsOut)
async def dashboard_funnels(
    _: Reader, db: DbDep, date_from: FromQ = None, date_to: ToQ = None, format: FormatQ = None
) -> dict[str, Any] | Response:
    """Per tool: viewed → participated → ordered → paid, the step that loses most marked."""
    start, end = date_range(date_from, date_to)
    async with db.read() as s:
        items = await dash.funnels(s, start=start, end=end)
    if format == "csv":
        return csv_response("funnels", funnel_rows(items), start=start, end=end)
    return {"date_from": start, "date_to": end, "items": items}


@admin_router.get("/dashboard/distributors", response_model=DistributorsOut)
async def dashboard_distributors(
    _: Reader, db: DbDep, date_from: FromQ = None, date_to: ToQ = None, format: FormatQ = None
) -> dict[str, Any] | Response:
    """Which distributors brought how many group, flash-sale and bargain orders."""
    start, end = date_range(date_from, date_to)
    async with db.read() as s:
        items = await dash.distributors(s, start=start, end=end)
    if format == "csv":
        return csv_response("distributors", items, start=start, end=end)
    return {"date_from": start, "date_to": end, "items": items}
