"""The daily rollups the dashboard reads, kept by the worker (rollup_models.py says what each table is).

Raw events (`analytics_events`, written once per key by the recorder and `POST /events`) are added up
past a watermark: one `INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE` adds the counts of the events
with ids in (watermark, hi] and another inserts their participants once, in the same transaction that
moves the watermark, so every event is counted exactly once. An event that arrives late keeps its own
`day` and lands there. Events received in the last `SETTLE_SECONDS` are left for the next round, so a
transaction that took an id earlier but commits a moment later is not skipped.

Orders are rolled up from orders' own events: `OrderPaid` adds the order on its payment's date to its
source's row and to each tool whose step priced it; `OrderRefunded` takes the refund off on the refund's
own date (a late-payment refund was never GMV). Each applies once per order or refund (a key in
`analytics_rollup_applied`), so a redelivered event adds nothing. `rebuild_orders` recomputes all of it
from the orders tables (a backfill, or a check).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import SmallInteger, case, delete, func, literal, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.analytics.kinds import NON_GOODS_SOURCES, PARTICIPATION_KINDS
from fissionmall.analytics.models import AnalyticsEvent
from fissionmall.analytics.rollup_models import (
    STEP_CODES,
    AnalyticsDevice,
    CustomerFirst,
    DailyOrders,
    DailyPerson,
    DailyRollup,
    LastDayCount,
    PersonLast,
    RollupApplied,
    RollupState,
)
from fissionmall.core import clock, events, jobs
from fissionmall.core.db import Database, is_postgres
from fissionmall.orders.events import OrderPaid, OrderRefunded
from fissionmall.orders.models import Order, Refund
from fissionmall.settings import get_settings

log = logging.getLogger("fissionmall.analytics.rollups")

SETTLE_SECONDS = 30
ID_WINDOW = 200_000  # raw-event ids per statement
POLL_SECONDS = 5.0
STATE = "events"
STEP_KINDS = sorted(PARTICIPATION_KINDS | {"page_view", "order_created", "order_paid"})

# Which tool a priced step belongs to (its ref's prefix); the `activity` step (a tool's own price) belongs
# to the order's source.
STEP_TOOLS = {"coupon": "coupons", "promotion": "promotions", "membership": "membership", "points": "points"}


def shop_day(at: datetime) -> date:
    """A moment as the shop's date (the rollups' day)."""
    return at.astimezone(ZoneInfo(get_settings().timezone)).date()


def _insert(s: AsyncSession, model: Any) -> Any:
    return (pg_insert if is_postgres(s) else sqlite_insert)(model)


# ---- raw events ---------------------------------------------------------------------------------


async def _lock_state(s: AsyncSession) -> RollupState:
    await s.execute(
        _insert(s, RollupState).values(name=STATE, last_id=0, updated_at=clock.now()).on_conflict_do_nothing()
    )
    row = await s.scalar(select(RollupState).where(RollupState.name == STATE).with_for_update())
    assert row is not None
    return row


async def roll_range(s: AsyncSession, *, lo: int, hi: int) -> None:
    """Add the raw events with ids in (lo, hi] to the daily counts and the participants."""
    e = AnalyticsEvent
    where = (e.id > lo, e.id <= hi)
    tool, dist = func.coalesce(e.tool, ""), func.coalesce(e.distributor_id, 0)
    counts = (
        select(e.day, tool, e.kind, dist, func.count(), func.coalesce(func.sum(e.amount_fen), 0))
        .where(*where)
        .group_by(e.day, tool, e.kind, dist)
    )
    ins = _insert(s, DailyRollup).from_select(["day", "tool", "kind", "distributor_id", "events", "amount_fen"], counts)
    await s.execute(
        ins.on_conflict_do_update(
            index_elements=["day", "tool", "kind", "distributor_id"],
            set_={
                "events": DailyRollup.events + ins.excluded.events,
                "amount_fen": DailyRollup.amount_fen + ins.excluded.amount_fen,
            },
        )
    )
    await roll_people(s, lo=lo, hi=hi)


def step_code(kind: Any) -> Any:
    """A raw event's kind as its funnel step's code (SQL), NULL for kinds that are no step."""
    return case(
        (kind == "page_view", STEP_CODES["viewed"]),
        (kind.in_(sorted(PARTICIPATION_KINDS)), STEP_CODES["participated"]),
        (kind == "order_created", STEP_CODES["ordered"]),
        (kind == "order_paid", STEP_CODES["paid"]),
    )


async def roll_people(s: AsyncSession, *, lo: int, hi: int) -> None:
    """Number the new anonymous devices, then add who reached which step, once per day, tool and step.
    A participation counts as a view of its tool too: nobody claims a coupon or joins a group they did
    not see, wherever they saw it (a coupon claimed from a product page), so no funnel reads over 100%."""
    e, dev = AnalyticsEvent, AnalyticsDevice
    where = (e.id > lo, e.id <= hi, e.kind.in_(STEP_KINDS))
    new_devices = select(e.device_id).where(*where, e.customer_id.is_(None), e.device_id.is_not(None)).distinct()
    await s.execute(_insert(s, dev).from_select(["device_id"], new_devices).on_conflict_do_nothing())
    participation = e.kind.in_(sorted(PARTICIPATION_KINDS))
    for step, only in ((step_code(e.kind), None), (literal(STEP_CODES["viewed"], SmallInteger), participation)):
        await _roll_step(s, where=(*where, only) if only is not None else where, step=step)


async def _roll_step(s: AsyncSession, *, where: tuple[Any, ...], step: Any) -> None:
    e, dev = AnalyticsEvent, AnalyticsDevice
    tool, person = func.coalesce(e.tool, ""), func.coalesce(e.customer_id, -dev.id)

    def of(*cols: Any) -> Any:
        return (
            select(*cols)
            .select_from(e)
            .outerjoin(dev, (e.customer_id.is_(None)) & (dev.device_id == e.device_id))
            .where(*where, (e.customer_id.is_not(None)) | (e.device_id.is_not(None)))
        )

    people = of(e.day, tool, step, person).group_by(e.day, tool, step, person)
    await s.execute(
        _insert(s, DailyPerson).from_select(["day", "tool", "step", "person"], people).on_conflict_do_nothing()
    )
    # Each person's last day per (tool, step), for the ranges that reach the newest day: the batch's own
    # latest day, kept when a late event brings an older one; and the histogram of last days moved with it
    # (a person whose last day moves from d to d' is one less on d and one more on d'). One roller at a
    # time (catch_up holds the watermark's row), so the reads below see the rows they change.
    latest = of(tool, step, person, func.max(e.day).label("day")).group_by(tool, step, person).subquery()
    pl = PersonLast
    known = (pl.tool == latest.c[0]) & (pl.step == latest.c[1]) & (pl.person == latest.c[2])
    moved = select(latest).outerjoin(pl, known).where(pl.person.is_(None) | (latest.c.day > pl.last_day)).subquery()
    gained = select(moved.c[0], moved.c[1], moved.c.day, func.count()).group_by(moved.c[0], moved.c[1], moved.c.day)
    lost = (
        select(pl.tool, pl.step, pl.last_day, -func.count())
        .select_from(latest)
        .join(pl, known)
        .where(latest.c.day > pl.last_day)
        .group_by(pl.tool, pl.step, pl.last_day)
    )
    for change in (lost, gained):
        ins = _insert(s, LastDayCount).from_select(["tool", "step", "last_day", "persons"], change)
        await s.execute(
            ins.on_conflict_do_update(
                index_elements=["tool", "step", "last_day"],
                set_={"persons": LastDayCount.persons + ins.excluded.persons},
            )
        )
    # WHERE true: SQLite reads "FROM (…) ON CONFLICT" as a join's ON without it
    ins = _insert(s, pl).from_select(["tool", "step", "person", "last_day"], select(latest).where(true()))
    later = (func.greatest if is_postgres(s) else func.max)(pl.last_day, ins.excluded.last_day)
    await s.execute(ins.on_conflict_do_update(index_elements=["tool", "step", "person"], set_={"last_day": later}))


async def catch_up(s: AsyncSession, *, settle_seconds: float = SETTLE_SECONDS, window: int = ID_WINDOW) -> int:
    """Roll up the raw events past the watermark (up to those still settling); returns the new watermark."""
    seen = await s.scalar(select(RollupState.last_id).where(RollupState.name == STATE))
    if seen is not None and await s.scalar(select(AnalyticsEvent.id).where(AnalyticsEvent.id > seen).limit(1)) is None:
        return int(seen)  # nothing new: no write, no lock (the worker asks every few seconds)
    state = await _lock_state(s)
    lo = state.last_id
    top = await s.scalar(select(func.max(AnalyticsEvent.id)).where(AnalyticsEvent.id > lo))
    if top is None:
        return lo
    if settle_seconds > 0:
        cutoff = clock.now() - timedelta(seconds=settle_seconds)
        fresh = await s.scalar(
            select(func.min(AnalyticsEvent.id)).where(AnalyticsEvent.id > lo, AnalyticsEvent.received_at > cutoff)
        )
        if fresh is not None:
            top = fresh - 1
    while lo < top:
        hi = min(top, lo + window)
        await roll_range(s, lo=lo, hi=hi)
        lo = hi
    state.last_id = lo
    state.updated_at = clock.now()
    return lo


async def backfill_once(s: AsyncSession) -> bool:
    """The first time the worker runs with the rollups: the orders paid before them are added (once)."""
    r = await s.execute(
        _insert(s, RollupState).values(name="orders", last_id=0, updated_at=clock.now()).on_conflict_do_nothing()
    )
    if not getattr(r, "rowcount", 0):
        return False
    await rebuild_orders(s)
    return True


@jobs.background("analytics.rollup")
async def rollup_loop(db: Database, stop: asyncio.Event) -> None:
    """The worker's loop: roll up new raw events every few seconds."""
    async with db.tx() as s:
        await backfill_once(s)
    while not stop.is_set():
        async with db.tx() as s:
            await catch_up(s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_SECONDS)


