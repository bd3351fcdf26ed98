from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query

from fissionmall.accounts.deps import Admin, Caller, CurrentCustomer, DbDep, SettingsDep, require
from fissionmall.core import clock
from fissionmall.core.errors import TooMany
from fissionmall.core.idempotency import run_once
from fissionmall.core.kv import get_kv
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.orders import service
from fissionmall.orders.models import Order, Refund
from fissionmall.orders.rules import ORDER_STATUSES
from fissionmall.orders.schemas import (
    CheckoutIn,
    OrderAdminOut,
    OrderCreated,
    OrderOut,
    PreviewOut,
    RefundIn,
    RefundOut,
    RejectIn,
    ShipIn,
)
from fissionmall.settings import Settings

router = APIRouter(tags=["orders"])
admin_router = APIRouter(tags=["admin: orders"])

IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]
Limit = Annotated[int | None, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=32)]
_ONE = "(" + "|".join(ORDER_STATUSES) + ")"
# One status or several, comma separated: the shop's "已完成" tab is received,completed.
StatusQ = Annotated[str | None, Query(pattern=f"^{_ONE}(,{_ONE})*$", description="e.g. `paid` or `received,completed`")]


def order_out(order: Order, refunds: list[Refund], *, admin: bool = False) -> OrderOut:
    model = OrderAdminOut if admin else OrderOut
    data: dict[str, Any] = {
        c: getattr(order, c) for c in model.model_fields if c not in ("lines", "refunds", "server_time")
    }
    data["lines"] = list(order.lines)
    data["refunds"] = [RefundOut.model_validate(r) for r in refunds]
    data["server_time"] = clock.now()
    return model.model_validate(data)


