from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from fissionmall.accounts.deps import Admin, CurrentCustomer, require
from fissionmall.core.deps import Cursor, DbDep, IdemKey, Limit, SettingsDep
from fissionmall.core.idempotency import run_once
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.orders import refunds, service
from fissionmall.orders.models import Refund
from fissionmall.orders.rules import ORDER_STATUSES
from fissionmall.orders.schemas import (
    OrderAdmin,
    OrderPublic,
    RefundCreate,
    RefundPublic,
    RefundRejection,
    ShipmentCreate,
    order_out,
)

router = APIRouter(tags=["orders"])
admin_router = APIRouter(tags=["admin: orders"])

_ONE = "(" + "|".join(ORDER_STATUSES) + ")"
# One status or several, comma separated: the shop's "已完成" tab is received,completed.
StatusQ = Annotated[str | None, Query(pattern=f"^{_ONE}(,{_ONE})*$", description="e.g. `paid` or `received,completed`")]


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
    order_id: IdPath, body: RefundCreate, caller: CurrentCustomer, db: DbDep, idempotency_key: IdemKey = None
) -> dict[str, Any]:
    """Ask for a refund of some lines (or all that is left); the merchant approves it."""

    async def work(s: Any) -> dict[str, Any]:
        r = await refunds.request_refund(
            s, order_id=order_id, customer_id=caller.id, lines=body.lines, reason=body.reason
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


# ---- admin -------------------------------------------------------------------------------------

OrdersRead = Annotated[Admin, Depends(require("orders.read"))]
OrdersWrite = Annotated[Admin, Depends(require("orders"))]
RefundsRead = Annotated[Admin, Depends(require("refunds.read"))]
RefundsWrite = Annotated[Admin, Depends(require("refunds"))]


@admin_router.get("/orders", response_model=Page[OrderAdmin])
async def admin_orders(
    _: OrdersRead,
    db: DbDep,
    status: StatusQ = None,
    q: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[OrderPublic]:
    async with db.read() as s:
        rows, nxt = await service.list_orders(
            s, status=status, q=q, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[order_out(o, [], admin=True) for o in rows], next_cursor=nxt)


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
    status: Annotated[str | None, Query(pattern="^(pending|processing|succeeded|rejected|failed)$")] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[RefundPublic]:
    async with db.read() as s:
        rows, nxt = await refunds.list_refunds(
            s, status=status, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[RefundPublic.model_validate(r) for r in rows], next_cursor=nxt)


@admin_router.post("/refunds/{refund_id}/approve", response_model=RefundPublic)
async def admin_approve(refund_id: IdPath, admin: RefundsWrite, db: DbDep) -> Refund:
    async with db.tx() as s:
        return await refunds.approve_refund(s, refund_id=refund_id, admin_id=admin.id)


@admin_router.post("/refunds/{refund_id}/reject", response_model=RefundPublic)
async def admin_reject(refund_id: IdPath, body: RefundRejection, admin: RefundsWrite, db: DbDep) -> Refund:
    async with db.tx() as s:
        return await refunds.reject_refund(s, refund_id=refund_id, admin_id=admin.id, reason=body.reason)
