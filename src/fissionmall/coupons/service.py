"""Coupons: templates, claims safe under concurrency, the lock → use → release/return lifecycle.

Counts are never read-then-written: `issued = issued + 1 WHERE issued < total` guards the total, a
conditional upsert on (template, customer) guards the per-user limit, and an order takes its coupon
with `status = 'available' → 'locked'` in the order's own transaction. The outbox then moves it on:
OrderPaid uses it, OrderCancelled releases it, a full refund returns it (per template).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, events, jobs
from fissionmall.core.db import get_db, is_postgres, keyset_page
from fissionmall.core.errors import AppError, Conflict, not_found
from fissionmall.coupons import rules
from fissionmall.coupons.errors import CouponsError
from fissionmall.coupons.events import CouponGranted
from fissionmall.coupons.models import Coupon, CouponClaimCount, CouponTemplate
from fissionmall.coupons.schemas import TemplateCreate, TemplateUpdate
from fissionmall.orders import service as orders
from fissionmall.orders.events import OrderPaid, OrderRefunded, has_ref
from fissionmall.risk import ask
from fissionmall.risk.decisions import Action, Subject

# ---- templates -------------------------------------------------------------------------------------


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    if "scope" in data:
        data["scope_kind"] = data.pop("scope")
    return data


def _same_time(a: datetime, b: datetime | None) -> bool:
    """Whether an edit's time is the stored one (a driver may hand a stored time back without its zone)."""
    if b is None:
        return False
    return a == (b if b.tzinfo else b.replace(tzinfo=UTC))


async def create_template(s: AsyncSession, *, data: TemplateCreate) -> CouponTemplate:
    """Create a coupon template after checking it can work."""
    values = _fields(data.model_dump())
    now = clock.now()
    rules.check_template(values, now=now)
    t = CouponTemplate(**values, issued=0, used=0, created_at=now, updated_at=now)
    s.add(t)
    await s.flush()
    return t


async def get_template(s: AsyncSession, *, template_id: int) -> CouponTemplate:
    """A coupon template by id (fresh from the database), or NOT_FOUND."""
    t = await s.get(CouponTemplate, template_id, populate_existing=True)
    if t is None:
        raise not_found("coupon_template")
    return t


async def update_template(s: AsyncSession, *, template_id: int, data: TemplateUpdate) -> CouponTemplate:
    """Edit a template (pause/resume is `status`); coupons already claimed keep their window."""
    t = await get_template(s, template_id=template_id)
    changes = _fields(data.model_dump(exclude_unset=True))
    merged = {
        c: getattr(t, c)
        for c in (
            "kind",
            "amount_fen",
            "percent_bp",
            "threshold_fen",
            "scope_kind",
            "scope_ids",
            "valid_from",
            "valid_until",
            "valid_days",
            "claim_from",
            "claim_until",
        )
    }
    merged.update(changes)
    if "valid_days" in changes and changes["valid_days"] is not None and "valid_until" not in changes:
        merged["valid_until"] = merged["valid_from"] = None
        changes["valid_until"] = changes["valid_from"] = None
    if "valid_until" in changes and changes["valid_until"] is not None and "valid_days" not in changes:
        merged["valid_days"] = changes["valid_days"] = None
    moves_end = changes.get("valid_until") is not None and not _same_time(changes["valid_until"], t.valid_until)
    rules.check_template(merged, now=clock.now() if moves_end else None)
    if changes.get("total") is not None and changes["total"] < t.issued:
        raise Conflict(CouponsError.TOTAL_BELOW_ISSUED, issued=t.issued)
    for k, v in changes.items():
        setattr(t, k, v)
    t.updated_at = clock.now()
    await s.flush()
    return t


async def delete_template(s: AsyncSession, *, template_id: int) -> None:
    """Delete a template nobody holds yet; once issued, pause it instead."""
    t = await get_template(s, template_id=template_id)
    if t.issued:
        raise Conflict(CouponsError.TEMPLATE_IN_USE)
    await s.execute(delete(CouponClaimCount).where(CouponClaimCount.template_id == t.id))
    await s.delete(t)


