"""Growth value (成长值): the ledger, the level it reaches, and the jobs that keep levels right.

- A paid order adds each line's paid goods (OrderPaid, once per line by the entry's unique key); a
  refund takes back exactly the goods it returned, never more than the line added (OrderLineRefunded).
  Entries are never edited: the growth is their sum within the rolling window.
- Every entry is written under the shopper's profile lock, and the level is set from the sum read
  after it, so concurrent grants add up and the last one sets the level that counts them all.
- The level moves up on payment at once and down when a refund or the daily job (old growth leaving
  the window) finds the sum below its threshold; a change that crosses no threshold keeps it.
- The daily job (keyed by the shop's date) also sends birthday gifts, once a year per shopper.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import extract, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.core.db import Database, is_postgres
from fissionmall.core.errors import AppError
from fissionmall.coupons import service as coupons
from fissionmall.membership import config, levels, rules
from fissionmall.membership.models import GrowthEntry, MemberLevel, MemberProfile
from fissionmall.membership.rules import LevelSpec
from fissionmall.orders.events import OrderLineRefunded, OrderPaid

log = logging.getLogger("fissionmall.membership")

DAILY = "membership.daily"
BATCH = 200


async def _insert_ignore(s: AsyncSession, model: Any, values: dict[str, Any]) -> bool:
    ins = pg_insert(model) if is_postgres(s) else sqlite_insert(model)
    res = await s.execute(ins.values(**values).on_conflict_do_nothing())
    return bool(res.rowcount)  # type: ignore[attr-defined]


async def locked_profile(s: AsyncSession, *, customer_id: int) -> MemberProfile:
    """The shopper's profile, created if missing, locked until the transaction ends (PostgreSQL)."""
    now = clock.now()
    await _insert_ignore(s, MemberProfile, {"customer_id": customer_id, "total_fen": 0, "updated_at": now})
    q = select(MemberProfile).where(MemberProfile.customer_id == customer_id).execution_options(populate_existing=True)
    if is_postgres(s):
        q = q.with_for_update()
    row = (await s.scalars(q)).one()
    return row


async def window_growth(s: AsyncSession, *, customer_id: int, at: datetime, months: int) -> int:
    """The growth a shopper earned in the window of `months` before `at` (refunds counted at their order's time)."""
    since = rules.months_before(at, months)
    q = select(func.coalesce(func.sum(GrowthEntry.amount_fen), 0)).where(
        GrowthEntry.customer_id == customer_id, GrowthEntry.earned_at > since, GrowthEntry.earned_at <= at
    )
    return max(0, int(await s.scalar(q) or 0))


async def settle(
    s: AsyncSession, *, profile: MemberProfile, ladder: list[LevelSpec], months: int, at: datetime
) -> bool:
    """Set a locked profile's level to the one its window's growth reaches. True when it changed."""
    growth = await window_growth(s, customer_id=profile.customer_id, at=at, months=months)
    target = rules.level_for(ladder, growth)
    base = levels.base_of(ladder)
    target_id = None if target.id == base.id else target.id
    current = profile.level_id if profile.level_id != base.id else None
    if current == target_id:
        return False
    profile.level_id = target_id
    profile.level_changed_at = at
    profile.updated_at = at
    await s.flush()
    return True


async def _ladder(s: AsyncSession) -> list[LevelSpec]:
    return [levels.spec_of(r) for r in await levels.ensure_levels(s)]


async def grant_order(
    s: AsyncSession, *, order_id: int, customer_id: int, lines: list[tuple[int, int]], at: datetime
) -> int:
    """Add an order's paid goods, line by line (once: a redelivery writes nothing), and move the level up.
    Returns the growth written."""
    lines = [(lid, fen) for lid, fen in lines if fen > 0]
    if not lines:
        return 0
    profile = await locked_profile(s, customer_id=customer_id)
    written = 0
    for line_id, fen in lines:
        ok = await _insert_ignore(
            s,
            GrowthEntry,
            {
                "customer_id": customer_id,
                "kind": "order",
                "key": f"order:{order_id}:{line_id}",
                "order_id": order_id,
                "line_id": line_id,
                "refund_id": None,
                "amount_fen": fen,
                "earned_at": at,
                "created_at": clock.now(),
            },
        )
        written += fen if ok else 0
    if written:
        await _add_total(s, customer_id, written)
        cfg = await config.get_config(s)
        await settle(s, profile=profile, ladder=await _ladder(s), months=cfg.rules.window_months, at=clock.now())
    await ensure_daily(s)
    return written


