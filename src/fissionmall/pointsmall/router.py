"""积分商城 over HTTP: GET /api/v1/points/mall (live items), GET /points/mall/{id}, POST
/points/mall/{item_id}/redeem (once per Idempotency-Key), GET /me/points-mall/redemptions; CRUD
/api/admin/v1/points/mall and GET /points/mall/redemptions for staff with the marketing permission."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.deps import Admin, Caller, CurrentCustomer, current_customer, require
from fissionmall.checkout.service import check_order_rate
from fissionmall.core import clock
from fissionmall.core.deps import Cursor, DbDep, IdemKey, Limit, SettingsDep
from fissionmall.core.errors import NotFound
from fissionmall.core.idempotency import run_once
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.pointsmall import items as svc
from fissionmall.pointsmall import redeem as redeeming
from fissionmall.pointsmall import views
from fissionmall.pointsmall.errors import PointsMallError
from fissionmall.pointsmall.schemas import (
    ItemAdmin,
    ItemCreate,
    ItemPublic,
    ItemUpdate,
    RedeemRequest,
    RedemptionAdmin,
    RedemptionPublic,
)

router = APIRouter(tags=["points mall"])
admin_router = APIRouter(tags=["admin: points mall"])

Marketing = Annotated[Admin, Depends(require("marketing"))]
MarketingRead = Annotated[Admin, Depends(require("marketing.read"))]
ItemQ = Annotated[int | None, Query(ge=1, le=2**62)]


async def optional_customer(request: Request, settings: SettingsDep, db: DbDep) -> Caller | None:
    """The shopper if a token came with the call: the mall is public, the remaining limit is theirs."""
    if not request.headers.get("authorization"):
        return None
    return await current_customer(request, settings, db)


MaybeCustomer = Annotated[Caller | None, Depends(optional_customer)]


# ---- shop ----------------------------------------------------------------------------------------


@router.get("/points/mall", response_model=list[ItemPublic])
async def live_items(db: DbDep, caller: MaybeCustomer) -> Any:
    """Items the mall offers now, in the merchant's order, with the units left and, for a logged-in
    shopper, how many they may still redeem (`my_left`, null without a limit)."""
    async with db.read() as s:
        rows = await svc.list_items(s, live_at=clock.now())
        return await views.to_public(s, items=rows, customer_id=caller.id if caller else None)


@router.get("/points/mall/{item_id}", response_model=ItemPublic)
async def item(item_id: IdPath, db: DbDep, caller: MaybeCustomer) -> Any:
    """One item while the shop lists it (MALL_ITEM_NOT_FOUND otherwise)."""
    async with db.read() as s:
        it = await svc.get_item(s, item_id=item_id)
        if not it.active or it.closed:
            raise NotFound(PointsMallError.MALL_ITEM_NOT_FOUND)
        return (await views.to_public(s, items=[it], customer_id=caller.id if caller else None))[0]


@router.post(
    "/points/mall/{item_id}/redeem", response_model=RedemptionPublic, status_code=201, response_model_exclude_none=True
)
async def redeem(
    item_id: IdPath,
    body: RedeemRequest,
    caller: CurrentCustomer,
    db: DbDep,
    settings: SettingsDep,
    idempotency_key: IdemKey = None,
) -> dict[str, Any]:
    """Redeem an item: the points are spent, a coupon item's coupon granted, a product item's order placed
    (its cash part and shipping paid at the cashier; an order with nothing to pay is paid at once)."""
    await check_order_rate(caller.id, settings)

    async def work(s: AsyncSession) -> dict[str, Any]:
        r, order, coupon = await redeeming.redeem(
            s, customer_id=caller.id, item_id=item_id, body=body, settings=settings
        )
        return await views.redemption_out(s, r=r, order=order, coupon=coupon)

    return await run_once(
        db,
        scope=f"points-mall:{item_id}",
        owner=str(caller.id),
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        work=work,
    )


@router.get("/me/points-mall/redemptions", response_model=Page[RedemptionPublic])
async def my_redemptions(caller: CurrentCustomer, db: DbDep, limit: Limit = None, cursor: Cursor = None) -> Any:
    """The shopper's redemptions, newest first."""
    async with db.read() as s:
        rows, nxt = await views.mine(s, customer_id=caller.id, before_id=parse_cursor(cursor), limit=page_limit(limit))
        return {"items": [await views.redemption_out(s, r=r) for r in rows], "next_cursor": nxt}


# ---- admin ---------------------------------------------------------------------------------------


@admin_router.get("/points/mall", response_model=list[ItemAdmin])
async def list_items(_: MarketingRead, db: DbDep) -> Any:
    """Every item not deleted, in the mall's order."""
    async with db.read() as s:
        return await views.to_admin(s, items=await svc.list_items(s))


@admin_router.get("/points/mall/redemptions", response_model=Page[RedemptionAdmin])
async def list_redemptions(
    _: MarketingRead, db: DbDep, item_id: ItemQ = None, limit: Limit = None, cursor: Cursor = None
) -> Any:
    """Redemptions newest first (of one item with `item_id`)."""
    async with db.read() as s:
        rows, nxt = await views.redemptions(s, before_id=parse_cursor(cursor), limit=page_limit(limit), item_id=item_id)
        return {"items": rows, "next_cursor": nxt}


@admin_router.post("/points/mall", response_model=ItemAdmin, status_code=201)
async def create_item(body: ItemCreate, _: Marketing, db: DbDep) -> Any:
    async with db.tx() as s:
        it = await svc.create_item(s, data=body)
        return (await views.to_admin(s, items=[it]))[0]


@admin_router.get("/points/mall/{item_id}", response_model=ItemAdmin)
async def get_item(item_id: IdPath, _: MarketingRead, db: DbDep) -> Any:
    async with db.read() as s:
        return (await views.to_admin(s, items=[await svc.get_item(s, item_id=item_id)]))[0]


@admin_router.put("/points/mall/{item_id}", response_model=ItemAdmin)
async def update_item(item_id: IdPath, body: ItemUpdate, _: Marketing, db: DbDep) -> Any:
    async with db.tx() as s:
        it = await svc.update_item(s, item_id=item_id, data=body)
        return (await views.to_admin(s, items=[it]))[0]


@admin_router.delete("/points/mall/{item_id}", status_code=204)
async def delete_item(item_id: IdPath, _: Marketing, db: DbDep) -> Response:
    """Take the item off the mall; its stock goes back to the SKU, its redemptions stay on record."""
    async with db.tx() as s:
        await svc.delete_item(s, item_id=item_id)
    return Response(status_code=204)