@router.post("/checkout/preview", response_model=PreviewOut)
async def preview(body: CheckoutIn, caller: CurrentCustomer, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """Price a cart through the price chain, with every step explained. Without a `coupon_id` the best of
    the shopper's coupons is chosen; the others are listed with why each does not apply."""
    async with db.read() as s:
        q, images = await service.quote(s, body=body, settings=settings, customer_id=caller.id, pick_best_coupon=True)
    return {**service.preview_dict(q, images), **q.extra}


async def check_order_rate(caller: Caller, settings: Settings) -> None:
    """One budget of new orders per shopper per minute, whichever tool places them (plain, group buying)."""
    if not await get_kv().allow(f"order:c:{caller.id}", limit=settings.order_rate_per_minute, window_seconds=60):
        raise TooMany("RATE_LIMITED", "too many orders; wait a minute")


@router.post("/orders", response_model=OrderCreated, status_code=201)
async def create_order(
    body: CheckoutIn, caller: CurrentCustomer, db: DbDep, settings: SettingsDep, idempotency_key: IdemKey = None
) -> dict[str, Any]:
    """Place an order (stock is reserved now; it is cancelled if unpaid in time)."""
    await check_order_rate(caller, settings)

    async def work(s: Any) -> dict[str, Any]:
        o = await service.create_order(
            s,
            customer_id=caller.id,
            body=body,
            settings=settings,
            attribution={"ip": caller.ip, "device_id": caller.device_id},
        )
        return OrderCreated.model_validate(o).model_dump(mode="json")

    return await run_once(
        db, scope="order", owner=str(caller.id), key=idempotency_key, body=body.model_dump(mode="json"), work=work
    )


@router.get("/orders", response_model=Page[OrderOut])
async def my_orders(
    caller: CurrentCustomer, db: DbDep, status: StatusQ = None, limit: Limit = None, cursor: Cursor = None
) -> Page[OrderOut]:
    async with db.read() as s:
        rows, nxt = await service.list_orders(
            s, customer_id=caller.id, status=status, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[order_out(o, []) for o in rows], next_cursor=nxt)


@router.get("/orders/{order_id}", response_model=OrderOut)
async def my_order(order_id: IdPath, caller: CurrentCustomer, db: DbDep) -> OrderOut:
    async with db.read() as s:
        o = await service.get_order(s, order_id=order_id, customer_id=caller.id)
        return order_out(o, await service.refunds_of(s, o.id))


@router.post("/orders/{order_id}/cancel", response_model=OrderOut)
async def cancel(order_id: IdPath, caller: CurrentCustomer, db: DbDep) -> OrderOut:
    async with db.tx() as s:
        o = await service.cancel(s, order_id=order_id, reason="customer", customer_id=caller.id)
        return order_out(o, await service.refunds_of(s, o.id))


@router.post("/orders/{order_id}/receive", response_model=OrderOut)
async def receive(order_id: IdPath, caller: CurrentCustomer, db: DbDep, settings: SettingsDep) -> OrderOut:
    async with db.tx() as s:
        o = await service.receive(s, order_id=order_id, customer_id=caller.id, settings=settings)
        return order_out(o, await service.refunds_of(s, o.id))


@router.post("/orders/{order_id}/refunds", response_model=RefundOut, status_code=201)
async def request_refund(
    order_id: IdPath, body: RefundIn, caller: CurrentCustomer, db: DbDep, idempotency_key: IdemKey = None
) -> dict[str, Any]:
    """Ask for a refund of some lines (or all that is left); the merchant approves it."""

    async def work(s: Any) -> dict[str, Any]:
        r = await service.request_refund(
            s, order_id=order_id, customer_id=caller.id, lines=body.lines, reason=body.reason
        )
        return RefundOut.model_validate(r).model_dump(mode="json")

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


@admin_router.get("/orders", response_model=Page[OrderAdminOut])
async def admin_orders(
    _: OrdersRead,
    db: DbDep,
    status: StatusQ = None,
    q: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[OrderOut]:
    async with db.read() as s:
        rows, nxt = await service.list_orders(
            s, status=status, q=q, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[order_out(o, [], admin=True) for o in rows], next_cursor=nxt)


@admin_router.get("/orders/{order_id}", response_model=OrderAdminOut)
async def admin_order(order_id: IdPath, _: OrdersRead, db: DbDep) -> OrderOut:
    async with db.read() as s:
        o = await service.get_order(s, order_id=order_id)
        return order_out(o, await service.refunds_of(s, o.id), admin=True)


@admin_router.post("/orders/{order_id}/ship", response_model=OrderAdminOut)
async def admin_ship(order_id: IdPath, body: ShipIn, _: OrdersWrite, db: DbDep, settings: SettingsDep) -> OrderOut:
    async with db.tx() as s:
        o = await service.ship(
            s, order_id=order_id, carrier=body.carrier, tracking_no=body.tracking_no, settings=settings
        )
        return order_out(o, await service.refunds_of(s, o.id), admin=True)


@admin_router.get("/refunds", response_model=Page[RefundOut])
async def admin_refunds(
    _: RefundsRead,
    db: DbDep,
    status: Annotated[str | None, Query(pattern="^(pending|processing|succeeded|rejected|failed)$")] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[RefundOut]:
    async with db.read() as s:
        rows, nxt = await service.list_refunds(
            s, status=status, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[RefundOut.model_validate(r) for r in rows], next_cursor=nxt)


@admin_router.post("/refunds/{refund_id}/approve", response_model=RefundOut)
async def admin_approve(refund_id: IdPath, admin: RefundsWrite, db: DbDep) -> Refund:
    async with db.tx() as s:
        return await service.approve_refund(s, refund_id=refund_id, admin_id=admin.id)


@admin_router.post("/refunds/{refund_id}/reject", response_model=RefundOut)
async def admin_reject(refund_id: IdPath, body: RejectIn, admin: RefundsWrite, db: DbDep) -> Refund:
    async with db.tx() as s:
        return await service.reject_refund(s, refund_id=refund_id, admin_id=admin.id, reason=body.reason)
