from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import Field

from fissionmall.accounts.deps import Admin, CurrentCustomer, require
from fissionmall.addresses.schemas import Address
from fissionmall.core.deps import Cursor, DbDep, IdemKey, Limit, SettingsDep
from fissionmall.core.idempotency import run_once
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.orders import aftersales, batch, export, refunds, service, tools
from fissionmall.orders.models import Refund
from fissionmall.orders.rules import ORDER_STATUSES
from fissionmall.orders.schemas import (
    AddressCorrection,
    BatchShipResult,
    MerchantRemarkUpdate,
    OrderAdmin,
    OrderChangePublic,
    OrderPublic,
    PriceChangeCreate,
    RefundApproval,
    RefundCreate,
    RefundDetail,
    RefundEntryPublic,
    RefundPublic,
    RefundQuote,
    RefundRejection,
    ShipmentCreate,
    ShopInfo,
    order_out,
)
from fissionmall.orders.tools import OrderFilter

router = APIRouter(tags=["orders"])
admin_router = APIRouter(tags=["admin: orders"])

_ONE = "(" + "|".join(ORDER_STATUSES) + ")"
# One status or several, comma separated: the shop's "已完成" tab is received,completed.
StatusQ = Annotated[str | None, Query(pattern=f"^{_ONE}(,{_ONE})*$", description="e.g. `paid` or `received,completed`")]


@router.get("/shop/info", response_model=ShopInfo)
async def shop_info(settings: SettingsDep) -> ShopInfo:
    """What every shop page may show: the 客服 contact (no login needed; the shop is public)."""
    return ShopInfo(
        service_phone=settings.service_phone,
        service_wechat=settings.service_wechat,
        service_wechat_enabled=settings.service_wechat_enabled,
        service_hours=settings.service_hours,
    )


@router.get("/orders", response_model=Page[OrderPublic])
async def my_orders(
    caller: CurrentCustomer, db: DbDep, status: StatusQ = None, limit: Limit = None, cursor: Cursor = None
) -> Page[OrderPublic]:
    async with db.read() as s:
        rows, nxt = await service.list_orders(
            s, customer_id=caller.id, status=status, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[order_out(o, []) for o in rows], next_cursor=nxt)


@router.get("/orders/{order_id}", response_model=OrderPublic)
async def my_order(order_id: IdPath, caller: CurrentCustomer, db: DbDep) -> OrderPublic:
    async with db.read() as s:
        o = await service.get_order(s, order_id=order_id, customer_id=caller.id)
        return order_out(o, await refunds.refunds_of(s, order_id=o.id))


@router.post("/orders/{order_id}/cancel", response_model=OrderPublic)
async def cancel(order_id: IdPath, caller: CurrentCustomer, db: DbDep) -> OrderPublic:
    async with db.tx() as s:
        o = await service.cancel(s, order_id=order_id, reason="customer", customer_id=caller.id)
        return order_out(o, await refunds.refunds_of(s, order_id=o.id))


@router.post("/orders/{order_id}/receive", response_model=OrderPublic)
async def receive(order_id: IdPath, caller: CurrentCustomer, db: DbDep, settings: SettingsDep) -> OrderPublic:
    async with db.tx() as s:
        o = await service.receive(s, order_id=order_id, customer_id=caller.id, settings=settings)
        return order_out(o, await refunds.refunds_of(s, order_id=o.id))


@router.post("/orders/{order_id}/refunds", response_model=RefundPublic, status_code=201)
async def request_refund(
    order_id: IdPath,
    body: RefundCreate,
    caller: CurrentCustomer,
    db: DbDep,
    settings: SettingsDep,
    idempotency_key: IdemKey = None,
) -> dict[str, Any]:
    """Ask for a refund (仅退款) or a return (退货退款) of some lines (or all that is left)."""

    async def work(s: Any) -> dict[str, Any]:
        r = await aftersales.request(
            s,
            order_id=order_id,
            customer_id=caller.id,
            lines=body.lines,
            service=body.kind,
            reason_code=body.picked_reason(),
            reason=body.reason,
            images=body.images,
            settings=settings,
        )
        return RefundPublic.model_validate(r).model_dump(mode="json")

    return await run_once(
        db,
        scope=f"refund:{order_id}",
        owner=str(caller.id),
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        work=work,
    )


# ---- after-sales (shop) ------------------------------------------------------------------------


async def _detail(s: Any, r: Refund) -> RefundDetail:
    data = RefundPublic.model_validate(r).model_dump()
    data["entries"] = [RefundEntryPublic.model_validate(e) for e in await refunds.entries_of(s, refund_id=r.id)]
    return RefundDetail.model_validate(data)


