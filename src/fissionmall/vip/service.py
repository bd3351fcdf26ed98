"""付费会员's shopper side: subscribe (a virtual order), activation in the payment's transaction (once,
a compare-and-set on the purchase), renewal, the monthly coupon grants (durable timers, once per month),
who is a member at a given second, and the cooling-off refund.

Lock order: an order's row, then the shopper's `vip_members` row, then the purchase; the grant timer
takes only the member row, so none of these paths can wait on each other in a cycle.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.core.db import is_postgres
from fissionmall.core.errors import AppError, Conflict, NotFound
from fissionmall.coupons import service as coupons
from fissionmall.coupons.models import Coupon, CouponTemplate
from fissionmall.membership import benefits as membership_benefits
from fissionmall.orders import service as orders
from fissionmall.orders import virtual
from fissionmall.orders.models import Order
from fissionmall.orders.sources import SourceDefaults, register_source
from fissionmall.settings import get_settings
from fissionmall.vip import plans, rules
from fissionmall.vip.errors import VipError
from fissionmall.vip.models import VipGrant, VipMember, VipPlan, VipPurchase

log = logging.getLogger("fissionmall.vip")
SOURCE = "vip"
GRANT_JOB = "vip.grant"


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def due_at(member: VipMember, month: int) -> datetime:
    """When the run's `month`-th grant falls due (0: at activation)."""
    return rules.add_months(member.anchor_at, month, _zone())


# ---- subscribe and activate ------------------------------------------------------------------------------


async def subscribe(s: AsyncSession, *, customer_id: int, plan_id: int) -> tuple[VipPurchase, Order]:
    """A purchase of an active plan and its unpaid virtual order; tapping again while that order waits
    for payment answers the same order."""
    plan = await plans.get_plan(s, plan_id=plan_id)
    if not plan.active:
        raise Conflict(VipError.VIP_PLAN_INACTIVE)
    waiting = (
        await s.execute(
            select(VipPurchase, Order)
            .join(Order, Order.id == VipPurchase.order_id)
            .where(
                VipPurchase.customer_id == customer_id,
                VipPurchase.plan_id == plan.id,
                VipPurchase.status == "pending",
                Order.status == "pending_payment",
            )
            .order_by(VipPurchase.id.desc())
            .limit(1)
        )
    ).first()
    if waiting is not None:
        return waiting[0], waiting[1]
    now = clock.now()
    p = VipPurchase(
        customer_id=customer_id,
        plan_id=plan.id,
        status="pending",
        plan_name=plan.name,
        price_fen=plan.price_fen,
        days=plan.days,
        cooling_days=plan.cooling_days,
        refund_reason="",
        created_at=now,
    )
    s.add(p)
    await s.flush()
    order = await virtual.place_virtual(
        s,
        customer_id=customer_id,
        source=SOURCE,
        source_ref=f"vip:{p.id}",
        title=f"{plan.name}（{plan.days}天）",
        amount_fen=plan.price_fen,
    )
    p.order_id = order.id
    await s.flush()
    return p, order