async def list_templates(
    s: AsyncSession, *, before_id: int | None = None, limit: int = 20, status: str | None = None
) -> tuple[list[CouponTemplate], str | None]:
    """Coupon templates newest first, one keyset page."""
    q = select(CouponTemplate).order_by(CouponTemplate.id.desc())
    if before_id:
        q = q.where(CouponTemplate.id < before_id)
    if status:
        q = q.where(CouponTemplate.status == status)
    return await keyset_page(s, q, limit=limit)


async def usage(s: AsyncSession, *, template_id: int) -> dict[str, int]:
    """Coupons of a template by status (the console's usage figures)."""
    rows = await s.execute(
        select(Coupon.status, func.count()).where(Coupon.template_id == template_id).group_by(Coupon.status)
    )
    return {st: int(n) for st, n in rows.all()}


# ---- claims ----------------------------------------------------------------------------------------


async def claimable(s: AsyncSession, *, customer_id: int | None) -> list[tuple[CouponTemplate, int]]:
    """Templates shown in the coupon centre, with how many the caller holds."""
    now = clock.now()
    q = (
        select(CouponTemplate)
        .where(
            CouponTemplate.status == "active",
            CouponTemplate.issue_mode == "claim",
            or_(CouponTemplate.claim_from.is_(None), CouponTemplate.claim_from <= now),
            or_(CouponTemplate.claim_until.is_(None), CouponTemplate.claim_until > now),
            or_(CouponTemplate.valid_until.is_(None), CouponTemplate.valid_until > now),
        )
        .order_by(CouponTemplate.id.desc())
        .limit(100)
    )
    templates = list((await s.scalars(q)).all())
    held: dict[int, int] = {}
    if customer_id is not None and templates:
        rows = await s.execute(
            select(CouponClaimCount.template_id, CouponClaimCount.count).where(
                CouponClaimCount.customer_id == customer_id,
                CouponClaimCount.template_id.in_([t.id for t in templates]),
            )
        )
        held = {tid: n for tid, n in rows.all()}
    return [(t, held.get(t.id, 0)) for t in templates]


async def _take_user_slot(s: AsyncSession, template_id: int, customer_id: int, limit: int) -> bool:
    """count + 1 for (template, customer) if still under `limit`, as one statement."""
    ins = (pg_insert if is_postgres(s) else sqlite_insert)(CouponClaimCount).values(
        template_id=template_id, customer_id=customer_id, count=1
    )
    stmt = ins.on_conflict_do_update(
        index_elements=["template_id", "customer_id"],
        set_={"count": CouponClaimCount.count + 1},
        where=CouponClaimCount.count < limit,
    )
    res = await s.execute(stmt)
    return res.rowcount == 1  # type: ignore[attr-defined]


