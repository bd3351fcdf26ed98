"""Promotions: CRUD, the live rules for a checkout, gift stock, usage figures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.catalog.errors import CatalogError
from fissionmall.core import cache, clock, events, extras, jobs
from fissionmall.core.db import keyset_page
from fissionmall.core.errors import AppError, Conflict, not_found
from fissionmall.orders import service as orders
from fissionmall.orders.events import OrderPaid, has_ref
from fissionmall.promotions import rules
from fissionmall.promotions.errors import PromotionsError
from fissionmall.promotions.models import GiftReservation, Promotion, PromotionUse
from fissionmall.promotions.schemas import PromotionCreate, PromotionUpdate


def _values(data: dict[str, Any]) -> dict[str, Any]:
    if "scope" in data:
        data["scope_kind"] = data.pop("scope")
    price_tiers = data.pop("price_tiers", None)
    if data.get("kind") == "tiered_price" and price_tiers is not None:
        data["tiers"] = price_tiers
    return data


async def _check_skus(s: AsyncSession, p: dict[str, Any]) -> None:
    wanted = {i["sku_id"] for i in p.get("items") or []}
    for k in ("sku_id", "gift_sku_id"):
        if p.get(k):
            wanted.add(p[k])
    if not wanted:
        return
    found = await catalog.skus_for_sale(s, sku_ids=sorted(wanted))
    missing = sorted(wanted - set(found))
    if missing:
        raise AppError(CatalogError.SKU_NOT_FOUND, status=404, sku_id=missing[0])


async def create(s: AsyncSession, *, data: PromotionCreate) -> Promotion:
    """Create a promotion after checking its rule makes sense."""
    values = _values(data.model_dump())
    rules.check(values)
    await _check_skus(s, values)
    now = clock.now()
    p = Promotion(**values, gift_given=0, used_orders=0, discount_fen=0, created_at=now, updated_at=now)
    s.add(p)
    await s.flush()
    await cache.bump(s, PROMOTIONS)
    return p


async def get(s: AsyncSession, *, promotion_id: int) -> Promotion:
    """A promotion by id (fresh from the database), or NOT_FOUND."""
    p = await s.get(Promotion, promotion_id, populate_existing=True)
    if p is None:
        raise not_found("promotion")
    return p


async def update_promotion(s: AsyncSession, *, promotion_id: int, data: PromotionUpdate) -> Promotion:
    """Edit a promotion (pause/resume is `status`)."""
    p = await get(s, promotion_id=promotion_id)
    changes = data.model_dump(exclude_unset=True)
    changes = _values({"kind": p.kind, **changes})
    changes.pop("kind")
    changes.pop("price_tiers", None)
    merged = {c.name: getattr(p, c.name) for c in Promotion.__table__.columns}
    merged.update(changes)
    rules.check(merged)
    await _check_skus(s, merged)
    if merged.get("gift_stock") is not None and merged["gift_stock"] < p.gift_given:
        raise Conflict(PromotionsError.GIFT_STOCK_BELOW_GIVEN, given=p.gift_given)
    for k, v in changes.items():
        setattr(p, k, v)
    p.updated_at = clock.now()
    await s.flush()
    await cache.bump(s, PROMOTIONS)  # after the row's own lock, in the order checkout's gift reserve takes them
    return p


async def delete(s: AsyncSession, *, promotion_id: int) -> None:
    """Delete a promotion no order has used yet (else PROMOTION_IN_USE)."""
    p = await get(s, promotion_id=promotion_id)
    if p.used_orders or p.gift_given:
        raise Conflict(PromotionsError.PROMOTION_IN_USE)
    await s.delete(p)
    await s.flush()
    await cache.bump(s, PROMOTIONS)


async def list_promotions(
    s: AsyncSession, *, kind: str | None = None, before_id: int | None = None, limit: int = 20
) -> tuple[list[Promotion], str | None]:
    """Promotions newest first, one keyset page."""
    q = select(Promotion).order_by(Promotion.id.desc())
    if kind:
        q = q.where(Promotion.kind == kind)
    if before_id:
        q = q.where(Promotion.id < before_id)
    return await keyset_page(s, q, limit=limit)


PROMOTIONS = "promotions"
# (the time it was loaded at, the active promotions not ended by then); copies no session holds.
_live: cache.Value[tuple[datetime, tuple[Promotion, ...]]] = cache.Value(PROMOTIONS)
_COLUMNS = tuple(Promotion.__table__.columns)


async def _load_live(s: AsyncSession) -> tuple[datetime, tuple[Promotion, ...]]:
    now = clock.now()
    rows = await s.execute(
        select(*_COLUMNS).where(Promotion.status == "active", Promotion.ends_at > now).order_by(Promotion.id)
    )
    # Transient copies: an instance in the caller's session would be expired by its commit or changed by
    # its writes, and this one is shared by every request of the process.
    return now, tuple(Promotion(**row._asdict()) for row in rows.all())


async def live(s: AsyncSession) -> list[Promotion]:
    """Promotions running now, from the process cache (an edit shows within about `cache.POLL_SECONDS`).
    The cache holds the ones not ended when it was loaded, those yet to start included, so the window is
    judged here at each call; a clock moved back before the load (dev clock) loads again."""
    now = clock.now()
    _, promos = await _live.get(s, _load_live, valid=lambda held: held[0] <= now)
    return [p for p in promos if p.starts_at <= now < p.ends_at]


# Promotions a product page does not show: an A/B test's arms price only for their own shoppers, who see
# them in the checkout preview (experiments registers one; the page itself knows no shopper).
_badge_filters: list[Callable[[AsyncSession], Awaitable[frozenset[int]]]] = []


def register_badge_filter(fn: Callable[[AsyncSession], Awaitable[frozenset[int]]]) -> None:
    """Add a source of promotion ids the product page leaves out (once per function)."""
    if fn not in _badge_filters:
        _badge_filters.append(fn)


async def badges(
    s: AsyncSession, *, product_id: int, category_id: int | None, sku_ids: Sequence[int]
) -> list[Promotion]:
    """The live promotions a product page shows."""
    hidden: set[int] = set()
    for fn in _badge_filters:
        hidden |= await fn(s)
    return [
        p
        for p in await live(s)
        if p.id not in hidden and rules.covers_product(p, product_id, category_id, set(sku_ids))
    ]


@extras.contributes(extras.PRODUCT)
async def _product_badges(s: AsyncSession, *, product: Any, category_id: int | None) -> dict[str, Any]:
    live = await badges(s, product_id=product.id, category_id=category_id, sku_ids=[k.id for k in product.skus])
    out: dict[str, Any] = {
        "promotions": [{"id": x.id, "kind": x.kind, "name": x.name, "label": rules.label(x)} for x in live]
    }
    if any(x.kind == "limited_discount" for x in live):
        # each SKU's 限时价 as checkout charges one unit, and when it ends: the page shows it, not a badge only
        cut = rules.limited_prices(live, product.id, category_id, [(k.id, k.name, k.price_fen) for k in product.skus])
        out["skus"] = [
            k.model_copy(update={"limited_price_fen": cut[k.id][0], "limited_ends_at": cut[k.id][1]})
            if k.id in cut
            else k
            for k in product.skus
        ]
    return out


@extras.contributes(extras.FREE_SHIPPING)
async def _ships_free(s: AsyncSession, *, product: Any, category_id: int | None) -> dict[str, Any]:
    live = await badges(s, product_id=product.id, category_id=category_id, sku_ids=[k.id for k in product.skus])
    return {"free_shipping": True} if any(x.kind == "free_shipping" and not x.threshold for x in live) else {}


def _gift_in_stock(gift_stock: int | None, gift_given: int, gift_qty: int) -> bool:
    """As the pricing rules judge it (rules.to_context_parts): the cached promotions carry `gift_given`, so
    a change of this answer, and only that, must move the version."""
    return gift_stock is None or gift_stock - gift_given >= gift_qty


async def reserve_gift(s: AsyncSession, *, promotion_id: int, qty: int, order_id: int) -> None:
    """Take gift units from the promotion's own stock for an order, atomically."""
    res = await s.execute(
        update(Promotion)
        .where(
            Promotion.id == promotion_id,
            (Promotion.gift_stock.is_(None)) | (Promotion.gift_stock - Promotion.gift_given >= qty),
        )
        .values(gift_given=Promotion.gift_given + qty)
        .returning(Promotion.gift_stock, Promotion.gift_given, Promotion.gift_qty)
        .execution_options(synchronize_session=False)
    )
    row = res.first()
    if row is None:
        raise Conflict(PromotionsError.GIFT_OUT_OF_STOCK)
    if _gift_in_stock(row.gift_stock, row.gift_given - qty, row.gift_qty) != _gift_in_stock(*row):
        await cache.bump(s, PROMOTIONS)  # the cached rules offer the gift by its stock: this order ends it
    s.add(GiftReservation(order_id=order_id, promotion_id=promotion_id, qty=qty, status="held"))


