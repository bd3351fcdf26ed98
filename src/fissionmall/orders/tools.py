"""The merchant's order tools: search and filters, 商家备注, 改价 before payment, address correction
before shipping (export.py streams the filtered list; batch.py ships from an uploaded file).

A price change and an address correction are compare-and-set updates under the order's row lock, and
each leaves an `OrderChange` row (who, when, why, before and after), so a dispute can be answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.addresses.schemas import Address, normalize_phone
from fissionmall.core import clock, extras
from fissionmall.core.db import keyset_page
from fissionmall.core.errors import AppError, Conflict
from fissionmall.core.money import split
from fissionmall.core.sql import LIKE_ESCAPE, contains_text
from fissionmall.orders import service
from fissionmall.orders.errors import OrdersError, OrderToolsError
from fissionmall.orders.models import Order, OrderChange, OrderLine

# (s, number: normalised digits) -> {"customer_ids": [...]}: the shoppers whose own (verified) phone is
# this number. WeChat keeps the phone sealed and only a keyed hash of it searchable, so orders asks.
CUSTOMERS_BY_PHONE = "orders.customers_by_phone"

# The states in which the consignee may still be corrected: nothing has left the warehouse.
ADDRESS_EDITABLE = ("pending_payment", "paid")


@dataclass(frozen=True)
class OrderFilter:
    """What the console's order list is narrowed by; the export uses exactly the same filter."""

    q: str | None = None
    status: str | None = None  # one status or several, comma separated
    source: str | None = None
    date_from: date | None = None  # created on or after this day (the shop's time zone)
    date_to: date | None = None  # created on or before this day


def _prefix(column: Any, q: str) -> ColumnElement[bool]:
    lit = q.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return column.like(lit + "%", escape=LIKE_ESCAPE)


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


async def _q_clause(s: AsyncSession, q: str) -> ColumnElement[bool]:
    """One box for everything a merchant types. A number is an order number (prefix) or a phone (the
    consignee's, or the shopper's own): index probes only. Words are a consignee name (prefix) or part of
    a product title (the order lines)."""
    clauses: list[ColumnElement[bool]] = [_prefix(Order.no, q)]
    try:
        phone = normalize_phone(q)
    except ValueError:
        phone = ""
    if phone:
        if len(phone.lstrip("+")) >= 7:
            clauses.append(Order.consignee_phone == phone)
            found = await extras.gather(CUSTOMERS_BY_PHONE, s=s, number=phone)
            if found.get("customer_ids"):
                clauses.append(Order.customer_id.in_(found["customer_ids"]))
        return or_(*clauses)
    clauses.append(_prefix(Order.consignee_name, q))
    clauses.append(exists().where(OrderLine.order_id == Order.id, contains_text(OrderLine.title, q)))
    return or_(*clauses)


