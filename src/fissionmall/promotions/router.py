"""Promotion HTTP: badges for a product; admin CRUD."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from fissionmall.accounts.deps import Admin, require
from fissionmall.catalog import service as catalog
from fissionmall.core.deps import Cursor, DbDep, Limit
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.promotions import rules, service
from fissionmall.promotions.models import Promotion
from fissionmall.promotions.schemas import PromotionAdmin, PromotionBadge, PromotionCreate, PromotionUpdate

router = APIRouter(tags=["promotions"])
admin_router = APIRouter(tags=["admin: promotions"])


def promotion_out(p: Promotion) -> PromotionAdmin:
    tiered = p.kind == "tiered_price"
    return PromotionAdmin(
        id=p.id,
        kind=p.kind,
        name=p.name,
        label=rules.label(p),
        status=p.status,
        starts_at=p.starts_at,
        ends_at=p.ends_at,
        scope=p.scope_kind,
        scope_ids=[int(i) for i in p.scope_ids or []],
        scope_exclude=p.scope_exclude,
        basis=p.basis,
        tiers=[] if tiered else list(p.tiers or []),
        price_tiers=list(p.tiers or []) if tiered else [],
        items=list(p.items or []),
        sku_id=p.sku_id,
        threshold=p.threshold,
        gift_sku_id=p.gift_sku_id,
        gift_qty=p.gift_qty,
        gift_stock=p.gift_stock,
        gift_given=p.gift_given,
        used_orders=p.used_orders,
        discount_fen=p.discount_fen,
        created_at=p.created_at,
    )


@router.get("/promotions", response_model=list[PromotionBadge])
async def badges(db: DbDep, product_id: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> list[PromotionBadge]:
    """Live promotions (of one product with `product_id`): labels for the shop and the tier hints' source."""
    async with db.read() as s:
        if product_id is None:
            promos = await service.live(s)
        else:
            prod = await catalog.get_product(s, product_id=product_id)
            promos = await service.badges(
                s, product_id=prod.id, category_id=prod.category_id, sku_ids=[k.id for k in prod.skus]
            )
    return [PromotionBadge(id=p.id, kind=p.kind, label=rules.label(p), ends_at=p.ends_at) for p in promos]


MarketingRead = Annotated[Admin, Depends(require("marketing.read"))]
MarketingWrite = Annotated[Admin, Depends(require("marketing"))]


@admin_router.get("/promotions", response_model=Page[PromotionAdmin])
async def list_promotions(
    _: MarketingRead,
    db: DbDep,
    kind: Annotated[str | None, Query(pattern="^(" + "|".join(rules.KINDS) + ")$")] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[PromotionAdmin]:
    async with db.read() as s:
        rows, nxt = await service.list_promotions(s, kind=kind, before_id=parse_cursor(cursor), limit=page_limit(limit))
    return Page(items=[promotion_out(p) for p in rows], next_cursor=nxt)


@admin_router.post("/promotions", response_model=PromotionAdmin, status_code=201)
async def create(body: PromotionCreate, _: MarketingWrite, db: DbDep) -> PromotionAdmin:
    async with db.tx() as s:
        return promotion_out(await service.create(s, data=body))


@admin_router.get("/promotions/{promotion_id}", response_model=PromotionAdmin)
async def get(promotion_id: IdPath, _: MarketingRead, db: DbDep) -> PromotionAdmin:
    async with db.read() as s:
        return promotion_out(await service.get(s, promotion_id=promotion_id))


@admin_router.put("/promotions/{promotion_id}", response_model=PromotionAdmin)
async def update(promotion_id: IdPath, body: PromotionUpdate, _: MarketingWrite, db: DbDep) -> PromotionAdmin:
    """Edit, pause (`{"status": "paused"}`) or resume a promotion."""
    async with db.tx() as s:
        return promotion_out(await service.update_promotion(s, promotion_id=promotion_id, data=body))


@admin_router.delete("/promotions/{promotion_id}", status_code=204)
async def delete(promotion_id: IdPath, _: MarketingWrite, db: DbDep) -> Response:
    async with db.tx() as s:
        await service.delete(s, promotion_id=promotion_id)
    return Response(status_code=204)
