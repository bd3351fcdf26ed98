"""The ledger's building blocks: the once-only insert, bucket sums, the locked accruals and the status move.

Every money movement is a ledger row in `distribution_commissions` (never updated); balances are sums per
bucket. Exactly-once comes from unique keys on the ledger ((order_line_id, level, kind, ref_key) and
(withdrawal_id, kind, bucket)) written with INSERT … ON CONFLICT DO NOTHING, plus the jobs' own
once-semantics; state rows (distributor, withdrawal, distribution order) move by compare-and-set.
The workflows (commissions, settlement, withdrawals) write through these; the board reads through them.
They are statement builders used like `s.execute` (a model, a values dict, SQL conditions), so they take
their arguments by position, unlike the workflows' keyword-only service functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.db import is_postgres
from fissionmall.distribution import rules
from fissionmall.distribution.models import Commission

# The kinds that are earnings (what a distributor made, net of refunds): the rest only move money between buckets.
EARNING_KINDS = ("accrue", "reverse", "void")


async def insert_ignore(s: AsyncSession, model: Any, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING. True when the row was written (False: it existed)."""
    ins = pg_insert(model) if is_postgres(s) else sqlite_insert(model)
    res = await s.execute(ins.values(**values).on_conflict_do_nothing())
    return bool(res.rowcount)  # type: ignore[attr-defined]


async def sum_fen(s: AsyncSession, *conds: Any) -> int:
    """The sum of the ledger amounts matching `conds` (0 when none)."""
    return int(await s.scalar(select(func.coalesce(func.sum(Commission.amount_fen), 0)).where(*conds)) or 0)


async def accruals(s: AsyncSession, *, line_id: int | None = None, order_id: int | None = None) -> list[Commission]:
    """The accrue entries of a line or an order, locked (PostgreSQL) so maturing and reversing queue."""
    q = select(Commission).where(Commission.kind == "accrue").order_by(Commission.id)
    q = (
        q.where(Commission.order_line_id == line_id)
        if line_id is not None
        else q.where(Commission.order_id == order_id)
    )
    return list((await s.scalars(q.with_for_update())).all())


async def move_status(
    s: AsyncSession, model: Any, row_id: int, transitions: Mapping[str, frozenset[str]], target: str, **values: Any
) -> bool:
    """Compare-and-set a state row (distributor, withdrawal) into `target` from a status that may move there.
    True when this call moved it (False: another request moved it first, or the move is not allowed)."""
    res = await s.execute(
        update(model)
        .where(model.id == row_id, model.status.in_(rules.sources_of(transitions, target)))
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1  # type: ignore[attr-defined]
