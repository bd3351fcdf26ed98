"""Redeeming an item, in one transaction: one guarded UPDATE takes the item's units (never check-then-
write), a guarded counter takes the shopper's per-item slots, the points ledger spends the points (short
points roll everything back), then a coupon item grants its coupons and a product item places an order
through checkout with a typed plan (the cash part as the activity price, the item's own stock, no
coupons), paid at the cashier like any order. A cancelled unpaid order gives everything back (source.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.checkout import service as checkout
from fissionmall.checkout.plans import Plan, PlannedLine
from fissionmall.checkout.schemas import CheckoutRequest
from fissionmall.core import clock
from fissionmall.core.db import is_postgres
from fissionmall.core.errors import AppError, Conflict
from fissionmall.coupons import service as coupons
from fissionmall.orders import service as orders
from fissionmall.orders.models import Order
from fissionmall.points import ledger
from fissionmall.pointsmall import rules
from fissionmall.pointsmall.errors import PointsMallError
from fissionmall.pointsmall.items import get_item, window
from fissionmall.pointsmall.models import MallItem, MallQuota, Redemption
from fissionmall.pointsmall.schemas import RedeemRequest
from fissionmall.settings import Settings

PAY_MINUTES = 30  # a product redemption's unpaid order waits this long for its cash part and shipping


def spend_ref(redemption_id: int) -> str:
    """The ledger ref of a redemption's spend, and of its give-back (under kind LEDGER_BACK)."""
    return f"mall:{redemption_id}"


