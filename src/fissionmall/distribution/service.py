"""Distribution: distributors, bindings, the commission ledger, monthly settlement and withdrawals.

Every money movement is a ledger row in `distribution_commissions` (never updated); balances are sums per
bucket. Exactly-once comes from unique keys on the ledger ((order_line_id, level, kind, ref_key) and
(withdrawal_id, kind, bucket)) written with INSERT … ON CONFLICT DO NOTHING, plus the jobs' own
once-semantics; state rows (distributor, withdrawal, distribution order) move by compare-and-set.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import and_, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fissionmall.accounts import service as accounts
from fissionmall.catalog import service as catalog
from fissionmall.core import clock, extras, jobs
from fissionmall.core.db import is_postgres
from fissionmall.core.errors import AppError, Conflict, Forbidden, NotFound
from fissionmall.core.media import first_media_file
from fissionmall.core.money import yuan
from fissionmall.distribution import poster, rules
from fissionmall.distribution.errors import DistributionError
from fissionmall.distribution.models import (
    Binding,
    Commission,
    DistributionConfig,
    DistributionOrder,
    Distributor,
    Settlement,
    ShareVisit,
    Statement,
    Withdrawal,
)
from fissionmall.distribution.schemas import ConfigIn
from fissionmall.distribution.transfer import get_transfer
from fissionmall.orders import service as orders
from fissionmall.payments.errors import PaymentsError
from fissionmall.settings import Settings, get_settings
from fissionmall.wechat import vault

log = logging.getLogger("fissionmall.distribution")

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
CODE_LEN = 8
SETTLE_HANDLER = "distribution.settle"
PAYOUT_HANDLER = "distribution.payout"
EARNING_KINDS = ("accrue", "reverse", "void")


def _tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


async def _insert_ignore(s: AsyncSession, model: Any, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING. True when the row was written (False: it existed)."""
    ins = pg_insert(model) if is_postgres(s) else sqlite_insert(model)
    res = await s.execute(ins.values(**values).on_conflict_do_nothing())
    return bool(res.rowcount)  # type: ignore[attr-defined]


# ---- config --------------------------------------------------------------------------------------


async def get_config(s: AsyncSession) -> ConfigIn:
    """The shop's distribution settings (defaults until an operator saves them)."""
    row = await s.get(DistributionConfig, 1)
    return ConfigIn.model_validate(row.data) if row else ConfigIn()


async def save_config(s: AsyncSession, *, data: ConfigIn, admin_id: int | None) -> ConfigIn:
    """Replace the settings (already validated: ≤ 2 levels, rates within the cap)."""
    values = {"data": data.model_dump(mode="json"), "updated_at": clock.now(), "updated_by": admin_id}
    if not await _insert_ignore(s, DistributionConfig, {"id": 1, **values}):
        await s.execute(update(DistributionConfig).where(DistributionConfig.id == 1).values(**values))
    await ensure_settlement_scheduled(s)
    return data


# ---- distributors --------------------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LEN))


async def get_distributor(s: AsyncSession, customer_id: int) -> Distributor | None:
    return await s.scalar(select(Distributor).where(Distributor.customer_id == customer_id))


async def _create_distributor(s: AsyncSession, customer_id: int, status: str) -> Distributor:
    for _ in range(5):  # a code collision (32^8 codes) is retried with a fresh code
        code = _new_code()
        now = clock.now()
        await _insert_ignore(
            s,
            Distributor,
            {
                "customer_id": customer_id,
                "status": status,
                "share_code": code,
                "withdraw_seq": 0,
                "created_at": now,
                "decided_at": now if status == "approved" else None,
            },
        )
        d = await get_distributor(s, customer_id)
        if d is not None:
            return d
    raise Conflict(DistributionError.SHARE_CODE_CONFLICT)


async def apply(s: AsyncSession, *, customer_id: int) -> Distributor:
    """One-tap application: approved at once (auto / everyone) or queued for an operator (manual)."""
    cfg = await get_config(s)
    if not cfg.enabled:
        raise AppError(DistributionError.DISTRIBUTION_DISABLED)
    d = await get_distributor(s, customer_id)
    target = "pending" if cfg.approval == "manual" else "approved"
    if d is None:
        d = await _create_distributor(s, customer_id, target)
    elif d.status == "rejected":
        await _distributor_cas(s, d.id, target, decided_at=clock.now() if target == "approved" else None)
    elif d.status == "disabled":
        raise Forbidden(DistributionError.DISTRIBUTOR_DISABLED)
    await ensure_settlement_scheduled(s)
    s.expire_all()
    d = await get_distributor(s, customer_id)
    assert d is not None
    return d


async def _everyone(s: AsyncSession, customer_id: int) -> Distributor | None:
    """人人分销: in `everyone` mode a shopper is a distributor as soon as they look."""
    d = await get_distributor(s, customer_id)
    if d is None:
        cfg = await get_config(s)
        if cfg.enabled and cfg.approval == "everyone":
            d = await _create_distributor(s, customer_id, "approved")
    return d


