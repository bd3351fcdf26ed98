"""Checkout: gather what a cart needs once, price it through the pure chain, turn the quote into an order.

The shape is Saleor's (fetch → compute → complete): `gather` reads the catalogue lines and every
registered contribution's inputs, `compute` runs the chain with no I/O, `place` writes the order
through `orders` and then runs the contributions' holds inside the same transaction, taking the
SKUs' stock last so the hot row is locked for the shortest span before the commit. Checkout knows no
marketing tool by name: coupons, promotions (and later membership, points, the wallet) plug in
through `checkout.contributions`; group buying, seckill and bargaining hand it a typed `Plan`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.addresses import service as addresses
from fissionmall.cart import service as cart
from fissionmall.cart.errors import CartError
from fissionmall.catalog import service as catalog
from fissionmall.catalog.errors import CatalogError
from fissionmall.checkout import contributions, shipping, tenders
from fissionmall.checkout.contributions import POSITIONS, Ask
from fissionmall.checkout.errors import CheckoutError
from fissionmall.checkout.plans import Plan, normal_plan
from fissionmall.checkout.schemas import CartItem, CheckoutRequest
from fissionmall.core.errors import AppError, Conflict, CoreError, TooMany
from fissionmall.core.kv import get_kv
from fissionmall.orders import service as orders
from fissionmall.orders.models import Order, Refund
from fissionmall.orders.sources import register_order_hooks
from fissionmall.orders.tenders import GATEWAY, gateway_due
from fissionmall.pricing.errors import PricingError
from fissionmall.pricing.rules import (
    CartLine,
    PricingContext,
    Quote,
    activity_step,
    goods_step,
    member_step,
    points_step,
    price,
    shipping_step,
)
from fissionmall.settings import Settings

# Checkout's own steps; contributions add theirs between them (contributions.POSITIONS).
BASE_STEPS = (
    (POSITIONS["goods"], goods_step),
    (POSITIONS["activity"], activity_step),
    (POSITIONS["member"], member_step),
    (POSITIONS["points"], points_step),
    (POSITIONS["shipping"], shipping_step),
)


def merge_items(items: Sequence[CartItem], max_qty: int) -> list[tuple[int, int]]:
    """One entry per SKU; the same SKU twice adds up (and is judged by the sum)."""
    qty: dict[int, int] = {}
    for it in items:
        qty[it.sku_id] = qty.get(it.sku_id, 0) + it.qty
    for sku_id, n in qty.items():
        if n > max_qty:
            raise AppError(CheckoutError.QTY_TOO_LARGE, f"同一规格每单最多 {max_qty} 件", sku_id=sku_id)
    return sorted(qty.items())  # primary-key order, so concurrent orders lock rows in one order


async def check_order_rate(customer_id: int, settings: Settings) -> None:
    """One budget of new orders per shopper per minute, whichever tool places them (plain, group buying)."""
    if not await get_kv().allow(f"order:c:{customer_id}", limit=settings.order_rate_per_minute, window_seconds=60):
        raise TooMany(CoreError.RATE_LIMITED)


def plan_of(body: CheckoutRequest, settings: Settings) -> Plan:
    """The plain catalogue plan of a checkout body."""
    return normal_plan(merge_items(body.items, settings.max_line_qty))


async def plan_for(
    s: AsyncSession, *, body: CheckoutRequest, customer_id: int | None, settings: Settings, placing: bool = False
) -> Plan:
    """The plan of a checkout body: its `items`, or with `from_cart` the selected lines of the shopper's
    cart (CART_EMPTY when none, CART_LINE_INVALID naming a selected line that cannot be bought)."""
    if not body.from_cart:
        return plan_of(body, settings)
    if customer_id is None:
        raise AppError(CartError.CART_EMPTY)
    chosen = await cart.lines_for_checkout(
        s, customer_id=customer_id, max_lines=settings.max_order_lines, placing=placing
    )
    return normal_plan(chosen)


async def clear_cart_of(s: AsyncSession, *, body: CheckoutRequest, customer_id: int, plan: Plan) -> None:
    """An order placed from the cart takes its lines out of it, in the order's transaction (so exactly once:
    a replay of the same Idempotency-Key returns the first order and runs nothing)."""
    if body.from_cart:
        await cart.remove_ordered(s, customer_id=customer_id, ordered=[(p.sku_id, p.qty) for p in plan.lines])


@dataclass(frozen=True)
class Gathered:
    ask: Ask
    cart: tuple[CartLine, ...]
    parts: Mapping[str, Any]


def cart_line(sku: Any, prod: Any, *, qty: int, **extra: Any) -> CartLine:
    """A catalogue SKU (as `catalog.skus_for_sale` returns it) as a line of the chain, at its list price."""
    return CartLine(
        sku_id=sku.id,
        product_id=prod.id,
        category_id=prod.category_id,
        title=prod.title,
        sku_name=sku.name,
        unit_price_fen=sku.price_fen,
        qty=qty,
        image=prod.images[0] if prod.images else None,
        **extra,
    )


async def gather(s: AsyncSession, *, ask: Ask) -> Gathered:
    """Every read the chain needs, once: the plan's SKUs (one query) and each contribution's inputs."""
    planned = ask.plan.lines
    # Placing takes the stock with a conditional UPDATE, last: reading it first would only cost a statement.
    found = await catalog.skus_for_sale(s, sku_ids=[p.sku_id for p in planned], with_stock=not ask.placing)
    cart = []
    for p in planned:
        if p.sku_id not in found:
            raise AppError(CatalogError.SKU_NOT_FOUND, sku_id=p.sku_id)
        sku, prod = found[p.sku_id]
        if not ask.placing and p.take_sku_stock and p.qty > sku.stock:
            # Told at preview, not only when the order is placed (placing re-checks atomically).
            raise Conflict(CatalogError.OUT_OF_STOCK, sku_id=sku.id, stock=sku.stock)
        cart.append(
            cart_line(sku, prod, qty=p.qty, activity_price_fen=p.activity_price_fen, activity_label=p.activity_label)
        )
    parts: dict[str, Any] = {}
    for c in contributions.registered():
        if c.load is not None:
            parts[c.name] = await c.load(s, ask)
    return Gathered(ask=ask, cart=tuple(cart), parts=parts)


def compute(g: Gathered) -> Quote:
    """The pure part: fill the context, let contributions decide (the best coupon), run the chain."""
    ask = g.ask
    ctx = PricingContext(shipping_fee_fen=ask.settings.shipping_fee_fen)
    for c in contributions.registered():
        if c.context is not None:
            ctx = c.context(g.parts.get(c.name), ctx, ask)
    chain = contributions.chain(BASE_STEPS)
    info: dict[str, Any] = {}
    quoted: Quote | None = None
    for c in contributions.registered():
        if c.decide is not None:
            d = c.decide(g.parts.get(c.name), g.cart, ctx, chain, ask)
            if d.ctx is not None:
                ctx, quoted = d.ctx, d.quote
            if d.info:
                info.update(d.info)
    q = quoted if quoted is not None else price(g.cart, ctx, chain)
    return replace(q, extra={**info, "hints": list(q.hints)})


async def quote(
    s: AsyncSession,
    *,
    customer_id: int | None,
    coupon_id: int | None,
    plan: Plan,
    settings: Settings,
    placing: bool = False,
    choose_coupon: bool = True,
    options: Mapping[str, Any] | None = None,
) -> Quote:
    """Price a plan as it would be ordered now. A preview (`placing` False) also picks the best of the
    shopper's coupons when none is chosen, unless `choose_coupon` is False (the shopper wants none)."""
    ask = Ask(
        customer_id=customer_id,
        coupon_id=coupon_id,
        plan=plan,
        settings=settings,
        placing=placing,
        choose_coupon=choose_coupon,
        options=options,
    )
    return compute(await gather(s, ask=ask))