async def _add_total(s: AsyncSession, customer_id: int, fen: int) -> None:
    await s.execute(
        update(MemberProfile)
        .where(MemberProfile.customer_id == customer_id)
        .values(total_fen=MemberProfile.total_fen + fen, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )


async def take_back(
    s: AsyncSession, *, refund_id: int, order_id: int, line_id: int, customer_id: int, amount_fen: int
) -> int:
    """A line refund takes back the goods it returned (never more than the line added; the order's
    shipping carried by a last refund is no growth). Returns the growth taken."""
    profile = await locked_profile(s, customer_id=customer_id)
    added = (await s.scalars(select(GrowthEntry).where(GrowthEntry.key == f"order:{order_id}:{line_id}"))).one_or_none()
    if added is None:
        return 0
    taken_before = -int(
        await s.scalar(
            select(func.coalesce(func.sum(GrowthEntry.amount_fen), 0)).where(
                GrowthEntry.kind == "refund", GrowthEntry.order_id == order_id, GrowthEntry.line_id == line_id
            )
        )
        or 0
    )
    take = min(amount_fen, added.amount_fen - taken_before)
    if take <= 0:
        return 0
    ok = await _insert_ignore(
        s,
        GrowthEntry,
        {
            "customer_id": customer_id,
            "kind": "refund",
            "key": f"refund:{refund_id}:{line_id}",
            "order_id": order_id,
            "line_id": line_id,
            "refund_id": refund_id,
            "amount_fen": -take,
            "earned_at": added.earned_at,
            "created_at": clock.now(),
        },
    )
    if not ok:
        return 0
    await _add_total(s, customer_id, -take)
    cfg = await config.get_config(s)
    await settle(s, profile=profile, ladder=await _ladder(s), months=cfg.rules.window_months, at=clock.now())
    return take


@jobs.on("OrderPaid", "membership.grow")
async def _on_paid(s: AsyncSession, job: jobs.Job) -> None:
    ev = OrderPaid.parse(job.payload)
    await grant_order(
        s,
        order_id=ev.order_id,
        customer_id=ev.customer_id,
        lines=[(ln.line_id, ln.goods_payable_fen) for ln in ev.lines],
        at=job.created_at,  # when the payment was confirmed (the event's job was queued with it)
    )


@jobs.on("OrderLineRefunded", "membership.shrink")
async def _on_line_refunded(s: AsyncSession, job: jobs.Job) -> None:
    ev = OrderLineRefunded.parse(job.payload)
    await take_back(
        s,
        refund_id=ev.refund_id,
        order_id=ev.order_id,
        line_id=ev.line_id,
        customer_id=ev.customer_id,
        amount_fen=ev.amount_fen,
    )


async def recompute_all(s: AsyncSession, *, at: datetime) -> int:
    """Every profile's level from its window's growth (idempotent). Returns how many levels moved."""
    ladder = await _ladder(s)
    months = (await config.get_config(s)).rules.window_months
    moved, after = 0, 0
    while True:
        ids = list(
            (
                await s.scalars(
                    select(MemberProfile.customer_id)
                    .where(MemberProfile.customer_id > after)
                    .order_by(MemberProfile.customer_id)
                    .limit(BATCH)
                )
            ).all()
        )
        if not ids:
            return moved
        for cid in ids:
            profile = await locked_profile(s, customer_id=cid)
            moved += await settle(s, profile=profile, ladder=ladder, months=months, at=at)
        after = ids[-1]


@jobs.handler(levels.RECOMPUTE)
async def _recompute(s: AsyncSession, job: jobs.Job) -> None:
    await recompute_all(s, at=clock.now())


async def birthday_gifts(s: AsyncSession, *, day: date) -> int:
    """Grant each level's birthday coupon to the shoppers born on `day` (once a year each). Returns how many."""
    by_id = {r.id: r for r in await levels.ensure_levels(s)}
    base = min(by_id.values(), key=lambda r: r.rank)
    months = [day.month] + ([2] if day.month == 2 else [])
    q = select(MemberProfile).where(
        MemberProfile.birthday.is_not(None), extract("month", MemberProfile.birthday).in_(months)
    )
    granted = 0
    for p in (await s.scalars(q)).all():
        if p.birthday is None or not rules.birthday_on(p.birthday, day):
            continue
        lv: MemberLevel = by_id.get(p.level_id or base.id, base)
        if lv.birthday_template_id is None:
            continue
        try:
            async with s.begin_nested():
                await coupons.grant(
                    s,
                    template_id=lv.birthday_template_id,
                    customer_id=p.customer_id,
                    source="birthday",
                    grant_key=f"membership-birthday:{p.customer_id}:{day.year}",
                )
            granted += 1
        except AppError as exc:  # granted already this year, sold out, template stopped: nothing to send
            log.info("birthday gift for %s not granted: %s", p.customer_id, exc.code)
    return granted


def _midnight_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0, 5), tzinfo=config.shop_tz())


async def ensure_daily(s: AsyncSession, *, day: date | None = None) -> None:
    """Queue the daily job of a shop date (today by default) once; it runs just after that date begins."""
    day = day or clock.now().astimezone(config.shop_tz()).date()
    key = f"membership-daily:{day.isoformat()}"
    if await s.scalar(select(jobs.Job.id).where(jobs.Job.key == key)) is None:
        due = _midnight_after(day - timedelta(days=1))
        await jobs.schedule(s, DAILY, {"day": day.isoformat()}, due_at=due, key=key)


@jobs.handler(DAILY)
async def _daily(s: AsyncSession, job: jobs.Job) -> None:
    """Downgrades as old growth leaves the window, birthday gifts, then tomorrow's run."""
    day = date.fromisoformat(str(job.payload["day"]))
    await recompute_all(s, at=clock.now())
    await birthday_gifts(s, day=day)
    await ensure_daily(s, day=day + timedelta(days=1))


@jobs.background("membership.arm_daily")
async def _arm_daily(db: Database, stop: asyncio.Event) -> None:
    """Wherever a worker starts, today's daily job is queued (keyed, so several workers queue it once)."""
    async with db.tx() as s:
        await ensure_daily(s)