async def _distributor_cas(s: AsyncSession, distributor_id: int, target: str, **values: Any) -> bool:
    res = await s.execute(
        update(Distributor)
        .where(
            Distributor.id == distributor_id,
            Distributor.status.in_(rules.sources_of(rules.DISTRIBUTOR_TRANSITIONS, target)),
        )
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1  # type: ignore[attr-defined]


async def decide_distributor(s: AsyncSession, *, distributor_id: int, approve: bool, admin_id: int) -> Distributor:
    """An operator approves or rejects an application (or disables / re-enables a distributor)."""
    d = await s.get(Distributor, distributor_id)
    if d is None:
        raise NotFound(DistributionError.DISTRIBUTOR_NOT_FOUND)
    if approve:
        target = "approved"
    else:
        target = "rejected" if d.status == "pending" else "disabled"
    if not await _distributor_cas(s, d.id, target, decided_at=clock.now(), decided_by=admin_id):
        raise Conflict(DistributionError.DISTRIBUTOR_STATE_INVALID)
    await s.refresh(d)
    return d


async def by_code(s: AsyncSession, ref: str) -> Distributor:
    """The approved distributor behind a share code; an unknown, forged or inactive code is refused."""
    d = await s.scalar(select(Distributor).where(Distributor.share_code == ref.strip().upper()))
    if d is None or d.status != "approved":
        raise AppError(DistributionError.REF_UNKNOWN)
    return d


# ---- binding -------------------------------------------------------------------------------------


async def _binding(s: AsyncSession, customer_id: int) -> Binding | None:
    return await s.scalar(select(Binding).where(Binding.customer_id == customer_id))


async def upline(s: AsyncSession, customer_id: int, now: datetime) -> int | None:
    """The approved distributor a shopper is bound to now (an expired binding pays nobody)."""
    row = (
        await s.execute(
            select(Binding.distributor_customer_id, Binding.expires_at, Distributor.status)
            .join(Distributor, Distributor.customer_id == Binding.distributor_customer_id)
            .where(Binding.customer_id == customer_id)
        )
    ).first()
    if row is None or row.status != "approved" or (row.expires_at is not None and row.expires_at <= now):
        return None
    return int(row.distributor_customer_id)


BINDING_LOCK_KEY = 0x0D15_B14D  # pg_advisory_xact_lock key taken by every binding (any fixed bigint)


@dataclass(frozen=True)
class BindResult:
    status: str  # bound | rebound | kept
    distributor_customer_id: int | None  # who the shopper is bound to now (None: nobody)


async def bind(s: AsyncSession, *, customer_id: int, ref: str, origin: rules.BindOrigin) -> BindResult:
    """Bind a shopper to the distributor behind `ref`, by the configured mode, recording where it came from."""
    cfg = await get_config(s)
    if not cfg.enabled:
        raise AppError(DistributionError.DISTRIBUTION_DISABLED)
    target = await by_code(s, ref)
    if target.customer_id == customer_id:
        raise AppError(DistributionError.REF_SELF)
    now = clock.now()
    if is_postgres(s):
        # The cycle check reads the other side's binding: two shoppers binding to each other at once would
        # each read "not bound" and both write. One lock for every binding makes the check and the write
        # one step (held to commit); SQLite's single writer serialises them already.
        await s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BINDING_LOCK_KEY})
    if await upline(s, target.customer_id, now) == customer_id:
        raise Conflict(DistributionError.BIND_CYCLE)
    current = await _binding(s, customer_id)
    expired = current is not None and current.expires_at is not None and current.expires_at <= now
    decision = rules.bind_decision(
        cfg.bind_mode,
        origin=origin,
        current=current.distributor_customer_id if current else None,
        expired=expired,
        target=target.customer_id,
    )
    expires = now + timedelta(days=cfg.binding_expiry_days) if cfg.binding_expiry_days else None
    values = {
        "distributor_customer_id": target.customer_id,
        "origin": origin,
        "ref": target.share_code,
        "bound_at": now,
        "expires_at": expires,
    }
    if decision == "bind":
        if await _insert_ignore(s, Binding, {"customer_id": customer_id, "times_rebound": 0, **values}):
            return BindResult("bound", target.customer_id)
        decision = "keep"  # a concurrent first binding won
    if decision == "rebind" and current is not None:
        res = await s.execute(
            update(Binding)
            .where(Binding.id == current.id, Binding.distributor_customer_id == current.distributor_customer_id)
            .values(times_rebound=Binding.times_rebound + 1, **values)
            .execution_options(synchronize_session=False)
        )
        if res.rowcount == 1:  # type: ignore[attr-defined]
            return BindResult("rebound", target.customer_id)
    current = await _binding(s, customer_id)
    return BindResult("kept", current.distributor_customer_id if current else None)


@jobs.on("CustomerLoggedIn", "distribution.bind_on_login")
async def _on_login(s: AsyncSession, job: jobs.Job) -> None:
    """An existing shopper who logs in through a share link: bound as by a share link (mode permitting)."""
    ref = job.payload.get("ref")
    if not ref:
        return
    try:
        async with s.begin_nested():
            await bind(s, customer_id=job.payload["customer_id"], ref=ref, origin="share_link")
    except AppError as exc:
        log.info("login ref %r not bound: %s", ref, exc.code)


async def is_distributor(s: AsyncSession, customer_id: int) -> bool:
    """Whether the shopper is an approved distributor."""
    d = await get_distributor(s, customer_id)
    return d is not None and d.status == "approved"


@extras.contributes(extras.ME)
async def _me(s: AsyncSession, *, customer_id: int) -> dict[str, Any]:
    return {"is_distributor": await is_distributor(s, customer_id)}


