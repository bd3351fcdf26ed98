"""Payments: start one, confirm it exactly once, refund through the gateway.

An order has at most one open payment (a partial unique index; paying takes
the order's lock first, so concurrent taps get the same one), and its gateway
prepay is asked only once the payment is committed. Confirmation is a
compare-and-set on the payment (`pending|closed → succeeded`) under the
order's lock, so however many times and however concurrently notifications
arrive, one delivery wins and the rest are answered "already done"; money for
an order paid by another payment, or cancelled, goes back. Every path that
touches an order and its payments locks the order first: they cannot deadlock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import Customer
from fissionmall.core import clock, jobs, metrics
from fissionmall.core.db import Database, is_postgres, keyset_page
from fissionmall.core.errors import AppError, Conflict
from fissionmall.orders import refunds
from fissionmall.orders import service as orders
from fissionmall.orders.models import Order, Refund
from fissionmall.orders.tenders import gateway_due, gateway_share
from fissionmall.payments import methods
from fissionmall.payments.errors import PaymentsError
from fissionmall.payments.gateway import Notification, SandboxGateway, get_gateway
from fissionmall.payments.models import GatewayNotification, GatewayNotificationCount, Payment

log = logging.getLogger("fissionmall.payments")


async def open_payment(
    s: AsyncSession,
    *,
    order_id: int,
    customer_id: int,
    method: str,
    gateway_name: str,
    amount_fen: int | None = None,
) -> tuple[Payment | None, ToPay | None]:
    """The order's one open payment, opened if it has none, with what its prepay needs; (None, None)
    when a registered pay method (payments/methods.py) paid all of it and the order is paid now."""
    # The first step of paying; commit it before `prepay`. Repeats, however concurrent, get the same
    # payment: they queue on the order's lock.
    pay_method = None if method == methods.GATEWAY else methods.get(method)
    order = await orders.lock_order(s, order_id=order_id, customer_id=customer_id, lines=False)
    if order.status != "pending_payment":
        raise Conflict(PaymentsError.ORDER_NOT_PAYABLE, order_status=order.status)
    if order.pay_deadline <= clock.now():
        raise Conflict(PaymentsError.ORDER_PAY_EXPIRED)
    if pay_method is not None:
        # The method sets the order's tenders and takes its share under this lock; the gateway is asked
        # for what is left, or for nothing: the order is paid here, with no payment.
        await pay_method.apply(s, order, methods.PayAsk(method=method, customer_id=customer_id, amount_fen=amount_fen))
        order = await orders.lock_order(s, order_id=order.id)
        if gateway_due(order) == 0:
            await _close_open(s, order_id=order.id)  # a gateway payment started before must not pay it too
            if not await orders.mark_paid(s, order=order, amount_fen=0, payment_id=None):
                raise Conflict(PaymentsError.ORDER_NOT_PAYABLE, order_status=order.status)
            metrics.payment_outcome(s, gateway=method, outcome="applied")  # paid by the method alone
            return None, None
    due = gateway_due(order)  # the payable less what the order's tenders paid
    method = methods.GATEWAY if order.tenders is None else "split"
    values = {
        "order_id": order.id,
        "customer_id": customer_id,
        "method": method,
        "gateway": gateway_name,
        "amount_fen": due,
        "status": "pending",
        "created_at": clock.now(),
    }
    # The first tap (the usual case) opens the payment in one statement; the partial unique index on
    # the open payment turns a repeat into "nothing inserted", and only then is the open one read.
    payment = await _insert_open(s, values)
    if payment is None:
        payment = await s.scalar(
            select(Payment)
            .where(Payment.order_id == order.id, Payment.status == "pending")
            .execution_options(populate_existing=True)
        )
        assert payment is not None  # the order's lock is held: nobody closed it in between
        if (payment.amount_fen, payment.method, payment.gateway) == (due, method, gateway_name):
            return payment, await to_pay(s, payment=payment, order=order)
        # Not what the order now asks for: closed first (the unique index allows one open payment). If the
        # shopper pays it after all, its confirmation refunds it (mark_paid refuses another amount).
        await _close_open(s, order_id=order.id)
        payment = await _insert_open(s, values)
        assert payment is not None
    return payment, await to_pay(s, payment=payment, order=order)


async def _insert_open(s: AsyncSession, values: dict[str, object]) -> Payment | None:
    ins = pg_insert(Payment) if is_postgres(s) else sqlite_insert(Payment)
    stmt = (
        ins.values(**values)
        .on_conflict_do_nothing(index_elements=["order_id"], index_where=text("status = 'pending'"))
        .returning(Payment)
    )
    return (await s.scalars(stmt)).first()


@dataclass(frozen=True)
class ToPay:
    """What a gateway's prepay needs of a committed payment, read in the transaction that opened it."""

    payment: Payment
    order_no: str
    pay_deadline: datetime
    openid: str