async def _member_row(s: AsyncSession, customer_id: int, plan_id: int) -> VipMember:
    """The shopper's member row, created empty (already expired) if missing, locked."""
    now = clock.now()
    ins = (pg_insert if is_postgres(s) else sqlite_insert)(VipMember).values(
        customer_id=customer_id, plan_id=plan_id, run_no=0, anchor_at=now, until=now, updated_at=now
    )
    await s.execute(ins.on_conflict_do_nothing(index_elements=["customer_id"]))
    m = await s.scalar(
        select(VipMember)
        .where(VipMember.customer_id == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert m is not None
    return m


async def activate(s: AsyncSession, *, order: Order) -> VipPurchase | None:
    """The payment's transaction: pending → active exactly once; a renewal extends from the later of
    now and the current expiry; the first month's coupons are due at once; the order completes."""
    now = clock.now()
    res = await s.execute(
        update(VipPurchase)
        .where(VipPurchase.order_id == order.id, VipPurchase.status == "pending")
        .values(status="active", paid_at=now)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return None  # activated already (or not ours)
    p = await s.scalar(
        select(VipPurchase).where(VipPurchase.order_id == order.id).execution_options(populate_existing=True)
    )
    assert p is not None
    m = await _member_row(s, p.customer_id, p.plan_id)
    new_run = not rules.is_active(m.until, now) or m.run_no == 0
    start = now if new_run else rules.renewal_start(now=now, until=m.until)
    if new_run:
        m.run_no += 1
        m.anchor_at = now
    m.until = start + timedelta(days=p.days)
    m.plan_id = p.plan_id
    m.updated_at = now
    p.run_no, p.starts_at, p.until = m.run_no, start, m.until
    await s.flush()
    await _schedule_next(s, m, restart_for=None if new_run else p.id)
    await virtual.complete(s, order=order)
    return p


async def _schedule_next(s: AsyncSession, m: VipMember, *, restart_for: int | None) -> None:
    """Queue the run's next grant (month 0 for a new run). A renewal restarts a chain that stopped at
    the old expiry under a key of its own; the chains meet again at the next month's common key."""
    last = await s.scalar(
        select(func.max(VipGrant.month)).where(VipGrant.customer_id == m.customer_id, VipGrant.run_no == m.run_no)
    )
    month = 0 if last is None else int(last) + 1
    due = due_at(m, month)
    if due >= m.until:
        return
    key = f"vip-grant:{m.customer_id}:{m.run_no}:{month}"
    if restart_for is not None:
        key += f":p{restart_for}"
    payload = {"customer_id": m.customer_id, "run_no": m.run_no, "month": month}
    await jobs.schedule(s, GRANT_JOB, payload, due_at=max(due, clock.now()), key=key)


class VipSource(SourceDefaults):
    """付费会员 orders: activated on payment; an unpaid one cancelled leaves its purchase cancelled."""

    name = SOURCE

    async def paid(self, s: AsyncSession, *, order: Order) -> None:
        await activate(s, order=order)

    async def cancelled(self, s: AsyncSession, *, order: Order) -> None:
        await s.execute(
            update(VipPurchase)
            .where(VipPurchase.order_id == order.id, VipPurchase.status == "pending")
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )


register_source(VipSource())


# ---- monthly grants --------------------------------------------------------------------------------------


@jobs.handler(GRANT_JOB)
async def _grant_month(s: AsyncSession, job: jobs.Job) -> None:
    await grant_month(
        s, customer_id=job.payload["customer_id"], run_no=job.payload["run_no"], month=job.payload["month"]
    )


async def grant_month(s: AsyncSession, *, customer_id: int, run_no: int, month: int) -> VipGrant | None:
    """One month's coupons, once: the (customer, run, month) row is inserted first, so a timer that fires
    twice (a retry, a duplicate) grants nothing the second time; nothing is granted at or after expiry."""
    m = await s.scalar(
        select(VipMember)
        .where(VipMember.customer_id == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if m is None or m.run_no != run_no:
        return None
    due = due_at(m, month)
    now = clock.now()
    if due >= m.until:
        return None  # the run ended (expired, or refunded) before this month fell due
    ins = (pg_insert if is_postgres(s) else sqlite_insert)(VipGrant).values(
        customer_id=customer_id, run_no=run_no, month=month, due_at=due, coupon_ids=[], taken_back=0, granted_at=now
    )
    res = await s.execute(ins.on_conflict_do_nothing(index_elements=["customer_id", "run_no", "month"]))
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return None
    g = await s.scalar(
        select(VipGrant).where(VipGrant.customer_id == customer_id, VipGrant.run_no == run_no, VipGrant.month == month)
    )
    assert g is not None
    plan = await s.get(VipPlan, m.plan_id)
    got: list[int] = []
    if plan is not None and plan.grant_template_id is not None:
        for n in range(plan.grant_count):
            try:
                async with s.begin_nested():
                    c = await coupons.grant(
                        s,
                        template_id=plan.grant_template_id,
                        customer_id=customer_id,
                        source=SOURCE,
                        grant_key=f"vip:{customer_id}:{run_no}:{month}:{n}",
                    )
                got.append(c.id)
            except AppError as exc:  # sold out, paused, over the per-user limit: the month gives what it can
                log.warning("vip grant %s/%s/%s #%s refused: %s", customer_id, run_no, month, n, exc.code)
    g.coupon_ids = got
    await s.flush()
    nxt = due_at(m, month + 1)
    if nxt < m.until:
        await jobs.schedule(
            s,
            GRANT_JOB,
            {"customer_id": customer_id, "run_no": run_no, "month": month + 1},
            due_at=nxt,
            key=f"vip-grant:{customer_id}:{run_no}:{month + 1}",
        )
    return g


# ---- who is a member -----------------------------------------------------------------------------------


async def is_member(s: AsyncSession, *, customer_id: int, at: datetime) -> bool:
    """Whether the shopper is a paid member at `at` (benefits end exactly at `until`)."""
    # By primary key through the identity map: checkout asks this (membership's member check) and then
    # member_plan for the same shopper in one transaction, and the row is read once.
    m = await s.get(VipMember, customer_id)
    return rules.is_active(m.until if m is not None else None, at)


async def member_plan(s: AsyncSession, *, customer_id: int, at: datetime) -> tuple[VipMember, VipPlan] | None:
    """The active membership and its plan at `at`, or None."""
    m = await s.get(VipMember, customer_id)  # no second read when is_member has just read it
    if m is None or not rules.is_active(m.until, at):
        return None
    plan = await s.get(VipPlan, m.plan_id)
    return (m, plan) if plan is not None else None


# ---- cooling-off refund ----------------------------------------------------------------------------------


async def latest_purchase(s: AsyncSession, *, customer_id: int) -> VipPurchase | None:
    """The shopper's latest active purchase (the only one a refund may undo)."""
    return await s.scalar(
        select(VipPurchase)
        .where(VipPurchase.customer_id == customer_id, VipPurchase.status == "active")
        .order_by(VipPurchase.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )


async def _period_grants(s: AsyncSession, p: VipPurchase) -> list[VipGrant]:
    if p.run_no is None or p.starts_at is None:
        return []
    return list(
        (
            await s.scalars(
                select(VipGrant).where(
                    VipGrant.customer_id == p.customer_id, VipGrant.run_no == p.run_no, VipGrant.due_at >= p.starts_at
                )
            )
        ).all()
    )


async def _coupon_values(s: AsyncSession, coupon_ids: list[int]) -> dict[int, tuple[str, int]]:
    """Each granted coupon's status and what it was worth: the discount its order's coupon row shows,
    else the template's face value (a coupon held by an unpaid order counts as used)."""
    if not coupon_ids:
        return {}
    rows = (
        await s.execute(
            select(Coupon, CouponTemplate.amount_fen)
            .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
            .where(Coupon.id.in_(coupon_ids))
        )
    ).all()
    orders_steps: dict[int, Any] = {}
    used_orders = {c.order_id for c, _ in rows if c.order_id is not None}
    if used_orders:
        orders_steps = dict((await s.execute(select(Order.id, Order.steps).where(Order.id.in_(used_orders)))).all())
    out: dict[int, tuple[str, int]] = {}
    for c, face in rows:
        worth = int(face or 0)
        for st in (orders_steps.get(c.order_id) if c.order_id is not None else None) or ():
            if st.get("ref") == f"coupon:{c.id}":
                worth = abs(int(st.get("amount_fen", 0)))
        out[c.id] = (c.status, worth)
    return out


async def refund_quote(s: AsyncSession, *, purchase: VipPurchase) -> int:
    """What a refund of this purchase pays back now: the price less the coupons already used."""
    ids = [int(i) for g in await _period_grants(s, purchase) for i in g.coupon_ids]
    vals = await _coupon_values(s, ids)
    return rules.refund_amount(purchase.price_fen, (w for st, w in vals.values() if st in ("used", "locked")))


async def refund(s: AsyncSession, *, customer_id: int, purchase_id: int | None = None, reason: str = "") -> VipPurchase:
    """Refund the latest purchase inside its cooling-off window: its period ends now (or, for a renewal
    not begun yet, the earlier period's end stands), its unused coupons are taken back, and the price
    less the coupons used goes back through the gateway. Outside the window: VIP_REFUND_WINDOW_CLOSED."""
    latest = await latest_purchase(s, customer_id=customer_id)
    if purchase_id is not None:
        asked = await s.get(VipPurchase, purchase_id)
        if asked is None or asked.customer_id != customer_id:
            raise NotFound(VipError.VIP_PURCHASE_NOT_FOUND)
        if asked.status == "refunded":
            return asked
        if asked.status != "active":
            raise Conflict(VipError.VIP_REFUND_WINDOW_CLOSED)
        if latest is None or latest.id != asked.id:
            raise Conflict(VipError.VIP_REFUND_NOT_LATEST)
    if latest is None or latest.order_id is None:
        raise NotFound(VipError.VIP_NOT_MEMBER)
    await orders.lock_order(s, order_id=latest.order_id, lines=False)
    m = await _member_row(s, customer_id, latest.plan_id)
    p = await latest_purchase(s, customer_id=customer_id)
    now = clock.now()
    if p is None or p.id != latest.id or not rules.in_cooling_off(p.paid_at, p.cooling_days, now):
        raise Conflict(VipError.VIP_REFUND_WINDOW_CLOSED)
    grants = await _period_grants(s, p)
    vals = await _coupon_values(s, [int(i) for g in grants for i in g.coupon_ids])
    taken = set(await coupons.take_back(s, coupon_ids=[i for i, (st, _) in vals.items() if st == "available"]))
    amount = rules.refund_amount(
        p.price_fen, (w for i, (st, w) in vals.items() if i not in taken and st in ("used", "locked"))
    )
    for g in grants:
        g.taken_back += sum(1 for i in g.coupon_ids if int(i) in taken)
    assert p.starts_at is not None
    m.until = p.starts_at if p.starts_at > now else now
    m.updated_at = now
    p.status, p.refunded_at, p.refund_fen, p.refund_reason = "refunded", now, amount, reason[:200]
    await s.flush()
    if amount > 0:
        await virtual.refund_virtual(
            s,
            order_id=p.order_id or 0,
            amount_fen=amount,
            reason=reason or "付费会员无理由退款",
            key=f"vip-refund:{p.id}",
        )
    return p


async def refund_purchase(s: AsyncSession, *, purchase_id: int, reason: str) -> VipPurchase:
    """The merchant's refund of one purchase (the shopper's latest, inside its window)."""
    p = await s.get(VipPurchase, purchase_id)
    if p is None:
        raise NotFound(VipError.VIP_PURCHASE_NOT_FOUND)
    return await refund(s, customer_id=p.customer_id, purchase_id=p.id, reason=reason)


# A paid member is a member for the member day (membership/benefits.py asks every registered check).
membership_benefits.register_member_check(is_member)
