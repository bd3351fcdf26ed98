"""Every dashboard table as CSV (UTF-8 with a BOM, so Excel opens it): the columns, in Chinese, per table.

Money is written in 元 from fen (no floats), rates as percentages with two decimals, texts made safe
from spreadsheet formulas the way the order export does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

from fissionmall.core.money import yuan
from fissionmall.orders.export import safe_cell

# (key, header, kind): kind is "fen" (元), "bp" (a rate in %), or "" (as it is).
Column = tuple[str, str, str]

TABLES: dict[str, tuple[str, list[Column]]] = {
    "daily": (
        "每日成交",
        [
            ("day", "日期", ""),
            ("orders", "支付订单", ""),
            ("paid_fen", "支付金额(元)", "fen"),
            ("refund_fen", "当日退款(元)", "fen"),
            ("gmv_fen", "净成交(元)", "fen"),
        ],
    ),
    "non_goods": (
        "储值与付费会员",
        [
            ("label", "类型", ""),
            ("orders", "订单数", ""),
            ("paid_fen", "收款(元)", "fen"),
            ("refund_fen", "退款(元)", "fen"),
            ("net_fen", "净额(元)", "fen"),
        ],
    ),
    "tools": (
        "各工具效果",
        [
            ("label", "工具", ""),
            ("views", "浏览次数", ""),
            ("shares", "分享次数", ""),
            ("participants", "参与人数", ""),
            ("orders", "订单数", ""),
            ("paid_fen", "支付金额(元)", "fen"),
            ("refund_fen", "退款(元)", "fen"),
            ("gmv_fen", "净成交(元)", "fen"),
            ("discount_fen", "优惠成本(元)", "fen"),
            ("commission_fen", "佣金(元)", "fen"),
            ("net_fen", "净收入(元)", "fen"),
            ("new_customers", "带来新客", ""),
        ],
    ),
    "funnels": (
        "转化漏斗",
        [
            ("label", "工具", ""),
            ("viewed", "浏览人数", ""),
            ("participated", "参与人数", ""),
            ("ordered", "下单人数", ""),
            ("paid", "支付人数", ""),
            ("worst", "流失最多的环节", ""),
        ],
    ),
    "distributors": (
        "分销员带单",
        [
            ("nickname", "分销员", ""),
            ("groupbuy", "拼团订单", ""),
            ("seckill", "秒杀订单", ""),
            ("bargain", "砍价订单", ""),
            ("other", "其他订单", ""),
            ("orders", "订单合计", ""),
            ("goods_fen", "计佣金额(元)", "fen"),
            ("commission_fen", "佣金(元)", "fen"),
        ],
    ),
    "repurchase": (
        "复购率",
        [
            ("label", "首单工具", ""),
            ("shoppers", "新客数", ""),
            ("repurchased", "复购人数", ""),
            ("rate_bp", "复购率(%)", "bp"),
        ],
    ),
    "attribution": (
        "归因对比",
        [
            ("label", "工具", ""),
            ("first_orders", "首次触达订单", ""),
            ("first_paid_fen", "首次触达金额(元)", "fen"),
            ("last_orders", "末次触达订单", ""),
            ("last_paid_fen", "末次触达金额(元)", "fen"),
        ],
    ),
}


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "fen":
        return yuan(int(value))
    if kind == "bp":
        return f"{int(value) // 100}.{int(value) % 100:02d}"
    return safe_cell(str(value))


def funnel_rows(funnels: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The funnels flattened into one row per tool (people per step, the worst step's name)."""
    out = []
    for f in funnels:
        row: dict[str, Any] = {"label": f["label"]}
        worst = ""
        for st in f["steps"]:
            row[st["step"]] = st["people"]
            if st["worst"]:
                worst = st["label"]
        row["worst"] = worst
        out.append(row)
    return out


def csv_response(table: str, rows: Iterable[dict[str, Any]], *, start: date, end: date) -> Response:
    """One table as a CSV download named after it and the range."""
    title, cols = TABLES[table]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([h for _, h, _ in cols])
    for r in rows:
        w.writerow([_cell(r.get(k), kind) for k, _, kind in cols])
    stem = f"{start.isoformat()}_{end.isoformat()}"
    name = quote(f"{title}-{stem}.csv")
    headers = {"Content-Disposition": f"attachment; filename=dashboard-{table}-{stem}.csv; filename*=UTF-8''{name}"}
    return Response(("\ufeff" + buf.getvalue()).encode(), media_type="text/csv; charset=utf-8", headers=headers)
