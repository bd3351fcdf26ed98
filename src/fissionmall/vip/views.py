"""付费会员 as others read it: the shopper's membership page, the merchant's purchase list, /me's
`paid_member_until`, and the 会员价 the product page and the list's cards show (from the cached book)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import Customer
from fissionmall.core import clock, extras
from fissionmall.core.db import keyset_page
from fissionmall.core.schemas import to_local
from fissionmall.vip import plans, rules, service
from fissionmall.vip.models import VipGrant, VipMember, VipPlan, VipPurchase
from fissionmall.vip.schemas import GrantPublic, PurchaseAdmin, SubscriptionPublic


async def subscription(s: AsyncSession, *, customer_id: int) -> SubscriptionPublic:
    """The shopper's paid membership: plan, run start, expiry, this run's grants, whether a refund is open."""
    now = clock.now()
    m = await s.get(VipMember, customer_id)
    active = m is not None and rules.is_active(m.until, now)
    plan_pub = None
    grants: list[VipGrant] = []
    if m is not None and m.run_no > 0:
        plan = await s.get(VipPlan, m.plan_id)
        if plan is not None:
            plan_pub = (await plans.to_public(s, plans=[plan]))[0]
        grants = list(
            (
                await s.scalars(
                    select(VipGrant)
                    .where(VipGrant.customer_id == customer_id, VipGrant.run_no == m.run_no)
                    .order_by(VipGrant.month)
                )
            ).all()
        )
    latest = await service.latest_purchase(s, customer_id=customer_id)
    refundable = latest is not None and rules.in_cooling_off(latest.paid_at, latest.cooling_days, now)
    return SubscriptionPublic(
        active=active,
        plan=plan_pub,
        started_at=m.anchor_at if m is not None and m.run_no > 0 else None,
        until=m.until if m is not None and m.run_no > 0 else None,
        grants=[
            GrantPublic(month=g.month, granted_at=g.granted_at, coupons=len(g.coupon_ids), taken_back=g.taken_back)
            for g in grants
        ],
        coupons_received=sum(len(g.coupon_ids) - g.taken_back for g in grants),
        refundable=refundable,
        refund_until=rules.refund_deadline(latest.paid_at, latest.cooling_days)
        if refundable and latest is not None and latest.paid_at is not None
        else None,
        refund_fen=await service.refund_quote(s, purchase=latest) if refundable and latest is not None else None,
    )


async def purchases(
    s: AsyncSession,
    *,
    customer_id: int | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[PurchaseAdmin], str | None]:
    """Paid purchases (and refunds), newest first, one keyset page, with the shopper's nickname."""
    q = (
        select(VipPurchase, Customer.nickname)
        .join(Customer, Customer.id == VipPurchase.customer_id)
        .where(VipPurchase.status.in_((status,) if status else ("active", "refunded")))
        .order_by(VipPurchase.id.desc())
    )
    if customer_id is not None:
        q = q.where(VipPurchase.customer_id == customer_id)
    if before_id:
        q = q.where(VipPurchase.id < before_id)
    rows, nxt = await keyset_page(s, q, limit=limit)
    now = clock.now()
    latest: dict[int, int | None] = {}
    out = []
    for p, nick in rows:
        if p.customer_id not in latest:
            lp = await service.latest_purchase(s, customer_id=p.customer_id)
            latest[p.customer_id] = lp.id if lp is not None else None
        out.append(
            PurchaseAdmin(
                id=p.id,
                customer_id=p.customer_id,
                customer_nickname=nick or "",
                plan_id=p.plan_id,
                plan_name=p.plan_name,
                order_id=p.order_id,
                status=p.status,
                price_fen=p.price_fen,
                starts_at=p.starts_at,
                until=p.until,
                paid_at=p.paid_at,
                refunded_at=p.refunded_at,
                refund_fen=p.refund_fen,
                refund_reason=p.refund_reason,
                refundable=p.status == "active"
                and latest[p.customer_id] == p.id
                and rules.in_cooling_off(p.paid_at, p.cooling_days, now),
            )
        )
    return out, nxt


@extras.contributes(extras.ME)
async def _me(s: AsyncSession, *, customer_id: int) -> dict[str, Any]:
    until = await s.scalar(select(VipMember.until).where(VipMember.customer_id == customer_id))
    active = rules.is_active(until, clock.now())
    return {"paid_member_until": to_local(until).isoformat() if active and until is not None else None}


@extras.contributes(extras.PRODUCT)
async def _product(s: AsyncSession, *, product: Any, category_id: int | None) -> dict[str, Any]:
    """The SKUs' 会员价 (`member_prices` by SKU id, the lowest as `member_price_fen`) and the member-only
    mark. Product-level fields, so they never collide with another tool's copy of `skus` (限时价)."""
    b = await plans.book(s)
    mine = {k.id: b.prices[k.id] for k in product.skus if k.id in b.prices}
    out: dict[str, Any] = {}
    if mine:
        out["member_prices"] = mine
        out["member_price_fen"] = min(mine.values())
    if product.id in b.only:
        out["member_only"] = True
    return out


@extras.contributes(extras.PRODUCT_LIST)
async def _cards(s: AsyncSession, *, products: list[Any], rows: list[Any]) -> dict[str, Any]:
    """The cards' lowest 会员价 and member-only mark, from the cached book."""
    b = await plans.book(s)
    if not b.prices and not b.only:
        return {}
    prices = {p.id: min(b.by_product[p.id].values()) for p in products if b.by_product.get(p.id)}
    only = {p.id: True for p in products if p.id in b.only}
    out: dict[str, Any] = {}
    if prices:
        out["member_price_fen"] = prices
    if only:
        out["member_only"] = only
    return out
