"""After-sales (售后): 仅退款 and 退货退款 requests, the quote before submitting, the return's way back
(approve → the shopper ships → the merchant confirms receipt → the refund goes out), the shopper's
cancel, the negotiation history and the timers that answer for whoever is silent.

Every transition is a compare-and-set on the refund's status (refunds.refund_cas), so a double click, a
timer firing twice or two staff members at once move a refund exactly once. Timers are durable jobs
keyed by refund: scheduling one twice queues it once, and a timer that finds the refund moved on does
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.core.db import keyset_page
from fissionmall.core.errors import AppError, Conflict, not_found
from fissionmall.orders import refunds
from fissionmall.orders import service as orders
from fissionmall.orders.errors import OrdersError
from fissionmall.orders.models import Refund
from fissionmall.orders.rules import REFUND_REASONS
from fissionmall.orders.schemas import RefundLineCreate
from fissionmall.settings import Settings, get_settings


async def _arm(s: AsyncSession, handler: str, refund_id: int, *, days: int, key: str) -> None:
    """Schedule a refund's durable timer, once per (key, refund): a second schedule does nothing."""
    due = clock.now() + timedelta(days=days)
    await jobs.schedule(s, handler, {"refund_id": refund_id}, due_at=due, key=f"{key}:{refund_id}")


def _reason_text(reason_code: str, text: str) -> str:
    """The reason as stored and shown: the picked label before the shopper's words (其他: the words alone)."""
    label = REFUND_REASONS.get(reason_code, "其他")
    if reason_code == "other" or text.startswith(label):
        return text or label
    return f"{label}：{text}" if text else label


async def quote(
    s: AsyncSession,
    *,
    order_id: int,
    customer_id: int,
    lines: Sequence[RefundLineCreate] | None,
    service: str,
    reason_code: str,
) -> dict[str, Any]:
    """What a request would refund (goods and shipping, to the fen), without reserving anything."""
    order = await orders.get_order(s, order_id=order_id, customer_id=customer_id)
    await refunds.check_refundable(s, order=order, service=service)
    parts = refunds.plan_refund(
        order.lines, refunds.wanted_units(order, lines), service=service, reason_code=reason_code
    )
    total = sum(p["amount_fen"] for p in parts)
    if total > order.paid_fen - order.refunded_fen:
        raise Conflict(OrdersError.REFUND_EXCEEDS_PAID)
    shipping = sum(p["shipping_fen"] for p in parts)
    return {"amount_fen": total, "shipping_fen": shipping, "goods_fen": total - shipping, "lines": parts}


async def request(
    s: AsyncSession,
    *,
    order_id: int,
    customer_id: int,
    lines: Sequence[RefundLineCreate] | None,
    service: str,
    reason_code: str,
    reason: str,
    images: Sequence[str],
    settings: Settings,
) -> Refund:
    """A shopper's after-sales request: reserve what it returns, write the history, arm the answer timer."""
    text = _reason_text(reason_code, reason)
    refund = await refunds.request_refund(
        s,
        order_id=order_id,
        customer_id=customer_id,
        lines=lines,
        reason=text[:200],
        service=service,
        reason_code=reason_code,
        images=images,
    )
    label = "申请退货退款" if service == "return" else "申请仅退款"
    await refunds.add_entry(
        s, refund_id=refund.id, actor="shopper", action="requested", text=f"{label}，{text}"[:500], images=images
    )
    await _arm(s, "orders.refund_answer_timeout", refund.id, days=settings.refund_answer_days, key="refund-answer")
    return refund


async def approve(
    s: AsyncSession, *, refund_id: int, admin_id: int, settings: Settings, return_address: str | None = None
) -> Refund:
    """The merchant agrees (admin_id 0: the timer agreed): a 仅退款 goes to the gateway, a return waits for
    the goods, with the return address shown to the shopper."""
    refund = await refunds.get_refund(s, refund_id=refund_id)
    if refund.service != "return" or refund.status != "pending":
        return await refunds.approve_refund(s, refund_id=refund_id, admin_id=admin_id)
    address = (return_address or settings.return_address).strip()
    if not address and not admin_id:
        address = "请联系商家客服获取退货地址"  # the timer agreed and the shop has no address set
    if not address:
        raise AppError(OrdersError.RETURN_ADDRESS_MISSING, status=422)
    now = clock.now()
    if not await refunds.refund_cas(
        s,
        refund_id=refund.id,
        target="approved",
        expected=["pending"],
        decided_at=now,
        decided_by=admin_id or None,
        approved_at=now,
        return_address=address[:200],
    ):
        raise Conflict(OrdersError.REFUND_STATE_INVALID)
    actor, text = ("system", "商家超时未处理，系统自动同意退货") if not admin_id else ("merchant", "同意退货")
    await refunds.add_entry(s, refund_id=refund.id, actor=actor, action="approved", text=f"{text}，退货地址：{address}")
    await _arm(s, "orders.return_ship_timeout", refund.id, days=settings.return_ship_days, key="refund-ship")
    return await refunds.get_refund(s, refund_id=refund.id)


