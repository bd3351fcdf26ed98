"""储值 top-ups: a package bought as a virtual order (orders/virtual.py, source `wallet_topup`), credited
in the payment's own transaction (the source's `paid` hook: a compare-and-set on the top-up, then one
ledger entry with 本金 and 赠送 apart), and the merchant's top-up refund: at most the top-up's principal
still in the wallet goes back through the gateway, and its bonus is taken back (rules.topup_refund)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock
from fissionmall.core.db import keyset_page
from fissionmall.core.errors import Conflict, NotFound
from fissionmall.core.money import yuan_text
from fissionmall.orders import service as orders
from fissionmall.orders import virtual
from fissionmall.orders.models import Order
from fissionmall.orders.sources import SourceDefaults, register_source
from fissionmall.wallet import ledger, rules
from fissionmall.wallet.errors import WalletError
from fissionmall.wallet.models import WalletTopUp
from fissionmall.wallet.packages import get_package
from fissionmall.wallet.paying import TOPUP_SOURCE


async def create_topup(s: AsyncSession, *, customer_id: int, package_id: int) -> tuple[WalletTopUp, Order]:
    """Buy an active package: a top-up row and its unpaid virtual order (paid through the cashier)."""
    p = await get_package(s, package_id=package_id, active_only=True)
    t = WalletTopUp(
        customer_id=customer_id,
        package_id=p.id,
        name=p.name,
        pay_fen=p.pay_fen,
        bonus_fen=p.bonus_fen,
        status="pending",
        refunded_fen=0,
        bonus_taken_fen=0,
        created_at=clock.now(),
    )
    s.add(t)
    await s.flush()
    title = f"储值{yuan_text(p.pay_fen)}元" + (f"送{yuan_text(p.bonus_fen)}元" if p.bonus_fen else "")
    order = await virtual.place_virtual(
        s,
        customer_id=customer_id,
        source=TOPUP_SOURCE,
        source_ref=f"topup:{t.id}",
        title=title,
        amount_fen=p.pay_fen,
    )
    t.order_id = order.id
    await s.flush()
    return t, order


async def _move_status(
    s: AsyncSession, *, order_id: int, before: str, after: str, **values: object
) -> WalletTopUp | None:
    res = await s.execute(
        update(WalletTopUp)
        .where(WalletTopUp.order_id == order_id, WalletTopUp.status == before)
        .values(status=after, **values)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await s.scalar(
        select(WalletTopUp).where(WalletTopUp.order_id == order_id).execution_options(populate_existing=True)
    )


class TopUpSource(SourceDefaults):
    """The top-up's order: credited and completed when paid; the shopper cannot ask for an after-sales refund."""

    name = TOPUP_SOURCE
    not_spend = True  # the wallet's money is spend when an order pays with it

    async def paid(self, s: AsyncSession, *, order: Order) -> None:
        t = await _move_status(s, order_id=order.id, before="pending", after="credited", credited_at=clock.now())
        if t is None:
            return  # credited already (the compare-and-set lets one confirmation through)
        await ledger.move(
            s,
            customer_id=t.customer_id,
            key=f"topup:{t.id}",
            kind="topup",
            principal_delta=t.pay_fen,
            bonus_delta=t.bonus_fen,
            ref=f"topup:{t.id}",
            reason=t.name,
        )
        await virtual.complete(s, order=order)

    async def cancelled(self, s: AsyncSession, *, order: Order) -> None:
        await _move_status(s, order_id=order.id, before="pending", after="cancelled")

    async def can_refund(self, s: AsyncSession, *, order: Order) -> str | None:
        return WalletError.TOPUP_REFUND_IN_CONSOLE


register_source(TopUpSource())


async def get_topup(s: AsyncSession, *, topup_id: int) -> WalletTopUp:
    """A top-up, or TOPUP_NOT_FOUND."""
    t = await s.scalar(select(WalletTopUp).where(WalletTopUp.id == topup_id).execution_options(populate_existing=True))
    if t is None:
        raise NotFound(WalletError.TOPUP_NOT_FOUND)
    return t


async def list_topups(
    s: AsyncSession,
    *,
    customer_id: int | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[WalletTopUp], str | None]:
    """Top-ups newest first, one keyset page."""
    q = select(WalletTopUp).order_by(WalletTopUp.id.desc())
    if customer_id is not None:
        q = q.where(WalletTopUp.customer_id == customer_id)
    if status:
        q = q.where(WalletTopUp.status == status)
    if before_id:
        q = q.where(WalletTopUp.id < before_id)
    return await keyset_page(s, q, limit=limit)


async def refund_topup(
    s: AsyncSession, *, topup_id: int, operator_id: int, operator: str, reason: str
) -> tuple[WalletTopUp, rules.TopUpRefund, int]:
    """Refund a credited top-up: the gateway is asked for the principal of it still in the wallet less the
    value of its bonus already spent, and the wallet loses that principal and the bonus still there, in
    one transaction (once: the top-up moves credited → refunded). Returns the top-up, the amounts, the refund id."""
    t = await get_topup(s, topup_id=topup_id)
    if t.status != "credited" or t.order_id is None:
        raise Conflict(WalletError.TOPUP_NOT_REFUNDABLE)
    await orders.lock_order(s, order_id=t.order_id, lines=False)  # the order before the wallet, as paying does
    principal, bonus = await ledger.balance_of(s, customer_id=t.customer_id, lock=True)
    plan = rules.topup_refund(pay_fen=t.pay_fen, bonus_fen=t.bonus_fen, principal_left=principal, bonus_left=bonus)
    if plan.refund_fen <= 0:
        raise Conflict(WalletError.TOPUP_NOTHING_TO_REFUND)
    moved = await _move_status(
        s,
        order_id=t.order_id,
        before="credited",
        after="refunded",
        refunded_fen=plan.refund_fen,
        bonus_taken_fen=plan.bonus_fen,
        refunded_at=clock.now(),
    )
    if moved is None:
        raise Conflict(WalletError.TOPUP_NOT_REFUNDABLE)
    await ledger.move(
        s,
        customer_id=t.customer_id,
        key=f"topup-refund:{t.id}",
        kind="topup_refund",
        principal_delta=-plan.principal_fen,
        bonus_delta=-plan.bonus_fen,
        ref=f"topup:{t.id}",
        operator_id=operator_id,
        operator=operator,
        reason=reason or f"{t.name} 退款",
    )
    refund = await virtual.refund_virtual(
        s,
        order_id=t.order_id,
        amount_fen=plan.refund_fen,
        reason=reason or "储值退款（未使用本金）",
        key=f"wallet-topup:{t.id}",
    )
    return moved, plan, refund.id