def body_options(body: CheckoutRequest) -> dict[str, Any]:
    """The body's fields for a contribution of its own: `points` for the points contribution."""
    return {"points": {"points": body.points}} if body.points else {}


async def preview(
    s: AsyncSession, *, body: CheckoutRequest, customer_id: int | None, settings: Settings, choose_coupon: bool = True
) -> Quote:
    """A preview of the body's own cart; `choose_coupon` False: the shopper chose no coupon."""
    return await quote(
        s,
        customer_id=customer_id,
        coupon_id=body.coupon_id,
        plan=await plan_for(s, body=body, customer_id=customer_id, settings=settings),
        settings=settings,
        choose_coupon=choose_coupon,
        options={**await shipping.preview_options(s, customer_id=customer_id, body=body), **body_options(body)},
    )


def preview_dict(q: Quote) -> dict[str, Any]:
    """A quote as the preview's JSON: lines, steps, totals and the coupon picked or refused."""
    return {
        "lines": [
            {
                "sku_id": p.line.sku_id,
                "product_id": p.line.product_id,
                "title": p.line.title,
                "sku_name": p.line.sku_name,
                "image": p.line.image,
                "unit_price_fen": p.line.unit_price_fen,
                "qty": p.line.qty,
                "subtotal_fen": p.subtotal_fen,
                "discount_fen": p.discount_fen,
                "shipping_fen": p.shipping_fen,
                "payable_fen": p.payable_fen,
            }
            for p in q.lines
        ],
        "steps": [{"kind": st.kind, "label": st.label, "amount_fen": st.amount_fen} for st in q.steps],
        "goods_fen": q.goods_fen,
        "discount_fen": q.discount_fen,
        "shipping_fen": q.shipping_fen,
        "total_fen": q.total_fen,
        "payable_fen": q.payable_fen,
        **q.extra,
    }