async def _take_units(s: AsyncSession, it: MallItem, qty: int) -> None:
    now = clock.now()
    conds = [MallItem.id == it.id, MallItem.active.is_(True), MallItem.closed.is_(False), MallItem.units_left >= qty]
    res = await s.execute(
        update(MallItem)
        .where(*conds)
        .values(units_left=MallItem.units_left - qty, redeemed=MallItem.redeemed + qty)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount == 1:  # type: ignore[attr-defined]
        return
    fresh = await get_item(s, item_id=it.id)
    refusal = rules.refusal(window(fresh), now)
    raise Conflict(refusal or PointsMallError.MALL_SOLD_OUT)


async def _take_slots(s: AsyncSession, it: MallItem, customer_id: int, qty: int) -> None:
    """Count `qty` against the shopper's per-item limit: one row per shopper and item, a guarded UPDATE."""
    ins = pg_insert(MallQuota) if is_postgres(s) else sqlite_insert(MallQuota)
    await s.execute(
        ins.values(item_id=it.id, customer_id=customer_id, used=0).on_conflict_do_nothing(
            index_elements=["item_id", "customer_id"]
        )
    )
    conds = [MallQuota.item_id == it.id, MallQuota.customer_id == customer_id]
    if it.per_user_limit:
        conds.append(MallQuota.used + qty <= it.per_user_limit)
    res = await s.execute(
        update(MallQuota).where(*conds).values(used=MallQuota.used + qty).execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            PointsMallError.MALL_LIMIT_REACHED, f"每人最多兑换 {it.per_user_limit} 件", limit=it.per_user_limit
        )


async def give_slots(s: AsyncSession, *, item_id: int, customer_id: int, qty: int) -> None:
    """Give `qty` back to the shopper's per-item count."""
    await s.execute(
        update(MallQuota)
        .where(MallQuota.item_id == item_id, MallQuota.customer_id == customer_id, MallQuota.used >= qty)
        .values(used=MallQuota.used - qty)
        .execution_options(synchronize_session=False)
    )


async def give_units(s: AsyncSession, *, item_id: int, qty: int) -> None:
    """Units come back: to the item while it is open, else (it ended) to the SKU."""
    res = await s.execute(
        update(MallItem)
        .where(MallItem.id == item_id, MallItem.closed.is_(False))
        .values(units_left=MallItem.units_left + qty, redeemed=MallItem.redeemed - qty)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount == 1:  # type: ignore[attr-defined]
        return
    await s.execute(
        update(MallItem)
        .where(MallItem.id == item_id)
        .values(stock=MallItem.stock - qty, redeemed=MallItem.redeemed - qty)
        .execution_options(synchronize_session=False)
    )
    sku_id = await s.scalar(select(MallItem.sku_id).where(MallItem.id == item_id))
    if sku_id is not None:
        await catalog.pool_to_stock(s, sku_id=sku_id, qty=qty)


def _check_body(it: MallItem, body: RedeemRequest) -> None:
    if it.kind == "coupon" and (body.address is not None or body.address_id is not None):
        raise AppError(PointsMallError.MALL_NO_ADDRESS_FOR_COUPON, field="address")
    if body.sku is not None and body.sku != it.sku_id:
        raise AppError(PointsMallError.MALL_SKU_MISMATCH, field="sku")
    if it.per_user_limit and body.qty > it.per_user_limit:
        raise Conflict(
            PointsMallError.MALL_LIMIT_REACHED, f"每人最多兑换 {it.per_user_limit} 件", limit=it.per_user_limit
        )


def _plan(it: MallItem, r: Redemption) -> Plan:
    assert it.sku_id is not None
    line = PlannedLine(
        sku_id=it.sku_id, qty=r.qty, activity_price_fen=it.cash_fen, activity_label="积分兑换", take_sku_stock=False
    )
    return Plan(
        lines=(line,),
        source=rules.SOURCE,
        source_ref=f"r{r.id}",
        pay_minutes=PAY_MINUTES,
        allows_coupons=False,
        attribution={"points_mall_item_id": it.id, "points_mall_redemption_id": r.id},
    )


def _checkout_body(it: MallItem, body: RedeemRequest) -> CheckoutRequest:
    """The order's body as checkout reads it: the item's SKU, the address, the remark."""
    return CheckoutRequest.model_validate(
        {
            "items": [{"sku_id": it.sku_id, "qty": body.qty}],
            "address": body.address.model_dump() if body.address else None,
            "address_id": body.address_id,
            "remark": body.remark,
        }
    )


async def _place(
    s: AsyncSession, it: MallItem, r: Redemption, cbody: CheckoutRequest, address: dict[str, Any], settings: Settings
) -> Order:
    order = await checkout.place(
        s, customer_id=r.customer_id, body=cbody, settings=settings, plan=_plan(it, r), address=address
    )
    r.order_id = order.id
    await s.flush()
    if order.payable_fen == 0 and order.status == "pending_payment":
        # Points only and free shipping: nothing is left for the cashier, so it is paid here.
        await orders.mark_paid(s, order=order, amount_fen=0, payment_id=None)
        await s.refresh(r)  # the paid hook moved the redemption to paid with a compare-and-set
    return order


async def redeem(
    s: AsyncSession, *, customer_id: int, item_id: int, body: RedeemRequest, settings: Settings
) -> tuple[Redemption, Order | None, Any]:
    """Redeem `body.qty` units of an item for the shopper: (the redemption, its order, its first coupon)."""
    it = await get_item(s, item_id=item_id)
    refusal = rules.refusal(window(it), clock.now())
    if refusal is not None:
        raise Conflict(refusal) if refusal != PointsMallError.MALL_ITEM_NOT_FOUND else AppError(refusal)
    _check_body(it, body)
    cbody: CheckoutRequest | None = None
    address: dict[str, Any] | None = None
    if it.kind == "product":  # a missing address is told before anything is taken
        cbody = _checkout_body(it, body)
        address = await checkout.resolve_address(s, customer_id=customer_id, body=cbody)
    await _take_units(s, it, body.qty)
    await _take_slots(s, it, customer_id, body.qty)
    now = clock.now()
    r = Redemption(
        item_id=it.id,
        customer_id=customer_id,
        kind=it.kind,
        title=it.title,
        qty=body.qty,
        points=it.points * body.qty,
        cash_fen=it.cash_fen * body.qty,
        status="granted" if it.kind == "coupon" else "ordered",
        created_at=now,
        updated_at=now,
    )
    s.add(r)
    await s.flush()
    await ledger.spend(
        s, customer_id=customer_id, points=r.points, kind=rules.LEDGER_KIND, ref=spend_ref(r.id), note=it.title
    )
    if it.kind == "coupon":
        assert it.coupon_template_id is not None
        granted = [
            await coupons.grant(
                s,
                template_id=it.coupon_template_id,
                customer_id=customer_id,
                source=rules.SOURCE,
                grant_key=f"{spend_ref(r.id)}:{n}",
            )
            for n in range(r.qty)
        ]
        r.coupon_id = granted[0].id
        await s.flush()
        return r, None, granted[0]
    assert cbody is not None and address is not None
    order = await _place(s, it, r, cbody, address, settings)
    return r, order, None