@jobs.on("CustomerRegistered", "distribution.bind_on_registration")
async def _on_registered(s: AsyncSession, job: jobs.Job) -> None:
    ref = job.payload.get("ref")
    if not ref:
        return
    try:
        async with s.begin_nested():
            await bind(s, customer_id=job.payload["customer_id"], ref=ref, origin="registration")
    except AppError as exc:  # a stale or forged code at login binds nobody; it must not kill the job
        log.info("registration ref %r not bound: %s", ref, exc.code)


async def record_visit(
    s: AsyncSession, *, ref: str, product_id: int | None, visitor_id: int | None, ip: str | None
) -> None:
    """A share page was opened: counted for the distributor's dashboard."""
    d = await by_code(s, ref)
    s.add(
        ShareVisit(
            distributor_customer_id=d.customer_id,
            product_id=product_id,
            visitor_customer_id=visitor_id,
            ip=ip,
            created_at=clock.now(),
        )
    )


# ---- commissions ---------------------------------------------------------------------------------


async def accrue(s: AsyncSession, payload: dict[str, Any]) -> int:
    """Write the commissions of a paid order (once per line and level, however often this runs)."""
    cfg = await get_config(s)
    if not cfg.enabled:
        return 0
    buyer = int(payload["customer_id"])
    now = clock.now()
    if cfg.self_purchase_commission and (d := await get_distributor(s, buyer)) and d.status == "approved":
        level1: int | None = buyer
    else:
        level1 = await upline(s, buyer, now)
    if level1 is None:
        return 0
    level2 = await upline(s, level1, now) if cfg.levels >= 2 else None
    if level2 == buyer or level2 == level1:
        level2 = None  # a two-person loop never pays the buyer
    order = await orders.get_order(s, order_id=int(payload["order_id"]))
    product_of = {ln.id: ln.product_id for ln in order.lines}
    lines = [
        rules.LineIn(
            line_id=int(ln["line_id"]),
            product_id=product_of.get(int(ln["line_id"]), 0),
            sku_id=int(ln["sku_id"]),
            qty=int(ln["qty"]),
            goods_payable_fen=int(ln["goods_payable_fen"]),
        )
        for ln in payload["lines"]
    ]
    cfg_dict = cfg.model_dump()
    source = str(payload.get("source") or "normal")
    rates = {
        ln.line_id: rules.rates_for(cfg_dict, source=source, product_id=ln.product_id, sku_id=ln.sku_id) for ln in lines
    }
    shares = rules.commissions(lines, rates, levels=cfg.levels, has_level2=level2 is not None, cap_bp=cfg.cap_bp)
    if not shares:
        return 0
    qty_of = {ln.line_id: ln.qty for ln in lines}
    written = 0
    for sh in shares:
        owner = level1 if sh.level == 1 else level2
        assert owner is not None
        written += await _insert_ignore(
            s,
            Commission,
            {
                "distributor_customer_id": owner,
                "order_id": order.id,
                "order_line_id": sh.line_id,
                "withdrawal_id": None,
                "level": sh.level,
                "kind": "accrue",
                "bucket": "frozen",
                "amount_fen": sh.amount_fen,
                "base_fen": sh.base_fen,
                "qty": qty_of[sh.line_id],
                "rate_bp": sh.rate_bp,
                "ref_key": "",
                "created_at": now,
            },
        )
    await _insert_ignore(
        s,
        DistributionOrder,
        {
            "order_id": order.id,
            "buyer_id": buyer,
            "level1_customer_id": level1,
            "level2_customer_id": level2,
            "source": source,
            "bind_origin": "self" if level1 == buyer else (b.origin if (b := await _binding(s, buyer)) else ""),
            "goods_fen": sum(ln.goods_payable_fen for ln in lines),
            "commission_fen": sum(sh.amount_fen for sh in shares),
            "status": "frozen",
            "paid_at": now,
        },
    )
    await ensure_settlement_scheduled(s)
    if written:  # a redelivered OrderPaid writes nothing and tells nobody twice
        earned: dict[tuple[int, int], int] = {}
        for sh in shares:
            owner = level1 if sh.level == 1 else level2
            assert owner is not None
            earned[(owner, sh.level)] = earned.get((owner, sh.level), 0) + sh.amount_fen
        for (owner, level), amount in sorted(earned.items()):
            await jobs.publish(
                s,
                "CommissionAccrued",
                {"customer_id": owner, "order_id": order.id, "level": level, "amount_fen": amount},
            )
    return written


@jobs.on("OrderPaid", "distribution.accrue")
async def _on_paid(s: AsyncSession, job: jobs.Job) -> None:
    await accrue(s, job.payload)


async def _accruals(s: AsyncSession, *, line_id: int | None = None, order_id: int | None = None) -> list[Commission]:
    """The accrue entries of a line or an order, locked (PostgreSQL) so maturing and reversing queue."""
    q = select(Commission).where(Commission.kind == "accrue").order_by(Commission.id)
    q = (
        q.where(Commission.order_line_id == line_id)
        if line_id is not None
        else q.where(Commission.order_id == order_id)
    )
    return list((await s.scalars(q.with_for_update())).all())


async def _sum(s: AsyncSession, *conds: Any) -> int:
    return int(await s.scalar(select(func.coalesce(func.sum(Commission.amount_fen), 0)).where(*conds)) or 0)