# ---- orders -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderDelta:
    tool: str
    via: str
    orders: int = 0
    paid_fen: int = 0
    refund_fen: int = 0
    discount_fen: int = 0


def step_costs(steps: Iterable[dict[str, Any]], *, source: str) -> dict[str, int]:
    """The discount each tool gave on an order (fen, positive), from its stored steps."""
    out: dict[str, int] = defaultdict(int)
    for st in steps or ():
        amount = int(st.get("amount_fen") or 0)
        if amount >= 0 or st.get("kind") == "shipping":
            continue
        ref = str(st.get("ref") or "")
        tool = STEP_TOOLS.get(ref.split(":", 1)[0]) if ref else None
        if tool is None and st.get("kind") == "activity":
            tool = source
        if tool is not None:
            out[tool] += -amount
    return dict(out)


def step_tools(steps: Iterable[dict[str, Any]]) -> set[str]:
    """The tools (other than the source) whose rules priced the order: coupons, 满减, member prices."""
    refs = {str(st.get("ref") or "").split(":", 1)[0] for st in steps or () if st.get("kind") != "coupon_refused"}
    return {STEP_TOOLS[r] for r in refs if r in STEP_TOOLS}


def paid_deltas(*, source: str, steps: list[dict[str, Any]], paid_fen: int) -> list[OrderDelta]:
    """What one paid order adds: its source's row, and a row for each tool that priced it."""
    costs = step_costs(steps, source=source)
    out = [OrderDelta(source, "source", 1, paid_fen, 0, costs.get(source, 0))]
    out += [OrderDelta(t, "step", 1, paid_fen, 0, costs.get(t, 0)) for t in sorted(step_tools(steps))]
    return out