async def grant(
    s: AsyncSession,
    *,
    template_id: int,
    customer_id: int,
    source: str = "claim",
    grant_key: str | None = None,
) -> Coupon:
    """Give one coupon of a template to a shopper, within the total and the per-user limit."""
    now = clock.now()
    t = await get_template(s, template_id=template_id)
    if source == "claim":
        refusal = rules.claim_refusal(t, now)
        if refusal is not None:
            raise Conflict(refusal)
    elif t.status != "active":
        raise Conflict(CouponsError.COUPON_NOT_CLAIMABLE)
    if grant_key is not None and await s.scalar(select(Coupon.id).where(Coupon.grant_key == grant_key)):
        raise Conflict(CouponsError.ALREADY_GRANTED)
    if not await _take_user_slot(s, t.id, customer_id, t.per_user_limit):
        raise Conflict(CouponsError.CLAIM_LIMIT_REACHED, limit=t.per_user_limit)
    res = await s.execute(
        update(CouponTemplate)
        .where(
            CouponTemplate.id == t.id,
            CouponTemplate.status == "active",
            or_(CouponTemplate.total.is_(None), CouponTemplate.issued < CouponTemplate.total),
        )
        .values(issued=CouponTemplate.issued + 1)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(CouponsError.COUPON_SOLD_OUT)
    start, end = rules.window(valid_from=t.valid_from, valid_until=t.valid_until, valid_days=t.valid_days, now=now)
    c = Coupon(
        template_id=t.id,
        customer_id=customer_id,
        status="available",
        source=source,
        grant_key=grant_key,
        valid_from=start,
        valid_until=end,
        claimed_at=now,
    )
    s.add(c)
    await s.flush()
    await jobs.schedule(s, "coupons.expire", {"coupon_id": c.id}, due_at=end, key=f"coupon-expire:{c.id}")
    remind_at = end - timedelta(days=1)
    if remind_at > now:
        await jobs.schedule(s, "coupons.remind", {"coupon_id": c.id}, due_at=remind_at, key=f"coupon-remind:{c.id}")
    await events.publish(s, CouponGranted(coupon_id=c.id, template_id=t.id, customer_id=customer_id, source=source))
    return c


async def issue(
    s: AsyncSession, *, template_id: int, customer_ids: Sequence[int], batch: str | None
) -> tuple[int, list[dict[str, Any]]]:
    """An operator issues one coupon to each listed shopper; with `batch`, repeating it issues nothing new."""
    from fissionmall.accounts.models import Customer

    await get_template(s, template_id=template_id)
    known = set((await s.scalars(select(Customer.id).where(Customer.id.in_(set(customer_ids))))).all())
    issued, skipped = 0, []
    for cid in sorted(set(customer_ids)):
        if cid not in known:
            skipped.append({"customer_id": cid, "code": "CUSTOMER_NOT_FOUND"})
            continue
        key = f"issue:{template_id}:{batch}:{cid}" if batch else None
        try:
            async with s.begin_nested():
                await grant(s, template_id=template_id, customer_id=cid, source="operator", grant_key=key)
            issued += 1
        except AppError as exc:
            skipped.append({"customer_id": cid, "code": exc.code})
    return issued, skipped


async def my_coupons(
    s: AsyncSession, *, customer_id: int, status: str | None = None, before_id: int | None = None, limit: int = 20
) -> tuple[list[tuple[Coupon, CouponTemplate]], str | None]:
    """The shopper's coupons with their templates, newest first, one keyset page."""
    q = (
        select(Coupon, CouponTemplate)
        .join(CouponTemplate, Coupon.template_id == CouponTemplate.id)
        .where(Coupon.customer_id == customer_id)
        .order_by(Coupon.id.desc())
    )
    if status:
        q = q.where(Coupon.status.in_(status.split(",")))
    if before_id:
        q = q.where(Coupon.id < before_id)
    return await keyset_page(s, q, limit=limit)


async def lock(s: AsyncSession, *, coupon_id: int, customer_id: int, order_id: int) -> None:
    """Take the coupon for an order, in the order's transaction: available → locked, or refuse."""
    now = clock.now()
    res = await s.execute(
        update(Coupon)
        .where(
            Coupon.id == coupon_id,
            Coupon.customer_id == customer_id,
            Coupon.status == "available",
            Coupon.valid_until > now,
        )
        .values(status="locked", order_id=order_id, locked_at=now)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(CouponsError.COUPON_USED)


def _back_to_available() -> Any:
    # A coupon coming back after its window has closed comes back expired.
    return case((Coupon.valid_until > clock.now(), "available"), else_="expired")


async def release(s: AsyncSession, *, order_id: int) -> int:
    """Give back the coupon an unpaid order held (the order was cancelled)."""
    res = await s.execute(
        update(Coupon)
        .where(Coupon.order_id == order_id, Coupon.status == "locked")
        .values(status=_back_to_available(), order_id=None, locked_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(res.rowcount)  # type: ignore[attr-defined]


async def consume(s: AsyncSession, *, order_id: int) -> int:
    """The order was paid: its coupon is used."""
    rows = list((await s.scalars(select(Coupon).where(Coupon.order_id == order_id, Coupon.status == "locked"))).all())
    for c in rows:
        res = await s.execute(
            update(Coupon)
            .where(Coupon.id == c.id, Coupon.status == "locked")
            .values(status="used", used_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        if res.rowcount == 1:  # type: ignore[attr-defined]
            await s.execute(
                update(CouponTemplate)
                .where(CouponTemplate.id == c.template_id)
                .values(used=CouponTemplate.used + 1)
                .execution_options(synchronize_session=False)
            )
    return len(rows)


async def give_back(s: AsyncSession, *, order_id: int) -> int:
    """A fully refunded order returns its used coupon, when its template says so."""
    rows = list((await s.scalars(select(Coupon).where(Coupon.order_id == order_id, Coupon.status == "used"))).all())
    n = 0
    for c in rows:
        t = await get_template(s, template_id=c.template_id)
        if not t.return_on_refund:
            continue
        res = await s.execute(
            update(Coupon)
            .where(Coupon.id == c.id, Coupon.status == "used")
            .values(status=_back_to_available(), order_id=None, used_at=None)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount == 1:  # type: ignore[attr-defined]
            n += 1
            await s.execute(
                update(CouponTemplate)
                .where(CouponTemplate.id == t.id, CouponTemplate.used > 0)
                .values(used=CouponTemplate.used - 1)
                .execution_options(synchronize_session=False)
            )
    return n


async def take_back(s: AsyncSession, *, coupon_ids: Sequence[int]) -> list[int]:
    """Withdraw granted coupons the shopper has not used (a paid membership refunded in its cooling-off
    window): each still `available` one expires now; locked and used ones are left alone. Answers the ids
    taken back."""
    if not coupon_ids:
        return []
    now = clock.now()
    rows = await s.execute(
        update(Coupon)
        .where(Coupon.id.in_(set(coupon_ids)), Coupon.status == "available")
        .values(status="expired", valid_until=now)
        .returning(Coupon.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(int(i) for i in rows.scalars().all())


# ---- events and timers ---------------------------------------------------------------------------------


@events.on(OrderPaid, "coupons.consume", when=has_ref("coupon"))
async def _on_paid(s: AsyncSession, ev: OrderPaid) -> None:
    await consume(s, order_id=ev.order_id)


@jobs.handler("coupons.release")
async def _on_cancelled(s: AsyncSession, job: jobs.Job) -> None:
    """Deliveries queued before a cancellation released the coupon in its own transaction (coupons'
    checkout hook now does): releasing twice is a no-op."""
    await release(s, order_id=job.payload["order_id"])


@events.on(OrderRefunded, "coupons.return_on_refund")
async def _on_refunded(s: AsyncSession, ev: OrderRefunded) -> None:
    order = await orders.get_order(s, order_id=ev.order_id)
    if order.paid_fen and order.refunded_fen >= order.paid_fen:
        await give_back(s, order_id=order.id)


@jobs.on("CustomerRegistered", "coupons.new_user_pack")
async def _on_registered(s: AsyncSession, job: jobs.Job) -> None:
    """新人礼包: every active new-user template, once per shopper (the grant key makes it once), unless the
    risk layer refuses the new account (one device or network signing up many: no pack)."""
    customer_id = job.payload["customer_id"]
    templates = (
        await s.scalars(
            select(CouponTemplate)
            .where(CouponTemplate.issue_mode == "new_user", CouponTemplate.status == "active")
            .order_by(CouponTemplate.id)
        )
    ).all()
    if not templates:
        return
    subject = Subject(customer_id=customer_id, device_id=job.payload.get("device_id"), ip=job.payload.get("ip"))
    facts = {"template_ids": [t.id for t in templates]}
    verdict = await ask.judge(get_db(), action=Action.NEW_USER_GIFT, subject=subject, facts=facts)
    if not verdict.allowed:
        return
    for t in templates:
        for n in range(t.per_user_limit):
            try:
                async with s.begin_nested():
                    await grant(
                        s,
                        template_id=t.id,
                        customer_id=customer_id,
                        source="new_user",
                        grant_key=f"new_user:{t.id}:{customer_id}:{n}",
                    )
            except AppError:
                pass  # sold out, already granted: the pack gives what it still can


@jobs.handler("coupons.expire")
async def _expire(s: AsyncSession, job: jobs.Job) -> None:
    res = await s.execute(
        update(Coupon)
        .where(Coupon.id == job.payload["coupon_id"], Coupon.status == "available", Coupon.valid_until <= clock.now())
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    if res.rowcount == 1:  # type: ignore[attr-defined]
        c = await s.get(Coupon, job.payload["coupon_id"])
        assert c is not None
        await jobs.publish(s, "CouponExpired", {"coupon_id": c.id, "customer_id": c.customer_id})


@jobs.handler("coupons.remind")
async def _remind(s: AsyncSession, job: jobs.Job) -> None:
    c = await s.get(Coupon, job.payload["coupon_id"])
    if c is None or c.status != "available":
        return
    t = await get_template(s, template_id=c.template_id)
    await jobs.publish(
        s,
        "CouponExpiring",
        {
            "coupon_id": c.id,
            "customer_id": c.customer_id,
            "template_id": t.id,
            "name": t.name,
            "valid_until": c.valid_until.isoformat(),
        },
    )
