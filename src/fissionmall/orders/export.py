"""The filtered order list as a spreadsheet (导出 Excel / CSV), streamed a chunk at a time.

Rows are read by keyset in chunks of `CHUNK` orders, each chunk in its own short read transaction, and
written out before the next is read: a 200,000-order export holds one chunk in memory, never the list.
CSV goes straight to the response; xlsx is written by openpyxl's write-only mode into a temporary file
(a zip cannot be streamed before it is finished), which is then streamed and deleted. Above
`export_max_rows` the export is refused (EXPORT_TOO_LARGE, with the count) before anything is written.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import anyio
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts import service as accounts
from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.core.errors import AppError
from fissionmall.core.money import yuan
from fissionmall.orders.errors import OrderToolsError
from fissionmall.orders.models import Order
from fissionmall.orders.tools import OrderFilter, where_of
from fissionmall.orders.virtual import title_of

CHUNK = 500
HEADER = (
    "订单号",
    "下单时间",
    "状态",
    "来源",
    "买家",
    "手机",
    "收货人",
    "地址",
    "商品",
    "数量",
    "实付(元)",
    "运费(元)",
    "优惠(元)",
    "备注",
    "物流公司",
    "运单号",
)
ORDER_STATUS_ZH = {
    "pending_payment": "待付款",
    "paid": "待发货",
    "shipped": "已发货",
    "received": "已收货",
    "completed": "已完成",
    "cancelled": "已取消",
    "closed": "已关闭",
}
# The tools' order sources too (their codes are the `name` each registers): a merchant reads 储值充值, not wallet_topup.
SOURCE_ZH = {
    "normal": "普通订单",
    "seckill": "秒杀",
    "groupbuy": "拼团",
    "bargain": "砍价",
    "vip": "付费会员",
    "wallet_topup": "储值充值",
    "points_mall": "积分兑换",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


async def count_filtered(s: AsyncSession, *, f: OrderFilter, zone: ZoneInfo) -> int:
    """How many orders the filter selects."""
    return int(await s.scalar(select(func.count()).select_from(Order).where(*await where_of(s, f=f, zone=zone))) or 0)


async def check_size(db: Database, *, f: OrderFilter, zone: ZoneInfo, max_rows: int) -> int:
    """The filter's count, or EXPORT_TOO_LARGE (with the count and the cap) above `max_rows`."""
    async with db.read() as s:
        n = await count_filtered(s, f=f, zone=zone)
    if n > max_rows:
        raise AppError(OrderToolsError.EXPORT_TOO_LARGE, count=n, max_rows=max_rows)
    return n


def _remark(o: Order) -> str:
    parts = [f"买家留言：{o.remark}" if o.remark else "", f"商家备注：{o.merchant_remark}" if o.merchant_remark else ""]
    return "；".join(p for p in parts if p)


def order_row(o: Order, nickname: str, zone: ZoneInfo) -> list[str]:
    """One order as the export's cells (text; money as 元 from fen, no floats)."""
    a = o.address or {}
    return [
        safe_cell(str(v))
        for v in (
            o.no,
            o.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            ORDER_STATUS_ZH.get(o.status, o.status),
            SOURCE_ZH.get(o.source, o.source),
            nickname,
            a.get("phone", ""),
            a.get("name", ""),
            " ".join(x for x in (a.get("region", ""), a.get("detail", "")) if x),
            "；".join(f"{ln.title}（{ln.sku_name}）×{ln.qty}" for ln in o.lines) or title_of(o),
            sum(ln.qty for ln in o.lines),
            yuan(o.paid_fen),
            yuan(o.shipping_fen),
            yuan(o.discount_fen),
            _remark(o),
            o.carrier or "",
            o.tracking_no or "",
        )
    ]


async def rows(db: Database, *, f: OrderFilter, zone: ZoneInfo, max_rows: int) -> AsyncIterator[list[list[str]]]:
    """The filtered orders' rows, newest first, one chunk (a short read transaction) at a time."""
    before: int | None = None
    sent = 0
    while sent < max_rows:
        async with db.read() as s:
            stmt = select(Order).where(*await where_of(s, f=f, zone=zone)).order_by(Order.id.desc())
            if before is not None:
                stmt = stmt.where(Order.id < before)
            chunk: Sequence[Order] = (await s.scalars(stmt.limit(min(CHUNK, max_rows - sent)))).all()
            if not chunk:
                return
            names = await accounts.nicknames_of(s, customer_ids=[o.customer_id for o in chunk])
            out = [order_row(o, names.get(o.customer_id, ""), zone) for o in chunk]
        before, sent = chunk[-1].id, sent + len(chunk)
        yield out


async def csv_stream(db: Database, *, f: OrderFilter, zone: ZoneInfo, max_rows: int) -> AsyncIterator[bytes]:
    """The CSV, UTF-8 with a BOM (Excel opens it as UTF-8), chunk by chunk."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    yield ("\ufeff" + buf.getvalue()).encode()
    async for chunk in rows(db, f=f, zone=zone, max_rows=max_rows):
        buf.seek(0)
        buf.truncate()
        writer.writerows(chunk)
        yield buf.getvalue().encode()


def _new_workbook() -> tuple[Any, Any]:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("订单")
    ws.append(list(HEADER))
    return wb, ws


def _append(ws: Any, chunk: list[list[str]]) -> None:
    for r in chunk:
        ws.append(r)


async def xlsx_stream(db: Database, *, f: OrderFilter, zone: ZoneInfo, max_rows: int) -> AsyncIterator[bytes]:
    """The xlsx: rows appended in openpyxl's write-only mode (kept on disk, not in memory) into a
    temporary file, which is streamed in 64 KB pieces and removed."""
    wb, ws = _new_workbook()
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="fm-export-")
    os.close(fd)
    try:
        async for chunk in rows(db, f=f, zone=zone, max_rows=max_rows):
            await anyio.to_thread.run_sync(_append, ws, chunk)
        await anyio.to_thread.run_sync(wb.save, path)
        async with await anyio.open_file(path, "rb") as fh:
            while piece := await fh.read(65536):
                yield piece
    finally:
        os.unlink(path)


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def response(db: Database, *, f: OrderFilter, zone: ZoneInfo, fmt: str, max_rows: int) -> StreamingResponse:
    """The filtered list as a streamed CSV or xlsx download (EXPORT_TOO_LARGE above `max_rows`)."""
    await check_size(db, f=f, zone=zone, max_rows=max_rows)
    stamp = clock.now().astimezone(zone).strftime("%Y%m%d%H%M%S")
    name = quote(f"订单导出-{stamp}.{fmt}")
    headers = {"Content-Disposition": f"attachment; filename=orders-{stamp}.{fmt}; filename*=UTF-8''{name}"}
    if fmt == "csv":
        body = csv_stream(db, f=f, zone=zone, max_rows=max_rows)
        return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers=headers)
    return StreamingResponse(xlsx_stream(db, f=f, zone=zone, max_rows=max_rows), media_type=XLSX_TYPE, headers=headers)