def refund_deltas(*, source: str, steps: list[dict[str, Any]], amount_fen: int) -> list[OrderDelta]:
    """What one refund takes off, on its own date: from the source's row and each pricing tool's."""
    out = [OrderDelta(source, "source", refund_fen=amount_fen)]
    return out + [OrderDelta(t, "step", refund_fen=amount_fen) for t in sorted(step_tools(steps))]


async def _add(s: AsyncSession, *, day: date, deltas: list[OrderDelta]) -> None:
    for d in deltas:
        ins = _insert(s, DailyOrders).values(
            day=day,
            tool=d.tool,
            via=d.via,
            orders=d.orders,
            paid_fen=d.paid_fen,
            refund_fen=d.refund_fen,
            discount_fen=d.discount_fen,
        )
        await s.execute(
            ins.on_conflict_do_update(
                index_elements=["day", "tool", "via"],
                set_={c: getattr(DailyOrders, c) + getattr(ins.excluded, c) for c in _SUMS},
            )
        )


_SUMS = ("orders", "paid_fen", "refund_fen", "discount_fen")


async def _once(s: AsyncSession, key: str) -> bool:
    r = await s.execute(_insert(s, RollupApplied).values(key=key).on_conflict_do_nothing())
    return bool(getattr(r, "rowcount", 0))