async def resolve_address(s: AsyncSession, *, customer_id: int, body: CheckoutRequest) -> dict[str, Any]:
    """The copy of the address the order ships to (inline, from the book, or the default)."""
    return await addresses.order_address(s, customer_id=customer_id, address=body.address, address_id=body.address_id)


async def place(
    s: AsyncSession,
    *,
    customer_id: int,
    body: CheckoutRequest,
    settings: Settings,
    plan: Plan | None = None,
    attribution: Mapping[str, Any] | None = None,
    address: dict[str, Any] | None = None,
) -> Order:
    """Turn a plan (the body's own cart by default) into a pending order, in the caller's transaction:
    price it, write the order (orders: order, lines, unpaid-cancel timer, OrderCreated), run every
    contribution's hold and every tender's take, and take the SKUs' stock last. An order its tenders
    pay in full is paid here (no payment). A tool that resolved the address before reserving (so a
    missing address is told first) passes it as `address`."""
    if address is None:
        address = await resolve_address(s, customer_id=customer_id, body=body)
    if plan is None:
        plan = await plan_for(s, body=body, customer_id=customer_id, settings=settings, placing=True)
    if body.coupon_id is not None and not plan.allows_coupons:
        raise AppError(PricingError.COUPON_NOT_APPLICABLE)
    ask = Ask(
        customer_id=customer_id,
        coupon_id=body.coupon_id,
        plan=plan,
        settings=settings,
        placing=True,
        options={**shipping.options_for(address), **body_options(body)},
    )
    g = await gather(s, ask=ask)
    q = compute(g)
    paid_by = collect_tenders(g, q)
    taken = [pl.take_sku_stock for pl in plan.lines]
    order = await orders.insert_order(
        s,
        customer_id=customer_id,
        source=plan.source,
        source_ref=plan.source_ref,
        attribution={**(attribution or {}), **plan.attribution},
        quote=q,
        stock_taken=taken,
        address=address,
        remark=body.remark,
        pay_minutes=plan.pay_minutes or settings.unpaid_cancel_minutes,
        tenders=paid_by,
    )
    for c in contributions.registered():
        if c.hold is not None and c.owns(q.steps):
            await c.hold(s, order, q, g.parts.get(c.name), ask)
    for name, fen in paid_by:
        await tenders.get(name).take(s, order, fen)
    await clear_cart_of(s, body=body, customer_id=customer_id, plan=plan)
    for ln in order.lines:
        if ln.sku_stock_taken:
            await catalog.sell_stock(s, sku_id=ln.sku_id, qty=ln.qty)
    if paid_by and gateway_due(order) == 0:
        # Nothing is left for the gateway: the order is paid in this transaction, with no payment, so it
        # never waits for a cashier that would ask for 0 fen.
        await orders.mark_paid(s, order=order, amount_fen=0, payment_id=None)
    return order


def collect_tenders(g: Gathered, q: Quote) -> list[tuple[str, int]]:
    """What the contributions' tenders pay of the quote, by tender in registration order (the same
    tender named twice adds up); the gateway pays the rest. Refused when they pay more than the order."""
    paid: dict[str, int] = {}
    for c in contributions.registered():
        if c.tender is None:
            continue
        got = c.tender(g.parts.get(c.name), q, g.ask)
        if got is None:
            continue
        name, fen = got
        if name == GATEWAY or fen < 0:
            raise RuntimeError(f"contribution {c.name!r} asked tender {name!r} for {fen} fen")
        tenders.get(name)  # an unknown tender fails here, before anything is written
        if fen:
            paid[name] = paid.get(name, 0) + fen
    total = sum(paid.values())
    if total > q.payable_fen:
        raise AppError(CheckoutError.TENDER_EXCEEDS_PAYABLE, tender_fen=total, payable_fen=q.payable_fen)
    return list(paid.items())


# ---- following the order ------------------------------------------------------------------------


async def _cancelled(s: AsyncSession, order: Order) -> None:
    for c in contributions.registered():
        if c.cancelled is not None and c.owns(order.steps):
            await c.cancelled(s, order)
    for t in order.tenders or ():
        if t["tender"] != GATEWAY:
            tender = tenders.get(t["tender"])
            if tender.release is not None:
                await tender.release(s, order, t["amount_fen"])


async def _paid(s: AsyncSession, order: Order) -> None:
    for c in contributions.registered():
        if c.paid is not None and c.owns(order.steps):
            await c.paid(s, order)


async def _refunded(s: AsyncSession, order: Order, refund: Refund) -> None:
    """A refund succeeded: each tender but the gateway (which the gateway itself paid out) gives its share
    back, once (the refund's success is a compare-and-set)."""
    for part in refund.tender_parts or ():
        if part["tender"] != GATEWAY and part["amount_fen"]:
            await tenders.get(part["tender"]).give_back(s, order, part["amount_fen"], refund.id)


register_order_hooks(cancelled=_cancelled, paid=_paid, refunded=_refunded)
