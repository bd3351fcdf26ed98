"""Monthly settlement: the once-per-period job that matures commissions and writes the statements.

Each month's settlement is one keyed job; running it moves every matured order's frozen commission to
available (mature_out / mature_in ledger pairs) and writes one statement per distributor active in it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.distribution import rules
from fissionmall.distribution.ledger import EARNING_KINDS, accruals, insert_ignore, sum_fen
from fissionmall.distribution.models import Commission, DistributionOrder, Settlement, Statement
from fissionmall.settings import get_settings

SETTLE_HANDLER = "distribution.settle"


def shop_tz() -> ZoneInfo:
    """The shop's time zone: periods, today and this month are counted in it."""
    return ZoneInfo(get_settings().timezone)


async def ensure_settlement_scheduled(s: AsyncSession) -> None:
    """The settlement of the current month is queued once (keyed by period)."""
    tz = shop_tz()
    period = rules.period_of(clock.now(), tz)
    key = f"distribution-settle:{period}"
    # Look before inserting: concurrent inserts of one unique key would queue every accrual behind the first.
    if await s.scalar(select(jobs.Job.id).where(jobs.Job.key == key)) is None:
        await jobs.schedule(s, SETTLE_HANDLER, {"period": period}, due_at=rules.period_end(period, tz), key=key)


async def _mature_order(s: AsyncSession, do: DistributionOrder, now: datetime) -> dict[int, int]:
    moved: dict[int, int] = {}
    for acc in await accruals(s, order_id=do.order_id):
        frozen = await sum_fen(
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
        if await insert_ignore(
            s, Commission, {**base, "kind": "mature_out", "bucket": "frozen", "amount_fen": -frozen}
        ):
            await insert_ignore(
                s, Commission, {**base, "kind": "mature_in", "bucket": "available", "amount_fen": frozen}
            )
            moved[acc.distributor_customer_id] = moved.get(acc.distributor_customer_id, 0) + frozen
    return moved


async def settle(s: AsyncSession, *, period: str) -> Settlement | None:
    """Settle a period once: move every matured commission to available, write a statement per distributor.
    A second run of the same period does nothing and returns None."""
    now = clock.now()
    if not await insert_ignore(s, Settlement, {"period": period, "orders_matured": 0, "matured_fen": 0, "ran_at": now}):
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
    tz = shop_tz()
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
        await insert_ignore(
            s,
            Statement,
            {
                "settlement_id": settlement.id,
                "distributor_customer_id": owner,
                "period": period,
                "accrued_fen": await sum_fen(s, mine, Commission.kind == "accrue", *in_period),
                "matured_fen": moved.get(owner, 0),
                "reversed_fen": -await sum_fen(s, mine, Commission.kind.in_(("reverse", "void")), *in_period),
                "available_fen": await sum_fen(s, mine, Commission.bucket == "available"),
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


async def statements_of(s: AsyncSession, *, customer_id: int) -> list[Statement]:
    """A distributor's monthly statements, newest first (the last two years)."""
    q = select(Statement).where(Statement.distributor_customer_id == customer_id).order_by(Statement.period.desc())
    return list((await s.scalars(q.limit(24))).all())