# A shopper's openid never changes once WeChat gave it (a customer without one may get one later, so only
# found ones are kept): one query per shopper and process instead of one per payment.
_OPENIDS: dict[int, str] = {}
_OPENIDS_MAX = 100_000


def forget_payer_state() -> None:
    """Drop the cached openids: a new database may reuse customer ids (the app's start calls it)."""
    _OPENIDS.clear()


async def to_pay(s: AsyncSession, *, payment: Payment, order: Order) -> ToPay:
    """What the payment's prepay needs, the shopper's openid included (cached per process)."""
    openid = _OPENIDS.get(payment.customer_id)
    if openid is None:
        openid = await s.scalar(select(Customer.openid).where(Customer.id == payment.customer_id)) or ""
        if openid:
            if len(_OPENIDS) >= _OPENIDS_MAX:
                _OPENIDS.clear()
            _OPENIDS[payment.customer_id] = openid
    return ToPay(payment=payment, order_no=order.no, pay_deadline=order.pay_deadline, openid=openid)


async def prepay(
    db: Database, *, payment_id: int, customer_id: int, known: ToPay | None = None
) -> tuple[Payment, dict[str, object]]:
    """What the client needs to pay a committed payment, asked of its gateway outside any transaction."""
    # Outside any transaction: no prepay is ever made for a payment that a rollback then discards (whose
    # id SQLite could hand to the next payment), and no order lock is held across the network call. Asking
    # again for the same payment is safe: the gateway answers the same prepay for the same `out_trade_no`
    # and parameters. `known`: what the opening transaction read (a replayed request reads it again).
    if known is None:
        async with db.read() as s:
            payment = await get_payment(s, payment_id=payment_id, customer_id=customer_id)
            order = await orders.get_order(s, order_id=payment.order_id)
            known = await to_pay(s, payment=payment, order=order)
    payment = known.payment
    if payment.status == "succeeded":
        return payment, {}  # e.g. an Idempotency-Key replay after paying: nothing left to pay
    if payment.status != "pending":
        raise Conflict(PaymentsError.PAYMENT_CLOSED, "这笔支付已关闭（订单已取消或金额已变），请重新发起支付")
    client = await get_gateway(payment.gateway).prepay(
        payment_id=payment.id,
        amount_fen=payment.amount_fen,
        description=f"订单 {known.order_no}",
        payer_openid=known.openid,
        expires_at=known.pay_deadline,
    )
    return payment, client


async def get_payment(s: AsyncSession, *, payment_id: int, customer_id: int | None = None) -> Payment:
    """The payment (the shopper's own when `customer_id` is given), read afresh; PAYMENT_NOT_FOUND if none."""
    q = select(Payment).where(Payment.id == payment_id)
    if customer_id is not None:
        q = q.where(Payment.customer_id == customer_id)
    p = await s.scalar(q.execution_options(populate_existing=True))
    if p is None:
        raise AppError(PaymentsError.PAYMENT_NOT_FOUND, status=404)
    return p


async def _log(s: AsyncSession, gateway: str, kind: str, ref: object, outcome: str, detail: str = "") -> None:
    s.add(
        GatewayNotification(
            gateway=gateway,
            kind=kind,
            reference=None if ref is None else str(ref),
            outcome=outcome,
            detail=detail[:2000],
            received_at=clock.now(),
        )
    )


async def apply_notification(s: AsyncSession, *, gateway: str, note: Notification) -> str:
    """Apply a verified notification. Returns the outcome; never applies anything twice."""
    if note.kind == "payment":
        outcome = await _payment_confirmed(s, gateway=gateway, note=note)
        metrics.payment_outcome(s, gateway=gateway, outcome=outcome)  # counted when this commits
    else:
        outcome = await _refund_confirmed(s, note=note)
    await _log(s, gateway, note.kind, note.reference, outcome)
    return outcome


