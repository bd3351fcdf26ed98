"""Buying a bargain: one order per bargain at the target (or, where the activity allows, at the price
reached so far), the unit held from the activity's stock when the order is placed, and the `bargain`
order source whose hooks settle the bargain when the order is paid or cancelled.

The bargain moves `active|reached → ordered` in one compare-and-set before the order is placed, so of
any number of concurrent orders one wins and the rest are told BARGAIN_ORDERED. A cancelled unpaid
order gives the unit back and the bargain returns to where it was (or expires if its time is up); the
next order's source_ref counts on (`{id}`, `{id}-2`, …), since (source, source_ref) is unique.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.bargain import rules
from fissionmall.bargain.activities import get_activity, give_unit, rows_changed, take_unit
from fissionmall.bargain.bargains import get_bargain
from fissionmall.bargain.errors import BargainError
from fissionmall.bargain.models import Bargain
from fissionmall.bargain.schemas import BargainOrderCreate
from fissionmall.checkout import service as checkout
from fissionmall.checkout import shipping
from fissionmall.checkout.plans import Plan, PlannedLine
from fissionmall.checkout.schemas import CheckoutRequest
from fissionmall.core import clock
from fissionmall.core.errors import AppError, Conflict, Forbidden
from fissionmall.orders.models import Order, OrderLine
from fissionmall.orders.sources import SourceDefaults, register_source
from fissionmall.settings import Settings

SOURCE = "bargain"


def checkout_body(b: Bargain, body: BargainOrderCreate) -> CheckoutRequest:
    """A bargain order's body as checkout reads it (its one line, the address, the remark)."""
    if body.qty != 1:
        raise AppError(BargainError.QTY_MUST_BE_ONE)
    return CheckoutRequest.model_validate(
        {
            "items": [{"sku_id": b.sku_id, "qty": 1}],
            "address": body.address.model_dump() if body.address else None,
            "address_id": body.address_id,
            "remark": body.remark,
        }
    )


def bargain_plan(b: Bargain, *, pay_minutes: int, from_pool: bool, source_ref: str) -> Plan:
    """What checkout sells for a bargain: one unit at the bargain's price, no coupons."""
    return Plan(
        lines=(
            PlannedLine(
                sku_id=b.sku_id,
                qty=1,
                activity_price_fen=b.price_fen,
                activity_label="砍价价",
                take_sku_stock=not from_pool,
            ),
        ),
        source=SOURCE,
        source_ref=source_ref,
        pay_minutes=pay_minutes,
        allows_coupons=False,
        attribution={"bargain_activity_id": b.activity_id, "bargain_id": b.id},
    )


async def _refuse(s: AsyncSession, b: Bargain, customer_id: int) -> None:
    if b.customer_id != customer_id:
        raise Forbidden(BargainError.NOT_YOUR_BARGAIN)
    act = await get_activity(s, activity_id=b.activity_id)
    code = rules.buy_refusal(
        status=b.status,
        expired=b.expires_at <= clock.now(),
        price_fen=b.price_fen,
        target_fen=b.target_fen,
        buy_early=act.buy_early,
    )
    if code is not None:
        raise Conflict(code)


async def preview(
    s: AsyncSession, *, bargain_id: int, customer_id: int, body: BargainOrderCreate, settings: Settings
) -> dict[str, Any]:
    """The order's price chain before it is placed, as POST /bargain/{id}/order will charge it."""
    b = await get_bargain(s, bargain_id=bargain_id)
    cbody = checkout_body(b, body)
    await _refuse(s, b, customer_id)
    act = await get_activity(s, activity_id=b.activity_id)
    plan = bargain_plan(b, pay_minutes=act.pay_minutes, from_pool=True, source_ref=f"{b.id}")
    q = await checkout.quote(
        s,
        customer_id=customer_id,
        coupon_id=None,
        plan=plan,
        settings=settings,
        choose_coupon=False,
        options=await shipping.preview_options(s, customer_id=customer_id, body=cbody),
    )
    return {**checkout.preview_dict(q), "bargain_id": b.id, "bargain_price_fen": b.price_fen}


