"""积分商城 as the admin API, the console and the shop read it: items with their SKU's or coupon's facts,
and redemptions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import Customer
from fissionmall.catalog.models import Product, Sku
from fissionmall.core import clock
from fissionmall.core.db import keyset_page
from fissionmall.coupons import rules as coupon_rules
from fissionmall.coupons.models import Coupon, CouponTemplate
from fissionmall.media import service as media
from fissionmall.orders.models import Order
from fissionmall.pointsmall import rules
from fissionmall.pointsmall.items import window
from fissionmall.pointsmall.models import MallItem, MallQuota, Redemption
from fissionmall.pointsmall.schemas import ItemAdmin, ItemPublic, RedemptionAdmin, RedemptionPublic


async def _facts(s: AsyncSession, items: Sequence[MallItem]) -> tuple[dict[int, Any], dict[int, Any]]:
    sku_ids = {it.sku_id for it in items if it.sku_id}
    tpl_ids = {it.coupon_template_id for it in items if it.coupon_template_id}
    skus: dict[int, Any] = {}
    if sku_ids:
        rows = await s.execute(
            select(Sku.id, Sku.name, Sku.price_fen, Product.images)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.id.in_(sku_ids))
        )
        skus = {r.id: r for r in rows.all()}
    tpls: dict[int, Any] = {}
    if tpl_ids:
        tpls = {t.id: t for t in (await s.scalars(select(CouponTemplate).where(CouponTemplate.id.in_(tpl_ids)))).all()}
    return skus, tpls


def _image(sku: Any) -> str | None:
    if sku is None or not sku.images:
        return None
    first = str(sku.images[0])
    return media.thumb_for(first) or first


async def to_admin(s: AsyncSession, *, items: Sequence[MallItem]) -> list[ItemAdmin]:
    """Items as the admin API shows them."""
    skus, tpls = await _facts(s, items)
    now = clock.now()
    out = []
    for it in items:
        sku = skus.get(it.sku_id) if it.sku_id else None
        tpl = tpls.get(it.coupon_template_id) if it.coupon_template_id else None
        w = window(it)
        out.append(
            ItemAdmin(
                id=it.id,
                kind=it.kind,
                title=it.title,
                product_id=it.product_id,
                sku_id=it.sku_id,
                sku_name=sku.name if sku else None,
                coupon_template_id=it.coupon_template_id,
                coupon_name=tpl.name if tpl else None,
                image_url=_image(sku),
                points=it.points,
                cash_fen=it.cash_fen,
                price_text=rules.price_text(it.points, it.cash_fen),
                stock=it.stock,
                units_left=it.units_left,
                redeemed=it.redeemed,
                per_user_limit=it.per_user_limit,
                starts_at=it.starts_at,
                ends_at=it.ends_at,
                active=it.active,
                closed=it.closed,
                live=rules.is_live(w, now),
                state=rules.state(w, now, it.units_left),
                sort_order=it.sort_order,
                created_at=it.created_at,
                updated_at=it.updated_at,
            )
        )
    return out


async def to_public(s: AsyncSession, *, items: Sequence[MallItem], customer_id: int | None) -> list[ItemPublic]:
    """Items as the shop shows them, with what the caller may still redeem of each."""
    skus, tpls = await _facts(s, items)
    used: dict[int, int] = {}
    if customer_id is not None and items:
        rows = await s.execute(
            select(MallQuota.item_id, MallQuota.used).where(
                MallQuota.customer_id == customer_id, MallQuota.item_id.in_([it.id for it in items])
            )
        )
        used = {i: n for i, n in rows.all()}
    out = []
    for it in items:
        sku = skus.get(it.sku_id) if it.sku_id else None
        tpl = tpls.get(it.coupon_template_id) if it.coupon_template_id else None
        out.append(
            ItemPublic(
                id=it.id,
                kind=it.kind,
                title=it.title,
                image_url=_image(sku),
                product_id=it.product_id,
                sku_id=it.sku_id,
                sku_name=sku.name if sku else None,
                price_fen=sku.price_fen if sku else None,
                coupon_headline=coupon_rules.headline(tpl) if tpl else None,
                points=it.points,
                cash_fen=it.cash_fen,
                price_text=rules.price_text(it.points, it.cash_fen),
                units_left=it.units_left,
                per_user_limit=it.per_user_limit,
                my_left=rules.left_for(it.per_user_limit, used.get(it.id, 0)) if customer_id is not None else None,
                starts_at=it.starts_at,
                ends_at=it.ends_at,
            )
        )
    return out


async def redemptions(
    s: AsyncSession,
    *,
    before_id: int | None = None,
    limit: int = 20,
    item_id: int | None = None,
    customer_id: int | None = None,
    since: datetime | None = None,
) -> tuple[list[RedemptionAdmin], str | None]:
    """Redemptions newest first, one keyset page (of one item or one shopper when given)."""
    q = (
        select(Redemption, Customer.nickname)
        .join(Customer, Customer.id == Redemption.customer_id)
        .order_by(Redemption.id.desc())
    )
    if before_id:
        q = q.where(Redemption.id < before_id)
    if item_id:
        q = q.where(Redemption.item_id == item_id)
    if customer_id:
        q = q.where(Redemption.customer_id == customer_id)
    if since is not None:
        q = q.where(Redemption.created_at >= since)
    rows, cursor = await keyset_page(s, q, limit=limit)
    return [
        RedemptionAdmin(
            id=r.id,
            item_id=r.item_id,
            customer_id=r.customer_id,
            customer_name=nickname,
            kind=r.kind,
            title=r.title,
            qty=r.qty,
            points=r.points,
            cash_fen=r.cash_fen,
            status=r.status,
            order_id=r.order_id,
            coupon_id=r.coupon_id,
            created_at=r.created_at,
        )
        for r, nickname in rows
    ], cursor


async def mine(s: AsyncSession, *, customer_id: int, before_id: int | None, limit: int) -> tuple[list[Any], str | None]:
    """The shopper's own redemptions, newest first."""
    q = select(Redemption).where(Redemption.customer_id == customer_id).order_by(Redemption.id.desc())
    if before_id:
        q = q.where(Redemption.id < before_id)
    return await keyset_page(s, q, limit=limit)


async def redemption_out(
    s: AsyncSession, *, r: Redemption, order: Order | None = None, coupon: Any = None
) -> dict[str, Any]:
    """A redemption as the shopper reads it: {id, points_spent, order?|coupon?, …}."""
    out: dict[str, Any] = {
        "id": r.id,
        "item_id": r.item_id,
        "kind": r.kind,
        "title": r.title,
        "qty": r.qty,
        "points_spent": r.points,
        "cash_fen": r.cash_fen,
        "status": r.status,
        "created_at": r.created_at,
    }
    if r.order_id is not None:
        if order is None:
            order = await s.scalar(select(Order).where(Order.id == r.order_id))
        if order is not None:
            out["order"] = {"id": order.id, "status": order.status, "payable_fen": order.payable_fen}
    if r.coupon_id is not None:
        if coupon is None:
            coupon = await s.scalar(select(Coupon).where(Coupon.id == r.coupon_id))
        if coupon is not None:
            name = await s.scalar(select(CouponTemplate.name).where(CouponTemplate.id == coupon.template_id))
            out["coupon"] = {"id": coupon.id, "name": name or "", "valid_until": coupon.valid_until}
    return RedemptionPublic.model_validate(out).model_dump(mode="json", exclude_none=True)