async def release_gifts(s: AsyncSession, *, order_id: int) -> None:
    """Give an order's held gifts back to their gift stock, each once."""
    held = (await s.scalars(select(GiftReservation).where(GiftReservation.order_id == order_id))).all()
    for r in held:
        res = await s.execute(
            update(GiftReservation)
            .where(GiftReservation.id == r.id, GiftReservation.status == "held")
            .values(status="released")
            .execution_options(synchronize_session=False)
        )
        if res.rowcount == 1:  # type: ignore[attr-defined]
            back = await s.execute(
                update(Promotion)
                .where(Promotion.id == r.promotion_id)
                .values(gift_given=Promotion.gift_given - r.qty)
                .returning(Promotion.gift_stock, Promotion.gift_given, Promotion.gift_qty)
                .execution_options(synchronize_session=False)
            )
            row = back.first()
            if row is not None and _gift_in_stock(row.gift_stock, row.gift_given + r.qty, row.gift_qty) != (
                _gift_in_stock(*row)
            ):
                await cache.bump(s, PROMOTIONS)  # the gift is back in stock for the cached rules


@jobs.handler("promotions.release_gifts")
async def _on_cancelled(s: AsyncSession, job: jobs.Job) -> None:
    """Deliveries queued before a cancellation gave gift stock back in its own transaction (the
    promotions' checkout hook now does): releasing twice is a no-op."""
    await release_gifts(s, order_id=job.payload["order_id"])


@events.on(OrderPaid, "promotions.count_usage", when=has_ref("promotion"))
async def _on_paid(s: AsyncSession, ev: OrderPaid) -> None:
    """Usage figures: each paid order counts once per promotion that priced it."""
    order = await orders.get_order(s, order_id=ev.order_id)
    per: dict[int, int] = {}
    for st in order.steps or []:
        ref = str(st.get("ref", ""))
        if ref.startswith("promotion:"):
            pid = int(ref.split(":", 1)[1])
            per[pid] = per.get(pid, 0) - int(st.get("amount_fen", 0))
    for pid, cut in sorted(per.items()):
        try:
            async with s.begin_nested():
                s.add(PromotionUse(order_id=order.id, promotion_id=pid, discount_fen=cut))
                await s.flush()
        except IntegrityError:
            continue
        await s.execute(
            update(Promotion)
            .where(Promotion.id == pid)
            .values(used_orders=Promotion.used_orders + 1, discount_fen=Promotion.discount_fen + cut)
            .execution_options(synchronize_session=False)
        )
