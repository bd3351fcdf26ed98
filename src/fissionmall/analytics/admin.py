"""The console's 数据中心 (/admin/data): the dashboard's figures for a date range with ECharts charts
(vendored in web/static/vendor/echarts/, no CDN), every table downloadable as CSV, and a card on 概览."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.analytics import dashboard as dash
from fissionmall.analytics.admin_api import date_range
from fissionmall.analytics.dashboard_export import TABLES, csv_response, funnel_rows
from fissionmall.core.errors import AppError
from fissionmall.web.console import Console, console, dashboard_part, error_text, render

router = APIRouter(prefix="/admin/data", include_in_schema=False)
NAV = [
    {
        "key": "data",
        "label": "数据中心",
        "href": "/admin/data",
        "permission": "dashboard",
        "section": "marketing",
        "icon": "dashboard",
    }
]

Read = Annotated[Console, Depends(console("dashboard"))]
DayQ = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))]
Table = Literal["daily", "non_goods", "tools", "funnels", "distributors", "repurchase", "attribution"]


async def figures(s: AsyncSession, *, start: date, end: date) -> dict[str, Any]:
    """Everything the page shows for the range."""
    return {
        "overview": await dash.overview(s, start=start, end=end),
        "daily": await dash.daily(s, start=start, end=end),
        "tools": await dash.tools(s, start=start, end=end),
        "funnels": await dash.funnels(s, start=start, end=end),
        "distributors": await dash.distributors(s, start=start, end=end),
        "repurchase": await dash.repurchase(s, start=start, end=end),
        "attribution": await dash.attribution(s, start=start, end=end),
    }


def chart_data(f: dict[str, Any]) -> str:
    """The charts' series as JSON for dashboard.js (money in 元 as numbers for the axes only)."""
    return json.dumps(
        {
            "daily": {
                "days": [d["day"][5:] for d in f["daily"]],
                "gmv": [d["gmv_fen"] / 100 for d in f["daily"]],
                "orders": [d["orders"] for d in f["daily"]],
            },
            "tools": {
                "labels": [t["label"] for t in f["tools"]],
                "gmv": [t["gmv_fen"] / 100 for t in f["tools"]],
                "cost": [(t["discount_fen"] + t["commission_fen"]) / 100 for t in f["tools"]],
            },
            "funnels": [
                {
                    "label": x["label"],
                    "steps": [st["label"] for st in x["steps"]],
                    "people": [st["people"] for st in x["steps"]],
                    "worst": next((i for i, st in enumerate(x["steps"]) if st["worst"]), -1),
                }
                for x in f["funnels"]
            ],
        },
        ensure_ascii=False,
    )


def _day(raw: str | None) -> date | None:
    """A page's date field: empty is None; not a date from 2000 to 2099 is a ValueError."""
    raw = (raw or "").strip()
    if not raw:
        return None
    day = date.fromisoformat(raw)
    if not date(2000, 1, 1) <= day <= date(2099, 12, 31):
        raise ValueError(raw)
    return day


@router.get("", response_class=HTMLResponse)
async def data_page(
    ctx: Read,
    date_from: Annotated[str | None, Query(alias="from", max_length=32)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=32)] = None,
) -> HTMLResponse:
    """数据中心: the overview, per-tool figures, funnels, distributors, repurchase and attribution. A date
    left empty is the default's; a malformed one is said on the page (not a JSON error) and the default shown."""
    error = ""
    try:
        start, end = date_range(_day(date_from), _day(date_to))
    except ValueError:
        error = "日期格式不正确，请重新选择"
        start, end = date_range(None, None)
    except AppError as exc:
        error = error_text(exc)
        start, end = date_range(None, None)
    async with ctx.db.read() as s:
        f = await figures(s, start=start, end=end)
    return render(
        ctx,
        "analytics/data.html",
        active="data",
        start=start,
        end=end,
        f=f,
        charts=chart_data(f),
        error=error,
        TABLES=TABLES,
    )


@router.get("/export/{table}")
async def data_export(
    table: Table,
    ctx: Read,
    date_from: Annotated[DayQ | None, Query(alias="from")] = None,
    date_to: Annotated[DayQ | None, Query(alias="to")] = None,
) -> Response:
    """One of the page's tables as a CSV download."""
    start, end = date_range(date_from, date_to)
    async with ctx.db.read() as s:
        f = await figures(s, start=start, end=end)
    rows = {"non_goods": f["overview"]["non_goods"], "funnels": funnel_rows(f["funnels"])}.get(table, f.get(table))
    return csv_response(table, rows or [], start=start, end=end)


@dashboard_part("dashboard")
async def _data_card(ctx: Console, s: AsyncSession) -> dict[str, Any]:
    return {"data_center": "/admin/data"}