async def reverse_line(s: AsyncSession, *, line_id: int, refund_id: int, qty: int, amount_fen: int) -> int:
    """A line refund takes back that line's commission on both levels, in proportion to the units refunded:
    from frozen if it has not matured, else from available (which may go negative and is carried forward)."""
    taken = 0
    for acc in await _accruals(s, line_id=line_id):
        line_level = (Commission.order_line_id == line_id, Commission.level == acc.level)
        prior = list((await s.scalars(select(Commission).where(*line_level, Commission.kind == "reverse"))).all())
        amount = rules.reversal_fen(
            accrued_fen=acc.amount_fen,
            line_qty=acc.qty,
            refunded_before_qty=sum(p.qty for p in prior),
            refund_qty=qty,
            reversed_fen=-sum(p.amount_fen for p in prior),
        )
        matured = await s.scalar(select(Commission.id).where(*line_level, Commission.kind == "mature_in"))
        ok = await _insert_ignore(
            s,
            Commission,
            {
                "distributor_customer_id": acc.distributor_customer_id,
                "order_id": acc.order_id,
                "order_line_id": line_id,
                "withdrawal_id": None,
                "level": acc.level,
                "kind": "reverse",
                "bucket": "available" if matured else "frozen",
                "amount_fen": -amount,
                "base_fen": amount_fen,
                "qty": qty,
                "rate_bp": acc.rate_bp,
                "ref_key": f"refund:{refund_id}",
                "created_at": clock.now(),
            },
        )
        taken += amount if ok else 0
    return taken


@jobs.on("OrderLineRefunded", "distribution.reverse")
async def _on_line_refunded(s: AsyncSession, job: jobs.Job) -> None:
    p = job.payload
    await reverse_line(
        s, line_id=int(p["line_id"]), refund_id=int(p["refund_id"]), qty=int(p["qty"]), amount_fen=int(p["amount_fen"])
    )


@jobs.on("OrderCancelled", "distribution.void")
async def _on_cancelled(s: AsyncSession, job: jobs.Job) -> None:
    """Cancellation before settlement voids what is still frozen (today only unpaid orders cancel, so this
    is a guard for sources that cancel later)."""
    order_id = int(job.payload["order_id"])
    res = await s.execute(
        update(DistributionOrder)
        .where(DistributionOrder.order_id == order_id, DistributionOrder.status == "frozen")
        .values(status="void")
        .execution_options(synchronize_session=False)
    )
    if not res.rowcount:  # type: ignore[attr-defined]
        return
    for acc in await _accruals(s, order_id=order_id):
        left = await _sum(
            s,
            Commission.order_line_id == acc.order_line_id,
            Commission.level == acc.level,
            Commission.bucket == "frozen",
        )
        if left > 0:
            await _insert_ignore(
                s,
                Commission,
                {
                    "distributor_customer_id": acc.distributor_customer_id,
                    "order_id": order_id,
                    "order_line_id": acc.order_line_id,
                    "withdrawal_id": None,
                    "level": acc.level,
                    "kind": "void",
                    "bucket": "frozen",
                    "amount_fen": -left,
                    "base_fen": acc.base_fen,
                    "rate_bp": acc.rate_bp,
                    "ref_key": "",
                    "created_at": clock.now(),
                },
            )


@jobs.on("OrderCompleted", "distribution.completed")
async def _on_completed(s: AsyncSession, job: jobs.Job) -> None:
    """The after-sales window closed: the commission matures `frozen_days` later (moved at settlement)."""
    cfg = await get_config(s)
    now = clock.now()
    await s.execute(
        update(DistributionOrder)
        .where(DistributionOrder.order_id == int(job.payload["order_id"]), DistributionOrder.completed_at.is_(None))
        .values(completed_at=now, matures_at=rules.matures_at(now, cfg.frozen_days))
        .execution_options(synchronize_session=False)
    )


# ---- settlement ----------------------------------------------------------------------------------


async def ensure_settlement_scheduled(s: AsyncSession) -> None:
    """The settlement of the current month is queued once (keyed by period)."""
    tz = _tz()
    period = rules.period_of(clock.now(), tz)
    key = f"distribution-settle:{period}"
    # Look before inserting: concurrent inserts of one unique key would queue every accrual behind the first.
    if await s.scalar(select(jobs.Job.id).where(jobs.Job.key == key)) is None:
        await jobs.schedule(s, SETTLE_HANDLER, {"period": period}, due_at=rules.period_end(period, tz), key=key)


async def _mature_order(s: AsyncSession, do: DistributionOrder, now: datetime) -> dict[int, int]:
    moved: dict[int, int] = {}
    for acc in await _accruals(s, order_id=do.order_id):
        frozen = await _sum(
            s,
            Commission.order_line_id == acc.order_line_id,
            Commission.level == acc.level,
            Commission.bucket == "frozen",
        )
        if frozen <= 0:
            continue
        base = {
            "distributor_customer_id": acc.distributor_customer_id,
            "order_id": do.order_id,
            "order_line_id": acc.order_line_id,
            "withdrawal_id": None,
            "level": acc.level,
            "base_fen": acc.base_fen,
            "rate_bp": acc.rate_bp,
            "ref_key": "",
            "created_at": now,
        }
        if await _insert_ignore(
            s, Commission, {**base, "kind": "mature_out", "bucket": "frozen", "amount_fen": -frozen}
        ):
            await _insert_ignore(
                s, Commission, {**base, "kind": "mature_in", "bucket": "available", "amount_fen": frozen}
            )
            moved[acc.distributor_customer_id] = moved.get(acc.distributor_customer_id, 0) + frozen
    return moved