@router.post("/orders/{order_id}/refunds/quote", response_model=RefundQuote)
async def quote_refund(order_id: IdPath, body: RefundCreate, caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """What the request would refund (shipping rule applied), before submitting it."""
    async with db.read() as s:
        return await aftersales.quote(
            s,
            order_id=order_id,
            customer_id=caller.id,
            lines=body.lines,
            service=body.kind,
            reason_code=body.picked_reason(),
        )


@router.get("/refunds", response_model=Page[RefundPublic])
async def my_refunds(
    caller: CurrentCustomer, db: DbDep, limit: Limit = None, cursor: Cursor = None
) -> Page[RefundPublic]:
    async with db.read() as s:
        rows, nxt = await aftersales.my_refunds(
            s, customer_id=caller.id, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[RefundPublic.model_validate(r) for r in rows], next_cursor=nxt)


@router.get("/refunds/{refund_id}", response_model=RefundDetail)
async def my_refund(refund_id: IdPath, caller: CurrentCustomer, db: DbDep) -> RefundDetail:
    async with db.read() as s:
        return await _detail(s, await aftersales.get_mine(s, refund_id=refund_id, customer_id=caller.id))


@router.post("/refunds/{refund_id}/return-shipment", response_model=RefundDetail)
async def ship_return(
    refund_id: IdPath, body: ShipmentCreate, caller: CurrentCustomer, db: DbDep, settings: SettingsDep
) -> RefundDetail:
    """Send an approved return back: the carrier and tracking number."""
    async with db.tx() as s:
        r = await aftersales.ship_return(
            s,
            refund_id=refund_id,
            customer_id=caller.id,
            carrier=body.carrier,
            tracking_no=body.tracking_no,
            settings=settings,
        )
        return await _detail(s, r)


@router.post("/refunds/{refund_id}/cancel", response_model=RefundDetail)
async def cancel_refund(refund_id: IdPath, caller: CurrentCustomer, db: DbDep) -> RefundDetail:
    """Withdraw a request (before the return is sent back)."""
    async with db.tx() as s:
        return await _detail(s, await aftersales.cancel(s, refund_id=refund_id, customer_id=caller.id))


# ---- admin -------------------------------------------------------------------------------------

OrdersRead = Annotated[Admin, Depends(require("orders.read"))]
OrdersWrite = Annotated[Admin, Depends(require("orders"))]
RefundsRead = Annotated[Admin, Depends(require("refunds.read"))]
RefundsWrite = Annotated[Admin, Depends(require("refunds"))]


SourceQ = Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$", description="normal, seckill, groupbuy, …")]
DayQ = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))]


