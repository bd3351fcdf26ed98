"""付费会员's API. Shop: GET /membership/plans (public), POST /membership/subscribe (→ the order to pay),
GET /membership/subscription, POST /membership/subscription/refund (inside the cooling-off window).
Admin: CRUD /membership/plans and GET/PUT /membership/member-prices (marketing), GET
/membership/purchases (customers.read), POST /membership/purchases/{id}/refund (refunds)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from fissionmall.accounts.deps import Admin, CurrentCustomer, require
from fissionmall.core.deps import Cursor, DbDep, Limit
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.vip import plans, service, views
from fissionmall.vip.schemas import (
    MemberPrices,
    PlanAdmin,
    PlanCreate,
    PlanPublic,
    PlanUpdate,
    PurchaseAdmin,
    RefundIn,
    Subscribe,
    SubscribeOut,
    SubscriptionPublic,
)

router = APIRouter(tags=["membership: paid"])
admin_router = APIRouter(tags=["admin: membership paid"])

Write = Annotated[Admin, Depends(require("marketing"))]
Read = Annotated[Admin, Depends(require("marketing.read"))]
People = Annotated[Admin, Depends(require("customers.read"))]
Refunds = Annotated[Admin, Depends(require("refunds"))]


@router.get("/membership/plans", response_model=list[PlanPublic])
async def shop_plans(db: DbDep) -> list[PlanPublic]:
    """The plans on sale, cheapest first, each with its benefits in Chinese."""
    async with db.read() as s:
        return await plans.to_public(s, plans=await plans.list_plans(s, active_only=True))


@router.post("/membership/subscribe", response_model=SubscribeOut, status_code=201)
async def subscribe(body: Subscribe, caller: CurrentCustomer, db: DbDep) -> SubscribeOut:
    """Buy (or renew) a plan: the answer is the order to pay at the cashier."""
    async with db.tx() as s:
        p, o = await service.subscribe(s, customer_id=caller.id, plan_id=body.plan_id)
        return SubscribeOut(id=o.id, status=o.status, payable_fen=o.payable_fen, purchase_id=p.id)


@router.get("/membership/subscription", response_model=SubscriptionPublic)
async def my_subscription(caller: CurrentCustomer, db: DbDep) -> SubscriptionPublic:
    async with db.read() as s:
        return await views.subscription(s, customer_id=caller.id)


@router.post("/membership/subscription/refund", response_model=SubscriptionPublic)
async def refund_mine(body: RefundIn, caller: CurrentCustomer, db: DbDep) -> SubscriptionPublic:
    """Undo the latest purchase inside its 无理由退款期 (else 409 VIP_REFUND_WINDOW_CLOSED)."""
    async with db.tx() as s:
        await service.refund(s, customer_id=caller.id, reason=body.reason or "会员申请无理由退款")
    async with db.read() as s:
        return await views.subscription(s, customer_id=caller.id)


@admin_router.get("/membership/plans", response_model=list[PlanAdmin])
async def admin_plans(_: Read, db: DbDep) -> list[PlanAdmin]:
    async with db.read() as s:
        return await plans.to_admin(s, plans=await plans.list_plans(s))


@admin_router.post("/membership/plans", response_model=PlanAdmin, status_code=201)
async def create_plan(body: PlanCreate, _: Write, db: DbDep) -> PlanAdmin:
    async with db.tx() as s:
        return (await plans.to_admin(s, plans=[await plans.create_plan(s, data=body)]))[0]


@admin_router.get("/membership/plans/{plan_id}", response_model=PlanAdmin)
async def get_plan(plan_id: IdPath, _: Read, db: DbDep) -> PlanAdmin:
    async with db.read() as s:
        return (await plans.to_admin(s, plans=[await plans.get_plan(s, plan_id=plan_id)]))[0]


@admin_router.put("/membership/plans/{plan_id}", response_model=PlanAdmin)
async def update_plan(plan_id: IdPath, body: PlanUpdate, _: Write, db: DbDep) -> PlanAdmin:
    async with db.tx() as s:
        return (await plans.to_admin(s, plans=[await plans.update_plan(s, plan_id=plan_id, data=body)]))[0]


@admin_router.delete("/membership/plans/{plan_id}", status_code=204)
async def delete_plan(plan_id: IdPath, _: Write, db: DbDep) -> Response:
    async with db.tx() as s:
        await plans.delete_plan(s, plan_id=plan_id)
    return Response(status_code=204)


@admin_router.get("/membership/member-prices", response_model=MemberPrices)
async def get_member_prices(_: Read, db: DbDep) -> MemberPrices:
    async with db.read() as s:
        return await plans.member_prices(s)


@admin_router.put("/membership/member-prices", response_model=MemberPrices)
async def put_member_prices(body: MemberPrices, _: Write, db: DbDep) -> MemberPrices:
    """Replace the 会员价 table and the member-only products."""
    async with db.tx() as s:
        return await plans.save_member_prices(s, data=body)


@admin_router.get("/membership/purchases", response_model=Page[PurchaseAdmin])
async def admin_purchases(
    _: People,
    db: DbDep,
    customer_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    status: Literal["active", "refunded"] | None = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[PurchaseAdmin]:
    async with db.read() as s:
        items, nxt = await views.purchases(
            s, customer_id=customer_id, status=status, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
    return Page(items=items, next_cursor=nxt)


@admin_router.post("/membership/purchases/{purchase_id}/refund", response_model=PurchaseAdmin)
async def admin_refund(purchase_id: IdPath, body: RefundIn, _: Refunds, db: DbDep) -> PurchaseAdmin:
    """The merchant refunds a purchase inside its cooling-off window (the latest of that shopper's)."""
    async with db.tx() as s:
        p = await service.refund_purchase(s, purchase_id=purchase_id, reason=body.reason or "商家办理无理由退款")
        cid = p.customer_id
    async with db.read() as s:
        items, _more = await views.purchases(s, customer_id=cid, limit=100)
    return next(i for i in items if i.id == purchase_id)