async def settle(s: AsyncSession, *, period: str) -> Settlement | None:
    """Settle a period once: move every matured commission to available, write a statement per distributor.
    A second run of the same period does nothing and returns None."""
    now = clock.now()
    if not await _insert_ignore(
        s, Settlement, {"period": period, "orders_matured": 0, "matured_fen": 0, "ran_at": now}
    ):
        return None
    settlement = await s.scalar(select(Settlement).where(Settlement.period == period))
    assert settlement is not None
    due = (
        await s.scalars(
            select(DistributionOrder)
            .where(DistributionOrder.status == "frozen", DistributionOrder.matures_at <= now)
            .order_by(DistributionOrder.id)
        )
    ).all()
    moved: dict[int, int] = {}
    count = 0
    for do in due:
        res = await s.execute(
            update(DistributionOrder)
            .where(DistributionOrder.id == do.id, DistributionOrder.status == "frozen")
            .values(status="matured")
            .execution_options(synchronize_session=False)
        )
        if not res.rowcount:  # type: ignore[attr-defined]
            continue
        count += 1
        for owner, fen in (await _mature_order(s, do, now)).items():
            moved[owner] = moved.get(owner, 0) + fen
    tz = _tz()
    end = rules.period_end(period, tz)
    start = datetime(end.year - (end.month == 1), 12 if end.month == 1 else end.month - 1, 1, tzinfo=tz)
    in_period = (Commission.created_at >= start, Commission.created_at < end)
    active = set(moved)
    active |= set(
        (
            await s.scalars(
                select(Commission.distributor_customer_id)
                .where(Commission.kind.in_(EARNING_KINDS), *in_period)
                .distinct()
            )
        ).all()
    )
    for owner in sorted(active):
        mine = Commission.distributor_customer_id == owner
        await _insert_ignore(
            s,
            Statement,
            {
                "settlement_id": settlement.id,
                "distributor_customer_id": owner,
                "period": period,
                "accrued_fen": await _sum(s, mine, Commission.kind == "accrue", *in_period),
                "matured_fen": moved.get(owner, 0),
                "reversed_fen": -await _sum(s, mine, Commission.kind.in_(("reverse", "void")), *in_period),
                "available_fen": await _sum(s, mine, Commission.bucket == "available"),
                "created_at": now,
            },
        )
    settlement.orders_matured, settlement.matured_fen = count, sum(moved.values())
    nxt = rules.next_period(period)
    await jobs.schedule(
        s, SETTLE_HANDLER, {"period": nxt}, due_at=rules.period_end(nxt, tz), key=f"distribution-settle:{nxt}"
    )
    return settlement


@jobs.handler(SETTLE_HANDLER)
async def _settle_job(s: AsyncSession, job: jobs.Job) -> None:
    await settle(s, period=str(job.payload["period"]))


# ---- balances and the distributor centre ---------------------------------------------------------


async def balances(s: AsyncSession, customer_id: int) -> dict[str, int]:
    rows = await s.execute(
        select(Commission.bucket, func.sum(Commission.amount_fen))
        .where(Commission.distributor_customer_id == customer_id)
        .group_by(Commission.bucket)
    )
    out = {"frozen": 0, "available": 0, "withdrawing": 0, "withdrawn": 0}
    out.update({b: int(v or 0) for b, v in rows.all()})
    return out


async def team_sizes(s: AsyncSession, customer_id: int) -> tuple[int, int]:
    l1 = await s.scalar(select(func.count()).select_from(Binding).where(Binding.distributor_customer_id == customer_id))
    b1 = aliased(Binding)
    l2 = await s.scalar(
        select(func.count())
        .select_from(Binding)
        .join(b1, b1.customer_id == Binding.distributor_customer_id)
        .where(b1.distributor_customer_id == customer_id)
    )
    return int(l1 or 0), int(l2 or 0)


async def me(s: AsyncSession, *, customer_id: int) -> dict[str, Any]:
    """The distributor centre's figures."""
    d = await _everyone(s, customer_id)
    cfg = await get_config(s)
    bal = await balances(s, customer_id)
    l1, l2 = await team_sizes(s, customer_id)
    tz = _tz()
    local = clock.now().astimezone(tz)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = today.replace(day=1)
    mine = (Commission.distributor_customer_id == customer_id, Commission.kind.in_(EARNING_KINDS))
    rows = (
        await s.scalars(
            select(DistributionOrder)
            .where(
                (DistributionOrder.level1_customer_id == customer_id)
                | (DistributionOrder.level2_customer_id == customer_id)
            )
            .order_by(DistributionOrder.id.desc())
            .limit(20)
        )
    ).all()
    brought = []
    for do in rows:
        mine_fen = await _sum(s, Commission.order_id == do.order_id, *mine)
        status = {"frozen": "pending", "matured": "settled", "void": "void"}[do.status]
        if mine_fen <= 0 and do.status != "void":
            status = "refunded"
        brought.append(
            {
                "order_id": do.order_id,
                "level": 1 if do.level1_customer_id == customer_id else 2,
                "goods_fen": do.goods_fen,
                "commission_fen": mine_fen,
                "status": status,
                "bind_origin": do.bind_origin,
                "paid_at": do.paid_at,
            }
        )
    visits = await s.scalar(
        select(func.count()).select_from(ShareVisit).where(ShareVisit.distributor_customer_id == customer_id)
    )
    return {
        "status": d.status if d else None,
        "share_code": d.share_code if d and d.status == "approved" else None,
        "level1_count": l1,
        "level2_count": l2,
        "pending_fen": bal["frozen"],
        "available_fen": bal["available"],
        "withdrawing_fen": bal["withdrawing"],
        "withdrawn_fen": bal["withdrawn"],
        "today_fen": await _sum(s, *mine, Commission.created_at >= today),
        "month_fen": await _sum(s, *mine, Commission.created_at >= month),
        "total_fen": await _sum(s, *mine),
        "visits": int(visits or 0),
        "min_withdraw_fen": cfg.min_withdraw_fen,
        "withdraw_fee_bp": cfg.withdraw_fee_bp,
        "orders": brought,
    }


