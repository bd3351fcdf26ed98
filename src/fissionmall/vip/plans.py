"""付费会员's merchant side: plans (CRUD, the shop's list with benefit lines) and the 会员价 book (SKU
member prices, member-only products), cached per process for checkout and the product pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog.models import Product, Sku
from fissionmall.core import cache, clock
from fissionmall.core.errors import AppError, Conflict, NotFound
from fissionmall.coupons import rules as coupon_rules
from fissionmall.coupons.models import CouponTemplate
from fissionmall.vip import rules
from fissionmall.vip.errors import VipError
from fissionmall.vip.models import VipOnlyProduct, VipPlan, VipPurchase, VipSkuPrice
from fissionmall.vip.schemas import MemberPrices, PlanAdmin, PlanCreate, PlanPublic, PlanUpdate

VIP = "vip"


@dataclass(frozen=True)
class Book:
    """What checkout and the product pages read on every request: the member prices and member-only products."""

    prices: dict[int, int] = field(default_factory=dict)  # sku_id → unit fen
    by_product: dict[int, dict[int, int]] = field(default_factory=dict)  # product_id → {sku_id: fen}
    only: frozenset[int] = frozenset()  # member-only product ids


_book: cache.Value[Book] = cache.Value(VIP)


async def _load_book(s: AsyncSession) -> Book:
    prices: dict[int, int] = {}
    by_product: dict[int, dict[int, int]] = {}
    for sku_id, product_id, fen in (
        await s.execute(select(VipSkuPrice.sku_id, VipSkuPrice.product_id, VipSkuPrice.price_fen))
    ).all():
        prices[sku_id] = fen
        by_product.setdefault(product_id, {})[sku_id] = fen
    only = frozenset((await s.scalars(select(VipOnlyProduct.product_id))).all())
    return Book(prices=prices, by_product=by_product, only=only)


async def book(s: AsyncSession) -> Book:
    """The cached 会员价 book (an edit shows within about `cache.POLL_SECONDS`)."""
    return await _book.get(s, _load_book)


# ---- plans ---------------------------------------------------------------------------------------------


async def _check_grant(s: AsyncSession, p: VipPlan) -> None:
    if p.grant_template_id is None:
        p.grant_count = 0
        return
    if p.grant_count <= 0:
        raise AppError(VipError.VIP_GRANT_INVALID, field="grant_count")
    if await s.get(CouponTemplate, p.grant_template_id) is None:
        raise NotFound(VipError.VIP_TEMPLATE_NOT_FOUND, field="grant_template_id")


async def create_plan(s: AsyncSession, *, data: PlanCreate) -> VipPlan:
    """Add a plan."""
    now = clock.now()
    p = VipPlan(**data.model_dump(), created_at=now, updated_at=now)
    await _check_grant(s, p)
    s.add(p)
    await s.flush()
    return p


async def get_plan(s: AsyncSession, *, plan_id: int, lock: bool = False) -> VipPlan:
    """A plan by id, or VIP_PLAN_NOT_FOUND."""
    q = select(VipPlan).where(VipPlan.id == plan_id).execution_options(populate_existing=True)
    p = await s.scalar(q.with_for_update() if lock else q)
    if p is None:
        raise NotFound(VipError.VIP_PLAN_NOT_FOUND)
    return p


async def update_plan(s: AsyncSession, *, plan_id: int, data: PlanUpdate) -> VipPlan:
    """Change a plan; periods already sold keep their terms."""
    p = await get_plan(s, plan_id=plan_id, lock=True)
    for k, v in data.model_dump(exclude_unset=True).items():
        setattr(p, k, v)
    await _check_grant(s, p)
    p.updated_at = clock.now()
    await s.flush()
    return p


async def delete_plan(s: AsyncSession, *, plan_id: int) -> None:
    """Delete a plan nobody bought (one that sold is stopped with `active` false instead)."""
    p = await get_plan(s, plan_id=plan_id, lock=True)
    if await s.scalar(select(VipPurchase.id).where(VipPurchase.plan_id == p.id).limit(1)) is not None:
        raise Conflict(VipError.VIP_PLAN_IN_USE)
    await s.delete(p)
    await s.flush()


async def list_plans(s: AsyncSession, *, active_only: bool = False) -> list[VipPlan]:
    """Plans, cheapest first (the shop lists active ones only)."""
    q = select(VipPlan).order_by(VipPlan.price_fen, VipPlan.id)
    if active_only:
        q = q.where(VipPlan.active.is_(True))
    return list((await s.scalars(q)).all())


async def _templates(s: AsyncSession, ids: set[int]) -> dict[int, CouponTemplate]:
    if not ids:
        return {}
    return {t.id: t for t in (await s.scalars(select(CouponTemplate).where(CouponTemplate.id.in_(ids)))).all()}


async def benefit_lines(s: AsyncSession, *, plans: Sequence[VipPlan]) -> dict[int, list[str]]:
    """Each plan's benefits in Chinese, by plan id."""
    ts = await _templates(s, {p.grant_template_id for p in plans if p.grant_template_id})
    b = await book(s)
    has_prices = bool(b.prices or b.only)
    out = {}
    for p in plans:
        t = ts.get(p.grant_template_id) if p.grant_template_id else None
        out[p.id] = rules.benefits(
            discount_bp=p.discount_bp,
            grant_count=p.grant_count,
            coupon_headline=coupon_rules.headline(t) + "券" if t is not None else None,
            days=p.days,
            cooling_days=p.cooling_days,
            has_prices=has_prices,
        )
    return out


