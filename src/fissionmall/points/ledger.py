"""The points ledger: grant, spend, give back, take back, balance. Every other points module (and the points
mall) moves points only through these.

- An entry is inserted, never updated; the account's `balance` is the sum of the shopper's entries, moved by
  the same transaction that inserts the entry.
- Once only: where the caller passes a `ref`, (customer_id, kind, ref) is a unique key and the entry is
  written with INSERT … ON CONFLICT DO NOTHING, so a redelivered event or a retried request writes nothing
  and changes no balance (the result says `created=False`). No SELECT first.
- A spend is a guarded `UPDATE … SET balance = balance - n WHERE balance >= n`: two concurrent spends queue
  on the account row and the second sees the first's balance, so the balance never goes below zero by a
  spend. When it is short, AppError(INSUFFICIENT_POINTS) is raised and nothing is left changed.
- Only `take_back` with `allow_debt` may leave a negative balance (a refund's earned points already spent,
  under the debt policy): later credits pay the debt first, simply by adding to the balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock
from fissionmall.core.db import is_postgres
from fissionmall.core.errors import AppError
from fissionmall.points.errors import PointsError
from fissionmall.points.models import PointsAccount, PointsEntry

NOTE_MAX = 200


@dataclass(frozen=True)
class Posted:
    """What a ledger call did: whether it wrote an entry (False: the ref was there already), the entry's id,
    the points it moved (signed) and the balance after it."""

    created: bool
    entry_id: int | None
    points: int
    balance: int


def _insert(s: AsyncSession, model: Any) -> Any:
    return pg_insert(model) if is_postgres(s) else sqlite_insert(model)


async def _entry(
    s: AsyncSession,
    *,
    customer_id: int,
    points: int,
    kind: str,
    ref: str | None,
    note: str | None,
    expires_at: datetime | None = None,
    operator_id: int | None = None,
) -> int | None:
    """Insert one entry (once per ref). Its id, or None when (customer, kind, ref) was written before."""
    values = {
        "customer_id": customer_id,
        "kind": kind,
        "ref": ref,
        "points": points,
        "note": (note or None) and note[:NOTE_MAX],
        "expires_at": expires_at,
        "operator_id": operator_id,
        "created_at": clock.now(),
    }
    ins = _insert(s, PointsEntry).values(**values)
    if ref is not None:
        ins = ins.on_conflict_do_nothing(index_elements=["customer_id", "kind", "ref"])
    got = await s.scalar(ins.returning(PointsEntry.id))
    return int(got) if got is not None else None


async def _add(s: AsyncSession, *, customer_id: int, points: int) -> int:
    """Add `points` (signed) to the account, creating it; the balance after."""
    ins = _insert(s, PointsAccount).values(customer_id=customer_id, balance=points, updated_at=clock.now())
    ins = ins.on_conflict_do_update(
        index_elements=["customer_id"],
        set_={"balance": PointsAccount.balance + points, "updated_at": ins.excluded.updated_at},
    )
    return int(await s.scalar(ins.returning(PointsAccount.balance)) or 0)


async def _take(s: AsyncSession, *, customer_id: int, points: int) -> int | None:
    """Take `points` if the balance holds them (the guarded UPDATE); the balance after, or None when short."""
    got = await s.scalar(
        update(PointsAccount)
        .where(PointsAccount.customer_id == customer_id, PointsAccount.balance >= points)
        .values(balance=PointsAccount.balance - points, updated_at=clock.now())
        .returning(PointsAccount.balance)
        .execution_options(synchronize_session=False)
    )
    return int(got) if got is not None else None


async def _unchanged(s: AsyncSession, *, customer_id: int) -> Posted:
    """What a replayed ref gets: nothing written, the balance as it is."""
    return Posted(False, None, 0, await balance(s, customer_id=customer_id))


def _positive(points: int) -> None:
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ValueError(f"points must be a positive int, got {points!r}")


async def balance(s: AsyncSession, *, customer_id: int) -> int:
    """The shopper's balance (negative: a debt); 0 for a shopper who never had points."""
    got = await s.scalar(select(PointsAccount.balance).where(PointsAccount.customer_id == customer_id))
    return int(got or 0)


async def grant(
    s: AsyncSession,
    *,
    customer_id: int,
    points: int,
    kind: str,
    ref: str | None,
    note: str | None = None,
    expires_at: datetime | None = None,
    operator_id: int | None = None,
) -> Posted:
    """Credit `points` (> 0) once per (kind, ref); a debt is paid first, since the balance simply grows."""
    _positive(points)
    entry_id = await _entry(
        s,
        customer_id=customer_id,
        points=points,
        kind=kind,
        ref=ref,
        note=note,
        expires_at=expires_at,
        operator_id=operator_id,
    )
    if entry_id is None:
        return await _unchanged(s, customer_id=customer_id)
    return Posted(True, entry_id, points, await _add(s, customer_id=customer_id, points=points))


async def spend(
    s: AsyncSession,
    *,
    customer_id: int,
    points: int,
    kind: str,
    ref: str | None,
    note: str | None = None,
    operator_id: int | None = None,
) -> Posted:
    """Debit `points` (> 0) once per (kind, ref); AppError(INSUFFICIENT_POINTS), nothing changed, when short."""
    _positive(points)
    entry_id = await _entry(
        s, customer_id=customer_id, points=-points, kind=kind, ref=ref, note=note, operator_id=operator_id
    )
    if entry_id is None:
        return await _unchanged(s, customer_id=customer_id)
    after = await _take(s, customer_id=customer_id, points=points)
    if after is None:
        # Our own entry, not yet committed: remove it so a caller that catches the refusal commits nothing.
        await s.execute(delete(PointsEntry).where(PointsEntry.id == entry_id))
        raise AppError(PointsError.INSUFFICIENT_POINTS, balance=await balance(s, customer_id=customer_id))
    return Posted(True, entry_id, -points, after)


# Returning spent points (a cancelled or refunded spend) is a credit like any grant, once per (kind, ref);
# its own name so that callers say what they do.
give_back = grant


async def take_back(
    s: AsyncSession,
    *,
    customer_id: int,
    points: int,
    kind: str,
    ref: str | None,
    note: str | None = None,
    allow_debt: bool = True,
) -> Posted:
    """Take back earned points once per (kind, ref). With `allow_debt` all of them, leaving a negative balance
    (a debt later credits pay first) when some were spent; without, only what the balance holds (never < 0)."""
    _positive(points)
    if not allow_debt:
        have = await s.scalar(
            select(PointsAccount.balance).where(PointsAccount.customer_id == customer_id).with_for_update()
        )
        points = min(points, max(0, int(have or 0)))
        if points == 0:
            return Posted(False, None, 0, int(have or 0))
    entry_id = await _entry(s, customer_id=customer_id, points=-points, kind=kind, ref=ref, note=note)
    if entry_id is None:
        return await _unchanged(s, customer_id=customer_id)
    return Posted(True, entry_id, -points, await _add(s, customer_id=customer_id, points=-points))


async def entries_sum(s: AsyncSession, *, customer_id: int) -> int:
    """The sum of the shopper's entries: equal to `balance` (the tests' invariant)."""
    got = await s.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(PointsEntry.customer_id == customer_id)
    )
    return int(got or 0)