async def _first_order(s: AsyncSession, *, order: Order) -> None:
    assert order.paid_at is not None
    ins = _insert(s, CustomerFirst).values(
        customer_id=order.customer_id,
        first_order_id=order.id,
        first_paid_at=order.paid_at,
        first_day=shop_day(order.paid_at),
        first_tool=order.source,
        paid_orders=1,
    )
    earlier = ins.excluded.first_paid_at < CustomerFirst.first_paid_at
    await s.execute(
        ins.on_conflict_do_update(
            index_elements=["customer_id"],
            set_={
                "paid_orders": CustomerFirst.paid_orders + 1,
                **{
                    c: case((earlier, getattr(ins.excluded, c)), else_=getattr(CustomerFirst, c))
                    for c in ("first_order_id", "first_paid_at", "first_day", "first_tool")
                },
            },
        )
    )


async def apply_paid(s: AsyncSession, *, order_id: int) -> bool:
    """Add a paid order to its payment date's rows (once per order); True if it was added now."""
    order = await s.get(Order, order_id)
    if order is None or order.paid_at is None or not await _once(s, f"paid:{order_id}"):
        return False
    await _add(
        s,
        day=shop_day(order.paid_at),
        deltas=paid_deltas(source=order.source, steps=order.steps, paid_fen=order.paid_fen),
    )
    if order.source not in NON_GOODS_SOURCES:
        await _first_order(s, order=order)
    return True


async def apply_refund(s: AsyncSession, *, refund_id: int) -> bool:
    """Take a succeeded refund off its own date's rows (once per refund); True if it was applied now."""
    refund = await s.get(Refund, refund_id)
    if refund is None or refund.status != "succeeded" or refund.kind == "late_payment":
        return False
    order = await s.get(Order, refund.order_id)
    if order is None or not await _once(s, f"refund:{refund_id}"):
        return False
    day = shop_day(refund.succeeded_at or clock.now())
    await _add(s, day=day, deltas=refund_deltas(source=order.source, steps=order.steps, amount_fen=refund.amount_fen))
    return True


@events.on(OrderPaid, "analytics.rollup_paid")
async def _on_paid(s: AsyncSession, e: OrderPaid) -> None:
    await apply_paid(s, order_id=e.order_id)


@events.on(OrderRefunded, "analytics.rollup_refund")
async def _on_refunded(s: AsyncSession, e: OrderRefunded) -> None:
    if e.kind != "late_payment":
        await apply_refund(s, refund_id=e.refund_id)


async def rebuild_orders(s: AsyncSession, *, chunk: int = 5000) -> int:
    """Recompute the order rollups and first orders from the orders tables (a backfill); returns orders seen."""
    for model in (DailyOrders, CustomerFirst):
        await s.execute(delete(model))
    await s.execute(delete(RollupApplied).where(RollupApplied.key.like("paid:%") | RollupApplied.key.like("refund:%")))
    after, seen = 0, 0
    while True:
        q = select(Order.id).where(Order.id > after, Order.paid_at.is_not(None)).order_by(Order.id).limit(chunk)
        ids = list((await s.scalars(q)).all())
        if not ids:
            break
        for oid in ids:
            await apply_paid(s, order_id=oid)
        after, seen = ids[-1], seen + len(ids)
    q2 = select(Refund.id).where(Refund.status == "succeeded", Refund.kind != "late_payment").order_by(Refund.id)
    for rid in (await s.scalars(q2)).all():
        await apply_refund(s, refund_id=rid)
    return seen