async def ledger(
    s: AsyncSession, *, customer_id: int, before_id: int | None, limit: int
) -> tuple[list[Commission], str | None]:
    q = select(Commission).where(Commission.distributor_customer_id == customer_id).order_by(Commission.id.desc())
    if before_id:
        q = q.where(Commission.id < before_id)
    rows = list((await s.scalars(q.limit(limit + 1))).all())
    return rows[:limit], (str(rows[limit - 1].id) if len(rows) > limit else None)


# ---- share tools ---------------------------------------------------------------------------------


def share_folder(settings: Settings) -> Any:
    return settings.var_dir / "distribution" / "share"


async def share(
    s: AsyncSession, *, customer_id: int, product_id: int | None, settings: Settings, base_url: str | None = None
) -> dict[str, str | None]:
    """The distributor's share link, QR code and poster for a product (rendered once, then cached)."""
    d = await _everyone(s, customer_id)
    if d is None or d.status != "approved":
        raise Forbidden(DistributionError.NOT_DISTRIBUTOR)
    title, price, image = "裂变商城 · 好物推荐", None, None
    if product_id is not None:
        p = await catalog.get_product(s, product_id=product_id)
        title = p.title
        prices = [k.price_fen for k in p.skus if k.is_active]
        price = min(prices) if prices else None
        image = first_media_file(settings.media_dir, p.images)
    who = await accounts.get_customer(s, customer_id)
    base = (base_url or settings.base_url).rstrip("/")
    url = f"{base}/shop/?ref={d.share_code}" + (f"#/p/{product_id}" if product_id else "")
    scene = f"r={d.share_code}" + (f"&p={product_id}" if product_id else "")
    code_name, code_png = await _mini_program_code(settings, scene)
    spec = poster.PosterSpec(
        share_url=url,
        title=title,
        price_fen=price,
        image_path=image,
        inviter=who.nickname if who else "好友",
        code_png=code_png,
    )
    qr_name, poster_name = await asyncio.to_thread(poster.ensure_files, spec, share_folder(settings))
    return {
        "scene": scene,
        "share_url": url,
        "qrcode_png_url": f"/api/v1/distribution/media/{qr_name}",
        "poster_png_url": f"/api/v1/distribution/media/{poster_name}",
        "wxacode_png_url": f"/api/v1/distribution/media/{code_name}" if code_name else None,
    }


async def _mini_program_code(settings: Settings, scene: str) -> tuple[str | None, bytes | None]:
    """The mini-program code (小程序码) for a share scene, fetched once from WeChat and kept; (None, None)
    when WeChat is not configured or will not make one (the poster then carries a QR of the H5 link)."""
    if not settings.wechat_login_configured:
        return None, None
    from fissionmall.wechat.miniprogram import client_for

    # A trial or develop build's code opens another build: it is kept apart from the release one's.
    env = "" if settings.wechat_env_version == "release" else f"|{settings.wechat_env_version}"
    key = hashlib.sha256(f"{settings.wechat_app_id}|{settings.wechat_share_page}|{scene}{env}".encode()).hexdigest()
    name = f"{key[:24]}-wxa.png"
    path = share_folder(settings) / name
    if path.is_file():
        return name, await asyncio.to_thread(path.read_bytes)
    try:
        png = await client_for(settings).wxacode_unlimited(
            scene=scene, page=settings.wechat_share_page, env_version=settings.wechat_env_version
        )
    except (AppError, httpx.HTTPError) as exc:
        log.warning("no mini-program code for scene %r (%s); the poster carries a QR code instead", scene, exc)
        return None, None
    await asyncio.to_thread(poster.save_png, png, path)
    return name, png


# ---- withdrawals ---------------------------------------------------------------------------------


def _entry(owner: int, withdrawal_id: int, kind: str, bucket: str, amount: int) -> dict[str, Any]:
    return {
        "distributor_customer_id": owner,
        "order_id": None,
        "order_line_id": None,
        "withdrawal_id": withdrawal_id,
        "level": 0,
        "kind": kind,
        "bucket": bucket,
        "amount_fen": amount,
        "base_fen": 0,
        "rate_bp": None,
        "ref_key": "",
        "created_at": clock.now(),
    }


# WeChat requires the payee's real name on a transfer of 2,000 元 or more (商家转账 user_name).
REAL_NAME_FROM_FEN = 200_000
_REAL_NAME = "withdrawal-real-name"


def real_name_fingerprint(real_name: str | None) -> str | None:
    """A keyed hash of the name, for the idempotency fingerprint (which is stored)."""
    if not real_name:
        return None
    key = vault.derive(get_settings().secret_key, "withdrawal-real-name-fingerprint")
    return hmac.new(key, real_name.encode(), hashlib.sha256).hexdigest()


