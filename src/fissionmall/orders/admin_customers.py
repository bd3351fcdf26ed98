"""The customer pages' orders: the 客户 list's spend and last-order filters and columns, and a shopper's 订单
card (customers/admin.py reads them through core/extras.py). A console module beside orders/admin.py, which
imports it (so its contributions register with the console) and its `day_of`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import extras
from fissionmall.orders import by_customer
from fissionmall.orders.export import ORDER_STATUS_ZH
from fissionmall.web.console import fen_from_yuan, local_time, money, shop_zone


def day_of(text: str) -> date | None:
    """A date typed in a filter ('2026-12-03'); None for anything else or a year outside 2000–2099."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return day if date(2000, 1, 1) <= day <= date(2099, 12, 31) else None


@extras.contributes(extras.CUSTOMER_FILTERS)
async def _customer_filters(params: dict[str, str]) -> dict[str, Any]:
    errors: list[tuple[str, str]] = []
    fen = {k: fen_from_yuan(params[k]) if params.get(k) else None for k in ("spend_min", "spend_max")}
    errors += [(k, "请填写金额（元），如 199 或 19.90") for k, v in fen.items() if params.get(k) and v is None]
    days = {k: day_of(params[k]) if params.get(k) else None for k in ("ordered_from", "ordered_to")}
    errors += [(k, "请选择日期") for k, v in days.items() if params.get(k) and v is None]
    start, end, zone = days["ordered_from"], days["ordered_to"], shop_zone()
    where = [
        by_customer.spend_where(min_fen=fen["spend_min"], max_fen=fen["spend_max"]),
        by_customer.last_order_where(
            start=datetime.combine(start, time.min, tzinfo=zone) if start else None,
            end=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone) if end else None,
        ),
    ]
    found = [w for w in where if w is not None]
    fields = (
        extras.FilterField("yuan_range", ("spend_min", "spend_max"), "累计消费", hint="实付减退款，单位元"),
        extras.FilterField("date_range", ("ordered_from", "ordered_to"), "最近下单"),
    )
    return {"orders": extras.CustomerFilter(fields, and_(*found) if found else None, tuple(errors), order=10)}


@extras.contributes(extras.CUSTOMER_COLUMNS)
async def _customer_columns(s: AsyncSession, customer_ids: list[int]) -> dict[str, Any]:
    figures = await by_customer.figures_of(s, customer_ids=customer_ids)
    return {
        "累计消费": {cid: money(fen) for cid, (_, fen, _) in figures.items()},
        "最近下单": {cid: local_time(at, "%Y-%m-%d") for cid, (_, _, at) in figures.items()},
    }


@extras.contributes(extras.CUSTOMER_PANELS)
async def _customer_orders(s: AsyncSession, customer_id: int) -> dict[str, Any]:
    paid, spent, _ = (await by_customer.figures_of(s, customer_ids=[customer_id])).get(customer_id, (0, 0, None))
    total = await by_customer.order_count(s, customer_id=customer_id)
    table = tuple(
        (
            (o.no, f"/admin/orders/{o.id}"),
            local_time(o.created_at),
            ORDER_STATUS_ZH.get(o.status, o.status),
            money(o.payable_fen),
        )
        for o in await by_customer.recent_orders(s, customer_id=customer_id)
    )
    rows = (("下单", f"{total} 笔"), ("已支付", f"{paid} 笔"), ("累计消费", money(spent)))
    head = ("订单号", "下单时间", "状态", "应付")
    return {"orders": extras.CustomerPanel("订单", 10, rows, head, table, "还没有下过单")}