async def _payment_confirmed(s: AsyncSession, *, gateway: str, note: Notification) -> str:
    payment = await s.get(Payment, note.reference)
    if payment is None or payment.gateway != gateway:
        return "unknown_reference"
    if note.currency != "CNY" or note.amount_fen != payment.amount_fen:
        return "amount_mismatch"
    if not note.success:
        return "not_success"
    # The order before any of its payments, as paying and cancelling lock them: confirmations of two
    # payments of one order then queue on the order instead of each holding a payment the other needs.
    order = await orders.lock_order(s, order_id=payment.order_id)
    succeeded = {
        "status": "succeeded",
        "paid_at": clock.now(),
        "gateway_txn_id": note.external_id,
        "payer_total_fen": note.payer_total_fen,
        "promotion_detail": list(note.promotions) or None,
    }
    # The open payment (the usual case) first: the order then has no other open payment to close, as
    # the partial unique index allows one. A closed one confirming late may leave a newer one open.
    was_open = await _cas_payment(s, payment.id, "pending", succeeded)
    if not was_open and not await _cas_payment(s, payment.id, "closed", succeeded):
        return "duplicate"
    if not await orders.mark_paid(s, order=order, amount_fen=payment.amount_fen, payment_id=payment.id):
        # Money arrived for an order that was cancelled or already paid: send it straight back.
        await refunds.late_payment_refund(
            s, order_id=payment.order_id, payment_id=payment.id, amount_fen=payment.amount_fen
        )
        return "refunded_late_payment"
    if not was_open:
        await _close_open(s, order_id=payment.order_id)
    return "applied"


async def _cas_payment(s: AsyncSession, payment_id: int, status: str, values: dict[str, object]) -> bool:
    res = await s.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]


async def _close_open(s: AsyncSession, *, order_id: int) -> None:
    """Close the order's open payment; the caller holds the order's lock (taken before any payment's)."""
    await s.execute(
        update(Payment)
        .where(Payment.order_id == order_id, Payment.status == "pending")
        .values(status="closed")
        .execution_options(synchronize_session=False)
    )


async def _refund_confirmed(s: AsyncSession, *, note: Notification) -> str:
    refund = await s.get(Refund, note.reference)
    if refund is None:
        return "unknown_reference"
    if note.amount_fen != gateway_share(refund):  # the gateway returns its share only, the tenders theirs
        return "amount_mismatch"
    if not note.success:
        return (
            "failed" if await refunds.refund_failed(s, refund_id=refund.id, detail="gateway refused") else "duplicate"
        )
    ok = await refunds.refund_succeeded(s, refund_id=refund.id, gateway_refund_id=note.external_id)
    return "applied" if ok else "duplicate"


# Refused notifications kept as rows per gateway, cause and hour; the rest of that hour's are only counted.
REFUSED_KEPT_PER_HOUR = 20


async def record_rejected(s: AsyncSession, *, gateway: str, code: str, detail: str) -> None:
    """Count a notification that did not verify, and keep it while its gateway and cause have had few this hour."""
    # Kept while fewer than REFUSED_KEPT_PER_HOUR this hour: forged ones cost anyone one counter row an
    # hour, not a row each, and cannot push the real failures off the console's page.
    now = clock.now()
    cause = code.lower()[:32]
    c = GatewayNotificationCount
    ins = pg_insert(c) if is_postgres(s) else sqlite_insert(c)
    stmt = (
        ins.values(gateway=gateway, cause=cause, hour_start=_hour(now), received=1, last_at=now)
        .on_conflict_do_update(
            index_elements=["gateway", "cause", "hour_start"], set_={"received": c.received + 1, "last_at": now}
        )
        .returning(c.received)
    )
    received = (await s.execute(stmt)).scalar_one()
    metrics.payment_outcome(s, gateway=gateway, outcome="rejected")  # did not verify: nothing applied
    if received <= REFUSED_KEPT_PER_HOUR:
        await _log(s, gateway, "unknown", None, cause, detail)


def _hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


async def unsaved_refusals(s: AsyncSession, *, limit: int = 20) -> list[tuple[GatewayNotificationCount, int]]:
    """Hours with more refused notifications of one cause than were kept, newest first, with the unkept count."""
    q = (
        select(GatewayNotificationCount)
        .where(GatewayNotificationCount.received > REFUSED_KEPT_PER_HOUR)
        .order_by(GatewayNotificationCount.hour_start.desc(), GatewayNotificationCount.id.desc())
        .limit(limit)
    )
    return [(c, c.received - REFUSED_KEPT_PER_HOUR) for c in (await s.scalars(q)).all()]