@admin_router.get("/orders", response_model=Page[OrderAdmin])
async def admin_orders(
    _: OrdersRead,
    db: DbDep,
    settings: SettingsDep,
    status: StatusQ = None,
    q: Annotated[str | None, Query(max_length=64, description="订单号、手机、收货人或商品")] = None,
    source: SourceQ = None,
    date_from: Annotated[DayQ | None, Query(alias="from", description="下单日期起（店铺时区）")] = None,
    date_to: Annotated[DayQ | None, Query(alias="to", description="下单日期止（含当天）")] = None,
    format: Annotated[Literal["xlsx", "csv"] | None, Query(description="导出筛选结果")] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[OrderPublic] | Response:
    """Search and filter orders (keyset paged); with `format`, the whole filtered list as a file."""
    f = OrderFilter(q=q, status=status, source=source, date_from=date_from, date_to=date_to)
    zone = ZoneInfo(settings.timezone)
    if format is not None:
        return await export.response(db, f=f, zone=zone, fmt=format, max_rows=settings.export_max_rows)
    async with db.read() as s:
        rows, nxt = await tools.search_orders(
            s, f=f, zone=zone, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[order_out(o, [], admin=True) for o in rows], next_cursor=nxt)


@admin_router.post("/orders/batch-ship", response_model=BatchShipResult)
async def admin_batch_ship(
    _: OrdersWrite, db: DbDep, settings: SettingsDep, file: Annotated[UploadFile, File(description="CSV 或 xlsx")]
) -> dict[str, Any]:
    """批量发货: rows of 订单号, 物流公司, 运单号; each row ships in its own transaction, refusals reported."""
    raw = await file.read(batch.MAX_BYTES + 1)
    rows = batch.parse(raw, filename=file.filename or "")
    result = await batch.ship_rows(db, rows=rows, settings=settings)
    return {"shipped": result.shipped, "failed": result.failed}


@admin_router.put("/orders/{order_id}/merchant-remark", response_model=OrderAdmin)
async def admin_merchant_remark(order_id: IdPath, body: MerchantRemarkUpdate, _: OrdersWrite, db: DbDep) -> OrderPublic:
    async with db.tx() as s:
        o = await tools.set_merchant_remark(s, order_id=order_id, remark=body.merchant_remark)
        return order_out(o, await refunds.refunds_of(s, order_id=o.id), admin=True)


@admin_router.post("/orders/{order_id}/price-changes", response_model=OrderAdmin)
async def admin_change_price(order_id: IdPath, body: PriceChangeCreate, admin: OrdersWrite, db: DbDep) -> OrderPublic:
    """改价 before payment (refused once paid or while a payment attempt is open)."""
    async with db.tx() as s:
        o = await tools.change_price(
            s,
            order_id=order_id,
            admin_id=admin.id,
            reason=body.reason,
            payable_fen=body.payable_fen,
            discount_fen=body.discount_fen,
        )
        return order_out(o, await refunds.refunds_of(s, order_id=o.id), admin=True)


@admin_router.put("/orders/{order_id}/address", response_model=OrderAdmin)
async def admin_change_address(order_id: IdPath, body: AddressCorrection, admin: OrdersWrite, db: DbDep) -> OrderPublic:
    """修改地址 before shipping."""
    address = Address.model_validate(body.model_dump(exclude={"reason"}))
    async with db.tx() as s:
        o = await tools.change_address(s, order_id=order_id, admin_id=admin.id, address=address, reason=body.reason)
        return order_out(o, await refunds.refunds_of(s, order_id=o.id), admin=True)


@admin_router.get("/orders/{order_id}/changes", response_model=list[OrderChangePublic])
async def admin_order_changes(order_id: IdPath, _: OrdersRead, db: DbDep) -> list[OrderChangePublic]:
    """The order's recorded price and address changes, oldest first."""
    async with db.read() as s:
        await service.get_order(s, order_id=order_id)
        return [OrderChangePublic.model_validate(c) for c in await tools.changes_of(s, order_id=order_id)]


@admin_router.get("/orders/{order_id}", response_model=OrderAdmin)
async def admin_order(order_id: IdPath, _: OrdersRead, db: DbDep) -> OrderPublic:
    async with db.read() as s:
        o = await service.get_order(s, order_id=order_id)
        return order_out(o, await refunds.refunds_of(s, order_id=o.id), admin=True)


@admin_router.post("/orders/{order_id}/ship", response_model=OrderAdmin)
async def admin_ship(
    order_id: IdPath, body: ShipmentCreate, _: OrdersWrite, db: DbDep, settings: SettingsDep
) -> OrderPublic:
    async with db.tx() as s:
        o = await service.ship(
            s, order_id=order_id, carrier=body.carrier, tracking_no=body.tracking_no, settings=settings
        )
        return order_out(o, await refunds.refunds_of(s, order_id=o.id), admin=True)


@admin_router.get("/refunds", response_model=Page[RefundPublic])
async def admin_refunds(
    _: RefundsRead,
    db: DbDep,
    status: Annotated[
        str | None,
        Query(pattern="^(pending|approved|return_shipped|processing|succeeded|rejected|failed|cancelled|closed)$"),
    ] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[RefundPublic]:
    async with db.read() as s:
        rows, nxt = await refunds.list_refunds(
            s, status=status, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[RefundPublic.model_validate(r) for r in rows], next_cursor=nxt)


@admin_router.get("/refunds/{refund_id}", response_model=RefundDetail)
async def admin_refund(refund_id: IdPath, _: RefundsRead, db: DbDep) -> RefundDetail:
    async with db.read() as s:
        return await _detail(s, await refunds.get_refund(s, refund_id=refund_id))


@admin_router.post("/refunds/{refund_id}/approve", response_model=RefundPublic)
async def admin_approve(
    refund_id: IdPath, admin: RefundsWrite, db: DbDep, settings: SettingsDep, body: RefundApproval | None = None
) -> Refund:
    """Agree: a 仅退款 goes to the gateway; a return waits for the goods (return_address: default the shop's)."""
    async with db.tx() as s:
        return await aftersales.approve(
            s,
            refund_id=refund_id,
            admin_id=admin.id,
            settings=settings,
            return_address=body.return_address if body else None,
        )


@admin_router.post("/refunds/{refund_id}/receive", response_model=RefundPublic)
async def admin_receive(refund_id: IdPath, admin: RefundsWrite, db: DbDep) -> Refund:
    """Confirm the returned goods arrived (确认收货): the refund goes to the gateway."""
    async with db.tx() as s:
        return await aftersales.confirm_receipt(s, refund_id=refund_id, admin_id=admin.id)


@admin_router.post("/refunds/{refund_id}/reject", response_model=RefundPublic)
async def admin_reject(refund_id: IdPath, body: RefundRejection, admin: RefundsWrite, db: DbDep) -> Refund:
    async with db.tx() as s:
        return await refunds.reject_refund(s, refund_id=refund_id, admin_id=admin.id, reason=body.reason)
