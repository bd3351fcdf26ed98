"""Binding a shopper to a distributor (share link, registration, login) with its cycle check, and share visits.

A shopper has at most one binding; the shop's bind mode (rules.bind_decision) says whether a new link
binds, rebinds or keeps. A binding may expire; an expired one pays nobody.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.core.db import get_db, is_postgres
from fissionmall.core.errors import AppError, Conflict
from fissionmall.distribution import rules
from fissionmall.distribution.config import get_config
from fissionmall.distribution.distributors import by_code
from fissionmall.distribution.errors import DistributionError
from fissionmall.distribution.ledger import insert_ignore
from fissionmall.distribution.models import Binding, Distributor, ShareVisit
from fissionmall.risk import ask
from fissionmall.risk.decisions import Action, Subject

log = logging.getLogger("fissionmall.distribution")

BINDING_LOCK_KEY = 0x0D15_B14D  # pg_advisory_xact_lock key taken by every binding (any fixed bigint)


async def get_binding(s: AsyncSession, *, customer_id: int) -> Binding | None:
    """The shopper's binding, expired or not (None: never bound)."""
    return await s.scalar(select(Binding).where(Binding.customer_id == customer_id))


async def upline(s: AsyncSession, *, customer_id: int, now: datetime) -> int | None:
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


@dataclass(frozen=True)
class BindResult:
    status: str  # bound | rebound | kept
    distributor_customer_id: int | None  # who the shopper is bound to now (None: nobody)


async def bind(s: AsyncSession, *, customer_id: int, ref: str, origin: rules.BindOrigin) -> BindResult:
    """Bind a shopper to the distributor behind `ref`, by the configured mode, recording where it came from."""
    cfg = await get_config(s)
    if not cfg.enabled:
        raise AppError(DistributionError.DISTRIBUTION_DISABLED)
    target = await by_code(s, ref=ref)
    if target.customer_id == customer_id:
        raise AppError(DistributionError.REF_SELF)
    now = clock.now()
    if is_postgres(s):
        # The cycle check reads the other side's binding: two shoppers binding to each other at once would
        # each read "not bound" and both write. One lock for every binding makes the check and the write
        # one step (held to commit); SQLite's single writer serialises them already.
        await s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BINDING_LOCK_KEY})
    if await upline(s, customer_id=target.customer_id, now=now) == customer_id:
        raise Conflict(DistributionError.BIND_CYCLE)
    current = await get_binding(s, customer_id=customer_id)
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
        if await insert_ignore(s, Binding, {"customer_id": customer_id, "times_rebound": 0, **values}):
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
    current = await get_binding(s, customer_id=customer_id)
    return BindResult("kept", current.distributor_customer_id if current else None)


async def _bind_from_job(s: AsyncSession, job: jobs.Job, origin: rules.BindOrigin, when: str) -> None:
    ref = job.payload.get("ref")
    if not ref:
        return
    customer_id = int(job.payload["customer_id"])
    try:
        async with s.begin_nested():
            target = await by_code(s, ref=ref)
            subject = Subject(
                customer_id=customer_id,
                device_id=job.payload.get("device_id"),
                ip=job.payload.get("ip"),
                distributor_id=target.customer_id,
            )
            facts = {"distributor_customer_id": target.customer_id, "origin": origin}
            verdict = await ask.judge(get_db(), action=Action.DISTRIBUTOR_BIND, subject=subject, facts=facts)
            if not verdict.allowed:
                log.info("%s ref %r not bound: refused by the risk layer", when, ref)
                return
            await bind(s, customer_id=customer_id, ref=ref, origin=origin)
    except AppError as exc:  # a stale or forged code at login binds nobody; it must not kill the job
        log.info("%s ref %r not bound: %s", when, ref, exc.code)


@jobs.on("CustomerLoggedIn", "distribution.bind_on_login")
async def _on_login(s: AsyncSession, job: jobs.Job) -> None:
    """An existing shopper who logs in through a share link: bound as by a share link (mode permitting)."""
    await _bind_from_job(s, job, "share_link", "login")


@jobs.on("CustomerRegistered", "distribution.bind_on_registration")
async def _on_registered(s: AsyncSession, job: jobs.Job) -> None:
    """A new shopper who registered through a share link: bound with origin `registration`."""
    await _bind_from_job(s, job, "registration", "registration")


async def record_visit(
    s: AsyncSession, *, ref: str, product_id: int | None, visitor_id: int | None, ip: str | None
) -> None:
    """A share page was opened: counted for the distributor's dashboard."""
    d = await by_code(s, ref=ref)
    s.add(
        ShareVisit(
            distributor_customer_id=d.customer_id,
            product_id=product_id,
            visitor_customer_id=visitor_id,
            ip=ip,
            created_at=clock.now(),
        )
    )
