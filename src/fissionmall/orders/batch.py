"""批量发货: ship many orders from an uploaded CSV or xlsx of 订单号, 物流公司, 运单号.

The whole file is read and its shape checked first (a header with the three columns, at most
`MAX_ROWS` rows): a file of the wrong shape is refused with BATCH_FILE_INVALID and nothing ships. Then
each row ships in its own transaction through the ordinary ship transition (`service.ship`, a
compare-and-set from `paid`), so a bad row changes nothing and is reported, the good rows ship, and a
row repeated or an order shipped already is refused by the transition itself: an order ships once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from fissionmall.core.db import Database
from fissionmall.core.errors import AppError
from fissionmall.core.http import allow_uploads
from fissionmall.orders import service
from fissionmall.orders.errors import OrderToolsError
from fissionmall.orders.schemas import ShipmentCreate
from fissionmall.orders.tools import order_id_by_no
from fissionmall.settings import Settings

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
# The file may be larger than the 1 MB every other body is held to (core/http.py): the API call and the
# console's upload get the file cap plus the multipart envelope, and a larger body is BATCH_TOO_LARGE.
for _path in ("/api/admin/v1/orders/batch-ship", "/admin/orders/batch-ship"):
    allow_uploads(_path, code=OrderToolsError.BATCH_TOO_LARGE, limit=lambda: MAX_BYTES + 64 * 1024)
COLUMNS = ("订单号", "物流公司", "运单号")


@dataclass(frozen=True)
class ShipRow:
    row: int  # the row's number in the file (the header is row 1)
    order_no: str
    carrier: str
    tracking_no: str


@dataclass
class BatchResult:
    shipped: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)


def _invalid(why: str) -> AppError:
    return AppError(OrderToolsError.BATCH_FILE_INVALID, reason=why)


def _cells(raw: bytes, filename: str) -> list[list[str]]:
    if raw.startswith(b"PK") or filename.lower().endswith(".xlsx"):
        return _xlsx_cells(raw)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _invalid("encoding")
    if "\x00" in text:
        raise _invalid("binary")
    try:
        # newline="": the reader sees a lone \r (an old Mac line end) as the line end it is, not as an error
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:  # a field past the csv module's limit (128 KiB): no shipping file looks like that
        raise _invalid("csv") from exc


def _xlsx_cells(raw: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # a zip that is no workbook, a broken file: openpyxl raises many kinds
        raise _invalid("xlsx") from exc
    try:
        ws = wb.worksheets[0]
        out: list[list[str]] = []
        for values in ws.iter_rows(values_only=True):
            out.append(["" if v is None else str(v) for v in values])
            if len(out) > MAX_ROWS + 1:
                break
        return out
    finally:
        wb.close()


def parse(raw: bytes, *, filename: str = "") -> list[ShipRow]:
    """The file's rows, or BATCH_FILE_INVALID / BATCH_TOO_LARGE for a file of the wrong shape."""
    if len(raw) > MAX_BYTES:
        raise AppError(OrderToolsError.BATCH_TOO_LARGE)
    cells = [[c.strip() for c in r] for r in _cells(raw, filename)]
    cells = [r for r in cells if any(r)]
    if not cells:
        raise _invalid("empty")
    header = cells[0]
    try:
        at = [header.index(c) for c in COLUMNS]
    except ValueError:
        raise _invalid("header") from None
    body = cells[1:]
    if not body:
        raise _invalid("no rows")
    if len(body) > MAX_ROWS:
        raise AppError(OrderToolsError.BATCH_TOO_LARGE)
    out = []
    for n, r in enumerate(body, start=2):
        padded = r + [""] * (max(at) + 1 - len(r))
        out.append(ShipRow(row=n, order_no=padded[at[0]], carrier=padded[at[1]], tracking_no=padded[at[2]]))
    return out


async def _ship_one(db: Database, r: ShipRow, settings: Settings) -> AppError | None:
    try:
        body = ShipmentCreate.model_validate({"carrier": r.carrier, "tracking_no": r.tracking_no})
    except ValidationError:
        return AppError(OrderToolsError.SHIPMENT_INVALID)
    try:
        async with db.tx() as s:
            order_id = await order_id_by_no(s, no=r.order_no)
            if order_id is None:
                return AppError(OrderToolsError.ORDER_NOT_FOUND_BY_NO)
            await service.ship(
                s, order_id=order_id, carrier=body.carrier, tracking_no=body.tracking_no, settings=settings
            )
    except AppError as exc:
        return exc
    return None


async def ship_rows(db: Database, *, rows: list[ShipRow], settings: Settings) -> BatchResult:
    """Ship each row in its own transaction; the refused rows come back with their code and message."""
    result = BatchResult()
    for r in rows:
        refusal = await _ship_one(db, r, settings)
        if refusal is None:
            result.shipped += 1
        else:
            result.failed.append(
                {"row": r.row, "order_no": r.order_no, "code": refusal.code, "message": refusal.message}
            )
    return result