async def where_of(s: AsyncSession, *, f: OrderFilter, zone: ZoneInfo) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a filter (dates are whole days in the shop's zone)."""
    out: list[ColumnElement[bool]] = []
    if f.q and f.q.strip():
        out.append(await _q_clause(s, f.q.strip()))
    if f.status:
        out.append(Order.status.in_(f.status.split(",")))
    if f.source:
        out.append(Order.source == f.source)
    if f.date_from:
        out.append(Order.created_at >= _day_start(f.date_from, zone))
    if f.date_to:
        out.append(Order.created_at < _day_start(f.date_to + timedelta(days=1), zone))
    return out


async def search_orders(
    s: AsyncSession, *, f: OrderFilter, zone: ZoneInfo, before_id: int | None = None, limit: int = 20
) -> tuple[list[Order], str | None]:
    """The filtered orders, newest first, one keyset page."""
    stmt = select(Order).where(*await where_of(s, f=f, zone=zone)).order_by(Order.id.desc())
    if before_id:
        stmt = stmt.where(Order.id < before_id)
    return await keyset_page(s, stmt, limit=limit)


# ---- 商家备注 ------------------------------------------------------------------------------------------


async def set_merchant_remark(s: AsyncSession, *, order_id: int, remark: str) -> Order:
    """Write the merchant's own note on an order (the shopper never sees it); "" clears it."""
    res = await s.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(merchant_remark=remark or None)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        await service.get_order(s, order_id=order_id)  # raises not found
    return await service.get_order(s, order_id=order_id)


# ---- 改价 -----------------------------------------------------------------------------------------------


def new_line_shares(lines: Sequence[OrderLine], goods_fen: int) -> list[int]:
    """The lines' new goods payable (payable less shipping) summing to `goods_fen`: scaled down in
    proportion to what each pays now, or the extra spread over what each is below its subtotal, so no
    line ever pays more than its subtotal or less than nothing."""
    current = [ln.payable_fen - ln.shipping_fen for ln in lines]
    if goods_fen <= sum(current):
        return split(goods_fen, current)
    room = [ln.subtotal_fen - c for ln, c in zip(lines, current, strict=True)]
    return [c + extra for c, extra in zip(current, split(goods_fen - sum(current), room), strict=True)]


async def change_price(
    s: AsyncSession,
    *,
    order_id: int,
    admin_id: int | None,
    reason: str,
    payable_fen: int | None = None,
    discount_fen: int | None = None,
) -> Order:
    """改价: set an unpaid order's payable (or take `discount_fen` off it), lines re-split to the fen,
    recorded. Refused once paid or when tenders paid a part. A payment attempt already open for the old
    amount goes stale: the shopper's next 去支付 closes it and asks for the new amount, and if the old
    one is paid after all, its confirmation refunds it (orders.mark_paid takes only the amount due)."""
    order = await service.lock_order(s, order_id=order_id)
    if order.status != "pending_payment":
        raise Conflict(OrderToolsError.PRICE_CHANGE_NOT_ALLOWED, order_status=order.status)
    if order.tenders:
        raise Conflict(OrderToolsError.PRICE_CHANGE_TENDERS)
    old = order.payable_fen
    new = payable_fen if payable_fen is not None else old - (discount_fen or 0)
    lines = list(order.lines)
    shipping = sum(ln.shipping_fen for ln in lines)
    ceiling = sum(ln.subtotal_fen for ln in lines) + shipping
    if not max(1, shipping) <= new <= ceiling:
        raise AppError(OrderToolsError.PRICE_INVALID, min_fen=max(1, shipping), max_fen=ceiling)
    shares = new_line_shares(lines, new - shipping)
    for ln, share in zip(lines, shares, strict=True):
        await s.execute(
            update(OrderLine)
            .where(OrderLine.id == ln.id)
            .values(discount_fen=ln.subtotal_fen - share, payable_fen=share + ln.shipping_fen)
            .execution_options(synchronize_session=False)
        )
    step = {"kind": "price_change", "label": "商家改价", "amount_fen": new - old, "ref": ""}
    res = await s.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == "pending_payment", Order.payable_fen == old)
        .values(
            payable_fen=new,
            discount_fen=order.discount_fen - (new - old),
            steps=[*(order.steps or []), step],
        )
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(OrdersError.ORDER_STATE_INVALID, order_status=order.status)
    return await _recorded(s, order.id, kind="price", admin_id=admin_id, reason=reason, old_fen=old, new_fen=new)


async def _recorded(s: AsyncSession, order_id: int, **change: Any) -> Order:
    """Keep the change (who, when, why, before and after) and return the order as it now is."""
    s.add(OrderChange(order_id=order_id, created_at=clock.now(), **change))
    await s.flush()
    return await service.get_order(s, order_id=order_id)


# ---- 修改地址 -----------------------------------------------------------------------------------------


async def change_address(
    s: AsyncSession, *, order_id: int, admin_id: int | None, address: Address, reason: str = ""
) -> Order:
    """Correct the consignee of an order that has not shipped, recorded with the address it replaced."""
    order = await service.lock_order(s, order_id=order_id, lines=False)
    snapshot = address.snapshot()
    res = await s.execute(
        update(Order)
        .where(and_(Order.id == order.id, Order.status.in_(ADDRESS_EDITABLE)))
        .values(
            address=snapshot,
            consignee_name=service.consignee_name(snapshot),
            consignee_phone=service.consignee_phone(snapshot),
        )
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(OrderToolsError.ADDRESS_CHANGE_NOT_ALLOWED, order_status=order.status)
    return await _recorded(
        s, order.id, kind="address", admin_id=admin_id, reason=reason, before=order.address, after=snapshot
    )


async def changes_of(s: AsyncSession, *, order_id: int) -> list[OrderChange]:
    """The price and address changes of an order, oldest first."""
    rows = await s.scalars(select(OrderChange).where(OrderChange.order_id == order_id).order_by(OrderChange.id))
    return list(rows.all())


async def order_id_by_no(s: AsyncSession, *, no: str) -> int | None:
    """The id of the order of this number, or None."""
    return await s.scalar(select(Order.id).where(Order.no == no))


def as_dict(change: OrderChange) -> dict[str, Any]:
    """A change as the admin API shows it."""
    return {
        "id": change.id,
        "kind": change.kind,
        "admin_id": change.admin_id,
        "reason": change.reason,
        "old_fen": change.old_fen,
        "new_fen": change.new_fen,
        "before": change.before,
        "after": change.after,
        "created_at": change.created_at,
    }