async def to_public(s: AsyncSession, *, plans: Sequence[VipPlan]) -> list[PlanPublic]:
    """Plans as the shop shows them."""
    lines = await benefit_lines(s, plans=plans)
    return [
        PlanPublic(
            id=p.id, name=p.name, price_fen=p.price_fen, days=p.days, discount_bp=p.discount_bp, benefits=lines[p.id]
        )
        for p in plans
    ]


async def to_admin(s: AsyncSession, *, plans: Sequence[VipPlan]) -> list[PlanAdmin]:
    """Plans as the admin API shows them, with the coupon's name and how many were sold."""
    lines = await benefit_lines(s, plans=plans)
    ts = await _templates(s, {p.grant_template_id for p in plans if p.grant_template_id})
    ids = [p.id for p in plans]
    sold: dict[int, int] = {}
    if ids:
        rows = await s.execute(
            select(VipPurchase.plan_id, func.count())
            .where(VipPurchase.plan_id.in_(ids), VipPurchase.status.in_(("active", "refunded")))
            .group_by(VipPurchase.plan_id)
        )
        sold = {pid: int(n) for pid, n in rows.all()}
    return [
        PlanAdmin(
            id=p.id,
            name=p.name,
            price_fen=p.price_fen,
            days=p.days,
            discount_bp=p.discount_bp,
            grant_template_id=p.grant_template_id,
            grant_template_name=ts[p.grant_template_id].name if p.grant_template_id in ts else None,
            grant_count=p.grant_count,
            cooling_days=p.cooling_days,
            active=p.active,
            sold=sold.get(p.id, 0),
            benefits=lines[p.id],
            created_at=p.created_at,
            updated_at=p.updated_at,
        )
        for p in plans
    ]


# ---- 会员价 and 会员专享 ----------------------------------------------------------------------------------


async def member_prices(s: AsyncSession) -> MemberPrices:
    """The whole table as saved (SKUs in id order)."""
    rows = (await s.scalars(select(VipSkuPrice).order_by(VipSkuPrice.sku_id))).all()
    only = (await s.scalars(select(VipOnlyProduct.product_id).order_by(VipOnlyProduct.product_id))).all()
    return MemberPrices.model_validate(
        {
            "prices": [{"sku_id": r.sku_id, "price_fen": r.price_fen} for r in rows],
            "member_only_product_ids": list(only),
        }
    )


async def save_member_prices(s: AsyncSession, *, data: MemberPrices) -> MemberPrices:
    """Replace the 会员价 table and the member-only products: each price below its SKU's, SKUs on sale,
    products not deleted; a refusal names the row (`prices.N.price_fen`) and changes nothing."""
    wanted: dict[int, int] = {}
    for row in data.prices:
        wanted[row.sku_id] = row.price_fen  # a SKU listed twice: the later row wins
    skus: dict[int, Any] = {}
    if wanted:
        found = await s.execute(
            select(Sku.id, Sku.product_id, Sku.price_fen)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.id.in_(wanted), Sku.is_active.is_(True), Product.status != "deleted")
        )
        skus = {sid: (pid, price) for sid, pid, price in found.all()}
    for i, row in enumerate(data.prices):
        if row.sku_id not in skus:
            raise NotFound(VipError.VIP_SKU_NOT_FOUND, field=f"prices.{i}.sku_id", sku_id=row.sku_id)
        if row.price_fen >= skus[row.sku_id][1]:
            raise AppError(VipError.VIP_MEMBER_PRICE_TOO_HIGH, field=f"prices.{i}.price_fen", sku_id=row.sku_id)
    only = list(dict.fromkeys(data.member_only_product_ids))
    if only:
        known = set(
            (await s.scalars(select(Product.id).where(Product.id.in_(only), Product.status != "deleted"))).all()
        )
        for i, pid in enumerate(only):
            if pid not in known:
                raise NotFound(VipError.VIP_PRODUCT_NOT_FOUND, field=f"member_only_product_ids.{i}", product_id=pid)
    await cache.bump(s, VIP)
    await s.execute(delete(VipSkuPrice))
    await s.execute(delete(VipOnlyProduct))
    s.add_all(VipSkuPrice(sku_id=sid, product_id=skus[sid][0], price_fen=fen) for sid, fen in wanted.items())
    s.add_all(VipOnlyProduct(product_id=pid) for pid in only)
    await s.flush()
    return await member_prices(s)