async def paid_payment_of(s: AsyncSession, *, order_id: int) -> Payment | None:
    """The order's succeeded payment (the first, should there be more), or None."""
    return await s.scalar(
        select(Payment).where(Payment.order_id == order_id, Payment.status == "succeeded").order_by(Payment.id)
    )


@jobs.handler("payments.execute_refund")
async def _execute_refund(s: AsyncSession, job: jobs.Job) -> None:
    """Send an approved refund to the gateway that took the money (after the approval committed)."""
    refund = await s.get(Refund, job.payload["refund_id"])
    if refund is None or refund.status != "processing":
        return
    share = gateway_share(refund)
    if share == 0:
        # The order's tenders return all of it (an order they paid in full, or the gateway's part already
        # refunded): no gateway to ask or to wait for, the refund is applied now.
        await refunds.refund_succeeded(s, refund_id=refund.id, gateway_refund_id=None)
        return
    payment = (await s.get(Payment, refund.payment_id)) if refund.payment_id else None
    if payment is None:
        payment = await paid_payment_of(s, order_id=refund.order_id)
        if payment is None:
            raise RuntimeError(f"refund {refund.id}: the order has no succeeded payment")
        refund.payment_id = payment.id
    gw = get_gateway(payment.gateway)
    await gw.refund(refund_id=refund.id, payment_id=payment.id, amount_fen=share, total_fen=payment.amount_fen)
    if isinstance(gw, SandboxGateway):
        await jobs.schedule(
            s,
            "payments.sandbox_refund_notify",
            {"refund_id": refund.id},
            due_at=clock.now(),
            key=f"sandbox-refund:{refund.id}",
        )


@jobs.handler("payments.sandbox_refund_notify")
async def _sandbox_refund_notify(s: AsyncSession, job: jobs.Job) -> None:
    """The sandbox bank calling back: a signed notification through the gateway's own parser."""
    refund = await s.get(Refund, job.payload["refund_id"])
    if refund is None:
        return
    gw = get_gateway("sandbox")
    assert isinstance(gw, SandboxGateway)
    headers, body = gw.notification(
        {
            "kind": "refund",
            "reference": refund.id,
            "amount_fen": gateway_share(refund),
            "external_id": f"SBR{refund.id:010d}",
            "status": "SUCCESS",
        }
    )
    await apply_notification(s, gateway="sandbox", note=gw.parse_notification(headers, body))


@jobs.on("OrderCancelled", "payments.close_open_payments")
async def _close_open_payments(s: AsyncSession, job: jobs.Job) -> None:
    order = await orders.lock_order(s, order_id=job.payload["order_id"])
    await _close_open(s, order_id=order.id)


async def list_notifications(
    s: AsyncSession, *, exclude_outcomes: frozenset[str] = frozenset(), limit: int = 100
) -> list[GatewayNotification]:
    """Recent gateway notifications, newest first (without the given outcomes, e.g. the successful ones)."""
    q = select(GatewayNotification).order_by(GatewayNotification.id.desc()).limit(limit)
    if exclude_outcomes:
        q = q.where(GatewayNotification.outcome.not_in(sorted(exclude_outcomes)))
    return list((await s.scalars(q)).all())


async def list_payments(
    s: AsyncSession,
    *,
    status: str | None = None,
    gateway: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[Payment], str | None]:
    """Payments newest first, for the console."""
    q = select(Payment).order_by(Payment.id.desc())
    if status:
        q = q.where(Payment.status == status)
    if gateway:
        q = q.where(Payment.gateway == gateway)
    if before_id:
        q = q.where(Payment.id < before_id)
    return await keyset_page(s, q, limit=limit)


async def stale_pending(s: AsyncSession, *, older_than: timedelta, limit: int = 200) -> list[Payment]:
    """Payments still pending after `older_than`: the ones whose notification may have been lost."""
    cutoff = clock.now() - older_than
    q = select(Payment).where(Payment.status == "pending", Payment.created_at <= cutoff).order_by(Payment.id)
    return list((await s.scalars(q.limit(limit))).all())


async def gateway_promoted(s: AsyncSession, *, limit: int = 50) -> list[Payment]:
    """Recent succeeded payments that a gateway coupon paid part of (for reconciling the gateway's bill)."""
    q = (
        select(Payment)
        .where(Payment.status == "succeeded", Payment.payer_total_fen < Payment.amount_fen)
        .order_by(Payment.id.desc())
        .limit(limit)
    )
    return list((await s.scalars(q)).all())