def _open_real_name(w: Withdrawal) -> str | None:
    if not w.real_name_enc:
        return None
    try:
        return vault.unseal(get_settings().secret_key, _REAL_NAME, w.real_name_enc, bound_to=str(w.id))
    except vault.VaultError:
        log.warning("withdrawal %s: the sealed real name does not open (SECRET_KEY changed?)", w.id)
        return None


async def request_withdrawal(
    s: AsyncSession, *, customer_id: int, amount_fen: int, real_name: str | None = None
) -> Withdrawal:
    """Ask to withdraw from available: minimum and balance checked under the distributor's row lock.
    `real_name` is required when the transfer (net of the fee) is 2,000 元 or more; it is kept sealed."""
    cfg = await get_config(s)
    d = await get_distributor(s, customer_id)
    if d is None or d.status != "approved":
        raise Forbidden(DistributionError.NOT_DISTRIBUTOR)
    if amount_fen < cfg.min_withdraw_fen:
        raise AppError(DistributionError.WITHDRAW_BELOW_MINIMUM, f"最低提现金额为 {yuan(cfg.min_withdraw_fen)} 元")
    if amount_fen - rules.withdraw_fee(amount_fen, cfg.withdraw_fee_bp) >= REAL_NAME_FROM_FEN and not real_name:
        raise AppError(PaymentsError.REAL_NAME_REQUIRED, "提现 2000 元及以上需要填写收款人真实姓名（real_name）")
    # The UPDATE takes the distributor row's write lock: concurrent withdrawals of one distributor queue
    # here, so the balance read below cannot be spent twice (SQLite: the database write lock does the same).
    await s.execute(
        update(Distributor)
        .where(Distributor.id == d.id)
        .values(withdraw_seq=Distributor.withdraw_seq + 1)
        .execution_options(synchronize_session=False)
    )
    available = await _sum(s, Commission.distributor_customer_id == customer_id, Commission.bucket == "available")
    if amount_fen > available:
        raise Conflict(DistributionError.WITHDRAW_EXCEEDS_AVAILABLE, available_fen=available)
    fee = rules.withdraw_fee(amount_fen, cfg.withdraw_fee_bp)
    w = Withdrawal(
        distributor_customer_id=customer_id,
        amount_fen=amount_fen,
        fee_fen=fee,
        net_fen=amount_fen - fee,
        status="pending",
        created_at=clock.now(),
    )
    s.add(w)
    await s.flush()
    if real_name and w.net_fen >= REAL_NAME_FROM_FEN:
        # Below 2,000 元 WeChat does not ask for it, so it is not kept at all.
        w.real_name_enc = vault.seal(get_settings().secret_key, _REAL_NAME, real_name, bound_to=str(w.id))
    s.add(Commission(**_entry(customer_id, w.id, "withdraw_hold", "available", -amount_fen)))
    s.add(Commission(**_entry(customer_id, w.id, "withdraw_hold", "withdrawing", amount_fen)))
    await s.flush()
    return w


