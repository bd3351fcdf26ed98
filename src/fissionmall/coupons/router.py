"""Coupon HTTP: the coupon centre, my coupons, checkout with coupons; admin template CRUD and issuing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from fissionmall.accounts.deps import Admin, CurrentCustomer, require
from fissionmall.core.deps import Cursor, DbDep, Limit
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.coupons import rules, service
from fissionmall.coupons.models import Coupon, CouponTemplate
from fissionmall.coupons.schemas import (
    ClaimablePublic,
    CouponPublic,
    IssueCreate,
    IssueResult,
    TemplateAdmin,
    TemplateCreate,
    TemplateUpdate,
)
from fissionmall.risk import ask
from fissionmall.risk.decisions import Action

router = APIRouter(tags=["coupons"])
admin_router = APIRouter(tags=["admin: coupons"])

CouponStatus = Annotated[
    str | None, Query(pattern=r"^(available|locked|used|expired)(,(available|locked|used|expired))*$")
]


def template_out(t: CouponTemplate) -> TemplateAdmin:
    data = {c: getattr(t, c) for c in TemplateAdmin.model_fields if hasattr(t, c)}
    data.update(scope=t.scope_kind, headline=rules.headline(t), scope_ids=[int(i) for i in t.scope_ids or []])
    return TemplateAdmin.model_validate(data)


def coupon_out(c: Coupon, t: CouponTemplate) -> CouponPublic:
    return CouponPublic(
        id=c.id,
        template_id=t.id,
        name=t.name,
        headline=rules.headline(t),
        status=c.status,
        source=c.source,
        threshold_fen=t.threshold_fen,
        valid_from=c.valid_from,
        valid_until=c.valid_until,
        order_id=c.order_id,
        claimed_at=c.claimed_at,
        used_at=c.used_at,
    )


@router.get("/coupons", response_model=list[ClaimablePublic])
async def coupon_centre(caller: CurrentCustomer, db: DbDep) -> list[ClaimablePublic]:
    """领券中心: templates the caller can claim now, with how many they hold."""
    async with db.read() as s:
        rows = await service.claimable(s, customer_id=caller.id)
    return [
        ClaimablePublic(
            id=t.id,
            name=t.name,
            headline=rules.headline(t),
            description=t.description,
            threshold_fen=t.threshold_fen,
            kind=t.kind,
            amount_fen=t.amount_fen,
            percent_bp=t.percent_bp,
            max_discount_fen=t.max_discount_fen,
            remaining=None if t.total is None else t.total - t.issued,
            valid_until=t.valid_until,
            valid_days=t.valid_days,
            claimed=held,
            per_user_limit=t.per_user_limit,
            can_claim=held < t.per_user_limit and (t.total is None or t.issued < t.total),
        )
        for t, held in rows
    ]


@router.post("/coupons/{template_id}/claim", response_model=CouponPublic, status_code=201)
async def claim(template_id: IdPath, caller: CurrentCustomer, db: DbDep) -> CouponPublic:
    """Claim one coupon (refused past the total or the per-user limit, however many claim at once, and when
    the risk layer refuses the claimer)."""
    await ask.guard(db, action=Action.COUPON_CLAIM, subject=ask.subject_of(caller), facts={"template_id": template_id})
    async with db.tx() as s:
        c = await service.grant(s, template_id=template_id, customer_id=caller.id)
        return coupon_out(c, await service.get_template(s, template_id=c.template_id))


@router.get("/me/coupons", response_model=Page[CouponPublic])
async def my_coupons(
    caller: CurrentCustomer, db: DbDep, status: CouponStatus = None, limit: Limit = None, cursor: Cursor = None
) -> Page[CouponPublic]:
    """我的优惠券, newest first; `status=available` for the usable ones."""
    async with db.read() as s:
        rows, nxt = await service.my_coupons(
            s, customer_id=caller.id, status=status, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
    return Page(items=[coupon_out(c, t) for c, t in rows], next_cursor=nxt)


# ---- admin ---------------------------------------------------------------------------------------------

MarketingRead = Annotated[Admin, Depends(require("marketing.read"))]
MarketingWrite = Annotated[Admin, Depends(require("marketing"))]


@admin_router.get("/coupons/templates", response_model=Page[TemplateAdmin])
async def list_templates(
    _: MarketingRead,
    db: DbDep,
    status: Annotated[str | None, Query(pattern="^(active|paused)$")] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[TemplateAdmin]:
    async with db.read() as s:
        rows, nxt = await service.list_templates(
            s, before_id=parse_cursor(cursor), limit=page_limit(limit), status=status
        )
    return Page(items=[template_out(t) for t in rows], next_cursor=nxt)


@admin_router.post("/coupons/templates", response_model=TemplateAdmin, status_code=201)
async def create_template(body: TemplateCreate, _: MarketingWrite, db: DbDep) -> TemplateAdmin:
    async with db.tx() as s:
        return template_out(await service.create_template(s, data=body))


@admin_router.get("/coupons/templates/{template_id}", response_model=TemplateAdmin)
async def get_template(template_id: IdPath, _: MarketingRead, db: DbDep) -> TemplateAdmin:
    async with db.read() as s:
        return template_out(await service.get_template(s, template_id=template_id))


@admin_router.put("/coupons/templates/{template_id}", response_model=TemplateAdmin)
async def update_template(template_id: IdPath, body: TemplateUpdate, _: MarketingWrite, db: DbDep) -> TemplateAdmin:
    """Edit, pause (`{"status": "paused"}`) or resume a template."""
    async with db.tx() as s:
        return template_out(await service.update_template(s, template_id=template_id, data=body))


@admin_router.delete("/coupons/templates/{template_id}", status_code=204)
async def delete_template(template_id: IdPath, _: MarketingWrite, db: DbDep) -> Response:
    async with db.tx() as s:
        await service.delete_template(s, template_id=template_id)
    return Response(status_code=204)


@admin_router.post("/coupons/templates/{template_id}/issue", response_model=IssueResult)
async def issue(template_id: IdPath, body: IssueCreate, _: MarketingWrite, db: DbDep) -> IssueResult:
    """Issue one coupon to each listed shopper (limits apply; with `batch`, a repeat issues nothing new)."""
    async with db.tx() as s:
        n, skipped = await service.issue(s, template_id=template_id, customer_ids=body.customer_ids, batch=body.batch)
    return IssueResult(issued=n, skipped=skipped)