async def ship_return(
    s: AsyncSession, *, refund_id: int, customer_id: int, carrier: str, tracking_no: str, settings: Settings
) -> Refund:
    """The shopper sends an approved return back (carrier and tracking number); arms the receipt timer."""
    refund = await get_mine(s, refund_id=refund_id, customer_id=customer_id)
    if refund.service != "return":
        raise Conflict(OrdersError.NOT_A_RETURN)
    now = clock.now()
    if not await refunds.refund_cas(
        s,
        refund_id=refund.id,
        target="return_shipped",
        expected=["approved"],
        return_carrier=carrier,
        return_tracking_no=tracking_no,
        return_shipped_at=now,
    ):
        raise Conflict(OrdersError.REFUND_STATE_INVALID)
    await refunds.add_entry(
        s, refund_id=refund.id, actor="shopper", action="return_shipped", text=f"已寄回商品：{carrier} {tracking_no}"
    )
    await _arm(s, "orders.return_receive_timeout", refund.id, days=settings.return_receive_days, key="refund-receive")
    return await refunds.get_refund(s, refund_id=refund.id)


async def confirm_receipt(s: AsyncSession, *, refund_id: int, admin_id: int) -> Refund:
    """The merchant has the goods back (admin_id 0: the timer decided): the refund goes to the gateway."""
    refund = await refunds.get_refund(s, refund_id=refund_id)
    now = clock.now()
    if not await refunds.refund_cas(
        s, refund_id=refund.id, target="processing", expected=["return_shipped"], received_at=now
    ):
        raise Conflict(OrdersError.REFUND_STATE_INVALID)
    await refunds.send_to_gateway(s, refund_id=refund.id, after="return_shipped")
    actor, text = (
        ("system", "商家超时未确认收货，系统自动确认并退款")
        if not admin_id
        else ("merchant", "已确认收到退货，退款处理中")
    )
    await refunds.add_entry(s, refund_id=refund.id, actor=actor, action="received", text=text)
    return await refunds.get_refund(s, refund_id=refund.id)


async def cancel(s: AsyncSession, *, refund_id: int, customer_id: int) -> Refund:
    """The shopper withdraws a request (before the return is sent back): the units are refundable again."""
    refund = await get_mine(s, refund_id=refund_id, customer_id=customer_id)
    if not await refunds.refund_cas(
        s, refund_id=refund.id, target="cancelled", expected=["pending", "approved"], closed_at=clock.now()
    ):
        raise Conflict(OrdersError.REFUND_STATE_INVALID)
    await refunds.release(s, refund=refund)
    await refunds.add_entry(s, refund_id=refund.id, actor="shopper", action="cancelled", text="买家撤销了售后申请")
    return await refunds.get_refund(s, refund_id=refund.id)


async def get_mine(s: AsyncSession, *, refund_id: int, customer_id: int) -> Refund:
    """A shopper's own refund, or NOT_FOUND (another shopper's refund is not found either)."""
    refund = await refunds.get_refund(s, refund_id=refund_id)
    if refund.customer_id != customer_id:
        raise not_found("refund")
    return refund


async def my_refunds(
    s: AsyncSession, *, customer_id: int, before_id: int | None = None, limit: int = 20
) -> tuple[list[Refund], str | None]:
    """A shopper's after-sales requests (not the system's refunds), newest first, one keyset page."""
    stmt = (
        select(Refund).where(Refund.customer_id == customer_id, Refund.kind == "after_sales").order_by(Refund.id.desc())
    )
    if before_id:
        stmt = stmt.where(Refund.id < before_id)
    return await keyset_page(s, stmt, limit=limit)


# ---- timers ------------------------------------------------------------------------------------


@jobs.handler("orders.refund_answer_timeout")
async def _answer_timeout(s: AsyncSession, job: jobs.Job) -> None:
    refund = await s.get(Refund, job.payload["refund_id"])
    if refund is None or refund.status != "pending":
        return
    try:
        await approve(s, refund_id=refund.id, admin_id=0, settings=get_settings())
    except (Conflict, AppError):
        pass  # answered at the last moment (or no return address set: the merchant must answer)


@jobs.handler("orders.return_ship_timeout")
async def _ship_timeout(s: AsyncSession, job: jobs.Job) -> None:
    refund = await s.get(Refund, job.payload["refund_id"])
    if refund is None or refund.status != "approved":
        return
    if await refunds.refund_cas(s, refund_id=refund.id, target="closed", expected=["approved"], closed_at=clock.now()):
        await refunds.release(s, refund=refund)
        await refunds.add_entry(
            s, refund_id=refund.id, actor="system", action="closed", text="买家超时未寄回商品，售后已关闭"
        )


@jobs.handler("orders.return_receive_timeout")
async def _receive_timeout(s: AsyncSession, job: jobs.Job) -> None:
    refund = await s.get(Refund, job.payload["refund_id"])
    if refund is None or refund.status != "return_shipped":
        return
    try:
        await confirm_receipt(s, refund_id=refund.id, admin_id=0)
    except Conflict:
        pass