async def _withdrawal_cas(s: AsyncSession, withdrawal_id: int, target: str, **values: Any) -> bool:
    res = await s.execute(
        update(Withdrawal)
        .where(
            Withdrawal.id == withdrawal_id,
            Withdrawal.status.in_(rules.sources_of(rules.WITHDRAWAL_TRANSITIONS, target)),
        )
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1  # type: ignore[attr-defined]


async def get_withdrawal(s: AsyncSession, withdrawal_id: int) -> Withdrawal:
    w = await s.scalar(
        select(Withdrawal).where(Withdrawal.id == withdrawal_id).execution_options(populate_existing=True)
    )
    if w is None:
        raise NotFound(DistributionError.WITHDRAWAL_NOT_FOUND)
    return w


async def approve_withdrawal(s: AsyncSession, *, withdrawal_id: int, admin_id: int) -> Withdrawal:
    """An operator approves: the payout job transfers the money once."""
    w = await get_withdrawal(s, withdrawal_id)
    if not await _withdrawal_cas(s, w.id, "paying", decided_at=clock.now(), decided_by=admin_id):
        raise Conflict(DistributionError.WITHDRAWAL_STATE_INVALID)
    await jobs.schedule(
        s, PAYOUT_HANDLER, {"withdrawal_id": w.id}, due_at=clock.now(), key=f"distribution-payout:{w.id}"
    )
    return await get_withdrawal(s, w.id)


async def _give_back(s: AsyncSession, w: Withdrawal, kind: str) -> None:
    await _insert_ignore(s, Commission, _entry(w.distributor_customer_id, w.id, kind, "withdrawing", -w.amount_fen))
    await _insert_ignore(s, Commission, _entry(w.distributor_customer_id, w.id, kind, "available", w.amount_fen))


async def reject_withdrawal(s: AsyncSession, *, withdrawal_id: int, admin_id: int, reason: str) -> Withdrawal:
    w = await get_withdrawal(s, withdrawal_id)
    if not await _withdrawal_cas(
        s, w.id, "rejected", decided_at=clock.now(), decided_by=admin_id, failure=reason[:200], real_name_enc=None
    ):
        raise Conflict(DistributionError.WITHDRAWAL_STATE_INVALID)
    await _give_back(s, w, "withdraw_return")
    return await get_withdrawal(s, w.id)


async def payout(s: AsyncSession, *, withdrawal_id: int) -> Withdrawal:
    """Transfer an approved withdrawal's net amount, once; a failed transfer returns the money to available."""
    w = await get_withdrawal(s, withdrawal_id)
    if w.status != "paying":
        return w
    named = {"user_name": name} if (name := _open_real_name(w)) else {}  # older Transfer ports take no name
    result = await get_transfer().transfer(
        reference=f"wd{w.id}",
        customer_id=w.distributor_customer_id,
        amount_fen=w.net_fen,
        description="分销佣金提现",
        **named,
    )
    now = clock.now()
    if result.success:
        # The name was only for the transfer: it goes with the state change.
        if await _withdrawal_cas(s, w.id, "paid", paid_at=now, transfer_id=result.transfer_id, real_name_enc=None):
            await _insert_ignore(
                s, Commission, _entry(w.distributor_customer_id, w.id, "withdraw_paid", "withdrawing", -w.amount_fen)
            )
            await _insert_ignore(
                s, Commission, _entry(w.distributor_customer_id, w.id, "withdraw_paid", "withdrawn", w.amount_fen)
            )
    elif await _withdrawal_cas(
        s, w.id, "failed", failure=(result.message or "transfer failed")[:200], real_name_enc=None
    ):
        await _give_back(s, w, "withdraw_return")
    return await get_withdrawal(s, w.id)


@jobs.handler(PAYOUT_HANDLER)
async def _payout_job(s: AsyncSession, job: jobs.Job) -> None:
    await payout(s, withdrawal_id=int(job.payload["withdrawal_id"]))


async def list_withdrawals(
    s: AsyncSession,
    *,
    customer_id: int | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[Withdrawal], str | None]:
    q = select(Withdrawal).order_by(Withdrawal.id.desc())
    if customer_id is not None:
        q = q.where(Withdrawal.distributor_customer_id == customer_id)
    if status:
        q = q.where(Withdrawal.status == status)
    if before_id:
        q = q.where(Withdrawal.id < before_id)
    rows = list((await s.scalars(q.limit(limit + 1))).all())
    return rows[:limit], (str(rows[limit - 1].id) if len(rows) > limit else None)


# ---- console -------------------------------------------------------------------------------------


async def _nickname(s: AsyncSession, customer_id: int) -> str:
    c = await accounts.get_customer(s, customer_id)
    return c.nickname if c else f"#{customer_id}"


async def list_distributors(
    s: AsyncSession, *, status: str | None = None, before_id: int | None = None, limit: int = 20
) -> tuple[list[dict[str, Any]], str | None]:
    q = select(Distributor).order_by(Distributor.id.desc())
    if status:
        q = q.where(Distributor.status == status)
    if before_id:
        q = q.where(Distributor.id < before_id)
    rows = list((await s.scalars(q.limit(limit + 1))).all())
    out = [await distributor_summary(s, d) for d in rows[:limit]]
    return out, (str(rows[limit - 1].id) if len(rows) > limit else None)


async def distributor_summary(s: AsyncSession, d: Distributor) -> dict[str, Any]:
    l1, _ = await team_sizes(s, d.customer_id)
    gmv = await s.scalar(
        select(func.coalesce(func.sum(DistributionOrder.goods_fen), 0)).where(
            DistributionOrder.level1_customer_id == d.customer_id
        )
    )
    return {
        "id": d.id,
        "customer_id": d.customer_id,
        "nickname": await _nickname(s, d.customer_id),
        "status": d.status,
        "share_code": d.share_code,
        "created_at": d.created_at,
        "level1_count": l1,
        "gmv_fen": int(gmv or 0),
        "commission_fen": await _sum(
            s, Commission.distributor_customer_id == d.customer_id, Commission.kind.in_(EARNING_KINDS)
        ),
        "available_fen": await _sum(
            s, Commission.distributor_customer_id == d.customer_id, Commission.bucket == "available"
        ),
    }


async def ranking(s: AsyncSession, *, by: str, limit: int = 20) -> list[dict[str, Any]]:
    """Top distributors by the goods amount they brought (level 1) or by net commission earned."""
    earned = (
        select(Commission.distributor_customer_id.label("cid"), func.sum(Commission.amount_fen).label("fen"))
        .where(Commission.kind.in_(EARNING_KINDS))
        .group_by(Commission.distributor_customer_id)
        .subquery()
    )
    brought = (
        select(
            DistributionOrder.level1_customer_id.label("cid"),
            func.count().label("n"),
            func.sum(DistributionOrder.goods_fen).label("gmv"),
        )
        .group_by(DistributionOrder.level1_customer_id)
        .subquery()
    )
    q = (
        select(Distributor.customer_id, brought.c.n, brought.c.gmv, earned.c.fen)
        .outerjoin(brought, brought.c.cid == Distributor.customer_id)
        .outerjoin(earned, earned.c.cid == Distributor.customer_id)
        .where(and_(Distributor.status == "approved"))
    )
    order = func.coalesce(brought.c.gmv, 0) if by == "gmv" else func.coalesce(earned.c.fen, 0)
    rows = (await s.execute(q.order_by(order.desc(), Distributor.customer_id).limit(limit))).all()
    return [
        {
            "customer_id": cid,
            "nickname": await _nickname(s, cid),
            "orders": int(n or 0),
            "gmv_fen": int(gmv or 0),
            "commission_fen": int(fen or 0),
        }
        for cid, n, gmv, fen in rows
    ]


async def statements_of(s: AsyncSession, customer_id: int) -> list[Statement]:
    q = select(Statement).where(Statement.distributor_customer_id == customer_id).order_by(Statement.period.desc())
    return list((await s.scalars(q.limit(24))).all())
