"""The "seckill" order source: how a won unit becomes an order, and what the order's lifecycle gives back.

`place_order` is the database wall against oversell (both modes): the buyer's limit and a unit of the pool
are taken by conditional updates (`qty + n <= limit`, `sold + n <= pool`), refusing anything Redis let
through by mistake, and the order is placed through checkout as a typed plan at the seckill price.
`SeckillSource` is the order source's hooks: a cancelled order's unit goes back to the pool.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.catalog.errors import CatalogError
from fissionmall.checkout import service as checkout
from fissionmall.checkout.plans import Plan, PlannedLine
from fissionmall.checkout.schemas import CartItem, CheckoutRequest
from fissionmall.core import clock
from fissionmall.core.db import is_postgres
from fissionmall.core.errors import AppError, Conflict, not_found
from fissionmall.orders import reports
from fissionmall.orders.models import Order
from fissionmall.orders.sources import SourceDefaults, register_source
from fissionmall.seckill import memory, notify, rules
from fissionmall.seckill.errors import SeckillError
from fissionmall.seckill.models import SeckillAttempt, SeckillBuyer, SeckillItem, SeckillSession
from fissionmall.settings import Settings


class SeckillSource(SourceDefaults):
    """Seckill orders: the activity price, the pool (not the SKU's stock), a 5-minute pay window."""

    name = "seckill"

    async def cancelled(self, s: AsyncSession, *, order: Order) -> None:
        """The unit goes back to the pool (the database here; Redis when OrderCancelled is handled)."""
        att = await s.scalar(select(SeckillAttempt).where(SeckillAttempt.order_id == order.id))
        if att is None:
            return
        it = await s.get(SeckillItem, att.item_id, populate_existing=True)
        sess = await s.get(SeckillSession, it.session_id) if it else None
        withdrawn = sess is not None and sess.status != "active"
        values: dict[str, Any] = {"sold": SeckillItem.sold - att.qty}
        if withdrawn:  # the pool was already handed back: this unit goes to the SKU's stock
            values["pool"] = SeckillItem.pool - att.qty
        await s.execute(
            update(SeckillItem)
            .where(SeckillItem.id == att.item_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if withdrawn and it is not None:
            await catalog.pool_to_stock(s, sku_id=it.sku_id, qty=att.qty)
        await s.execute(
            update(SeckillBuyer)
            .where(SeckillBuyer.item_id == att.item_id, SeckillBuyer.customer_id == att.customer_id)
            .values(qty=SeckillBuyer.qty - att.qty)
            .execution_options(synchronize_session=False)
        )
        memory.forget_sold_out(att.item_id)
        if not withdrawn:
            await notify.notify_waiting(s, item_id=att.item_id, why="restock")

    async def can_ship(self, s: AsyncSession, *, order: Order) -> str | None:
        return None


register_source(SeckillSource())


def checkout_body(*, sku_id: int, qty: int, payload: dict[str, Any]) -> CheckoutRequest:
    """The checkout request for a won unit: one line, shipped to the attempt's address (`payload`)."""
    if "address_id" in payload:
        return CheckoutRequest(items=[CartItem(sku_id=sku_id, qty=qty)], address_id=payload["address_id"])
    return CheckoutRequest.model_validate({"items": [{"sku_id": sku_id, "qty": qty}], "address": payload or None})


async def place_order(
    s: AsyncSession,
    *,
    customer_id: int,
    body: CheckoutRequest,
    settings: Settings,
    item_id: int,
    reservation_id: str,
    nonce: str | None = None,
    attribution: dict[str, Any] | None = None,
) -> Order:
    """A seckill order in the caller's transaction: the buyer's limit and a unit of the pool taken, the
    order placed through checkout at the seckill price, and the attempt recorded with it (its unique
    attempt id makes a reservation one order at most)."""
    address = await checkout.resolve_address(s, customer_id=customer_id, body=body)
    items = checkout.merge_items(body.items, settings.max_line_qty)
    it = await s.scalar(select(SeckillItem).where(SeckillItem.id == item_id))
    if it is None:
        raise not_found("item")
    if len(items) != 1 or items[0][0] != it.sku_id:
        raise AppError(SeckillError.SKU_MISMATCH)
    qty = int(items[0][1])
    if it.new_users_only and not await reports.is_new_customer(s, customer_id=customer_id):
        raise Conflict(SeckillError.NEW_USERS_ONLY)
    await _take_limit(s, item_id=item_id, customer_id=customer_id, qty=qty, limit=it.per_user_limit)
    res = await s.execute(
        update(SeckillItem)
        .where(SeckillItem.id == item_id, SeckillItem.sold + qty <= SeckillItem.pool)
        .values(sold=SeckillItem.sold + qty)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(CatalogError.SOLD_OUT, "手慢了，已被抢光")
    order = await checkout.place(
        s,
        customer_id=customer_id,
        body=body,
        settings=settings,
        plan=_plan(it, qty=qty, reservation_id=reservation_id),
        attribution=attribution,
        address=address,
    )
    s.add(
        SeckillAttempt(
            attempt_id=reservation_id,
            token_nonce=nonce,
            item_id=item_id,
            customer_id=customer_id,
            qty=qty,
            status="succeeded",
            order_id=order.id,
            created_at=clock.now(),
        )
    )
    await s.flush()
    return order


async def _take_limit(s: AsyncSession, *, item_id: int, customer_id: int, qty: int, limit: int) -> None:
    """Count `qty` more against the shopper's per-item limit, or LIMIT_REACHED."""
    ins = pg_insert if is_postgres(s) else sqlite_insert
    await s.execute(
        ins(SeckillBuyer)
        .values(item_id=item_id, customer_id=customer_id, qty=0)
        .on_conflict_do_nothing(index_elements=["item_id", "customer_id"])
    )
    res = await s.execute(
        update(SeckillBuyer)
        .where(
            SeckillBuyer.item_id == item_id,
            SeckillBuyer.customer_id == customer_id,
            SeckillBuyer.qty + qty <= limit,
        )
        .values(qty=SeckillBuyer.qty + qty)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(SeckillError.LIMIT_REACHED)


def _plan(it: SeckillItem, *, qty: int, reservation_id: str) -> Plan:
    return Plan(
        lines=(
            PlannedLine(
                sku_id=it.sku_id,
                qty=qty,
                activity_price_fen=it.price_fen,
                activity_label="秒杀价",
                take_sku_stock=False,
            ),
        ),
        source="seckill",
        source_ref=reservation_id,
        pay_minutes=rules.PAY_MINUTES,
        allows_coupons=False,
        attribution={"seckill_item_id": it.id},
    )