async def place_order(
    s: AsyncSession,
    *,
    bargain_id: int,
    customer_id: int,
    body: BargainOrderCreate,
    settings: Settings,
    attribution: dict[str, Any] | None = None,
) -> tuple[Bargain, Order]:
    """Order the caller's bargain: the bargain becomes `ordered` (one compare-and-set), one unit is held
    from the activity's stock, and checkout places the order at the bargain's price."""
    b = await get_bargain(s, bargain_id=bargain_id)
    cbody = checkout_body(b, body)
    address = await checkout.resolve_address(s, customer_id=customer_id, body=cbody)
    await _refuse(s, b, customer_id)
    act = await get_activity(s, activity_id=b.activity_id)
    res = await s.execute(
        update(Bargain)
        .where(
            Bargain.id == b.id,
            Bargain.status == b.status,
            Bargain.status.in_(rules.ORDERABLE),
            Bargain.price_fen == b.price_fen,
            Bargain.expires_at > clock.now(),
        )
        .values(status="ordered", orders_placed=Bargain.orders_placed + 1)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) != 1:
        await _refuse(s, await get_bargain(s, bargain_id=b.id), customer_id)
        raise Conflict(BargainError.BARGAIN_ORDERED)  # its price moved under us: it was just helped
    from_pool = await take_unit(s, activity_id=act.id)
    n = b.orders_placed + 1
    plan = bargain_plan(
        b, pay_minutes=act.pay_minutes, from_pool=from_pool, source_ref=f"{b.id}" if n == 1 else f"{b.id}-{n}"
    )
    order = await checkout.place(
        s, customer_id=customer_id, body=cbody, settings=settings, plan=plan, attribution=attribution, address=address
    )
    await s.execute(
        update(Bargain).where(Bargain.id == b.id).values(order_id=order.id).execution_options(synchronize_session=False)
    )
    return await get_bargain(s, bargain_id=b.id), order


async def bargain_of_order(s: AsyncSession, *, order_id: int) -> Bargain | None:
    """The bargain an order was placed for, read fresh; None for another order."""
    return await s.scalar(select(Bargain).where(Bargain.order_id == order_id).execution_options(populate_existing=True))


async def order_cancelled(s: AsyncSession, *, order_id: int) -> bool:
    """An unpaid order was cancelled: the unit comes back and the bargain goes back to where it was, once."""
    b = await bargain_of_order(s, order_id=order_id)
    if b is None or b.status != "ordered":
        return False
    back = rules.after_cancel(price_fen=b.price_fen, target_fen=b.target_fen, expired=b.expires_at <= clock.now())
    res = await s.execute(
        update(Bargain)
        .where(Bargain.id == b.id, Bargain.status == "ordered", Bargain.order_id == order_id)
        .values(status=back, order_id=None)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) != 1:
        return False
    from_sku = await s.scalar(
        select(OrderLine.sku_stock_taken).where(OrderLine.order_id == order_id).order_by(OrderLine.id).limit(1)
    )
    if from_sku is False:  # the unit was the activity's (a cancelled order gives SKU stock back itself)
        await give_unit(s, activity_id=b.activity_id, sku_id=b.sku_id)
    return True


async def order_paid(s: AsyncSession, *, order_id: int) -> bool:
    """The order's payment is confirmed: the bargain is bought (no more helps, no second order), once."""
    res = await s.execute(
        update(Bargain)
        .where(Bargain.order_id == order_id, Bargain.status == "ordered")
        .values(status="bought", bought_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return rows_changed(res) == 1


class BargainSource(SourceDefaults):
    """The `bargain` order source: one unit at the bargain's price, from the activity's stock."""

    name = SOURCE

    async def cancelled(self, s: AsyncSession, *, order: Order) -> None:
        """An unpaid order was cancelled: its unit comes back, the bargain may be ordered again."""
        await order_cancelled(s, order_id=order.id)

    async def paid(self, s: AsyncSession, *, order: Order) -> None:
        """The payment is being confirmed: the bargain is bought in the same commit, so the share page a
        friend opens next says so."""
        await order_paid(s, order_id=order.id)


register_source(BargainSource())
