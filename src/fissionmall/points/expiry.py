"""The yearly expiry: what is left of the credits that expired by a deadline leaves the balance, once.

Points earned in a year expire at the end of the next year (the rules' `next_year_end`; each credit carries
its `expires_at`). The job, keyed per deadline, writes one `expire` entry per shopper and deadline with ref
= the deadline, so a second run in the same period (or a retried job) writes nothing. Spending takes the
soonest-expiring points first: what expires is max(0, credits expiring by then − every debit so far).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.points import ledger
from fissionmall.points.models import PointsEntry
from fissionmall.points.schemas import RulesUpdate
from fissionmall.points.service import expirable, expires_for, get_rules, shop_tz

HANDLER = "points.expire"


def _ref(deadline: datetime) -> str:
    return deadline.strftime("%Y-%m-%dT%H:%M:%SZ")


async def deadline_for(s: AsyncSession, *, r: RulesUpdate, at: datetime) -> datetime | None:
    """When points credited now expire (None: never), with that deadline's job queued (looked up first, so
    concurrent credits do not queue behind one key's insert)."""
    deadline = expires_for(r, at=at)
    if deadline is not None:
        key = f"points-expire:{_ref(deadline)}"
        if await s.scalar(select(jobs.Job.id).where(jobs.Job.key == key)) is None:
            await jobs.schedule(s, HANDLER, {}, due_at=deadline, key=key)
    return deadline


async def ensure_scheduled(s: AsyncSession) -> None:
    """Queue the expiry job at the next deadline any credit carries (keyed, so once per deadline)."""
    nxt = await s.scalar(
        select(PointsEntry.expires_at)
        .where(PointsEntry.points > 0, PointsEntry.expires_at > clock.now())
        .order_by(PointsEntry.expires_at)
        .limit(1)
    )
    if nxt is not None:
        await jobs.schedule(s, HANDLER, {}, due_at=nxt, key=f"points-expire:{_ref(nxt)}")


async def run_expiry(s: AsyncSession, *, at: datetime | None = None) -> int:
    """Expire what is left of credits past their deadline, once per (shopper, deadline); the points expired."""
    at = at or clock.now()
    due = (
        await s.execute(
            select(PointsEntry.customer_id, PointsEntry.expires_at)
            .where(PointsEntry.points > 0, PointsEntry.expires_at <= at)
            .group_by(PointsEntry.customer_id, PointsEntry.expires_at)
            .order_by(PointsEntry.expires_at, PointsEntry.customer_id)
        )
    ).all()
    total = 0
    for customer_id, deadline in due:
        assert deadline is not None  # the query keeps credits with a deadline only
        n = await expirable(s, customer_id=customer_id, deadline=deadline)
        if n <= 0:
            continue  # spent, or expired by an earlier run (its entry is one of the debits)
        earned_in = deadline.astimezone(shop_tz()).year - 2
        posted = await ledger.take_back(
            s,
            customer_id=customer_id,
            points=n,
            kind="expire",
            ref=_ref(deadline),
            note=f"{earned_in} 年获得的积分到期",
            allow_debt=False,
        )
        total -= posted.points
    await ensure_scheduled(s)
    return total


@jobs.handler(HANDLER)
async def _expire_job(s: AsyncSession, job: jobs.Job) -> None:
    r = await get_rules(s)
    if r.expiry != "never":
        await run_expiry(s)
