"""The review queue: benefits held for a person (a withdrawal, a suspicious group or order), released or
voided exactly once, with who decided, when and why.

A tool whose `check` came back REVIEW keeps the benefit back and calls `hold` inside its own transaction;
it registers, at import time, what releasing and voiding its kind of hold does (`register`). The reviewer's
decision runs that callback in the same transaction that moves the review from pending, so a double click
or two reviewers pay or return once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock
from fissionmall.core.db import Database, is_postgres
from fissionmall.core.errors import AppError, NotFound
from fissionmall.risk.errors import RiskError
from fissionmall.risk.models import RiskReview

Callback = Callable[[AsyncSession, int], Awaitable[None]]


@dataclass(frozen=True)
class Kind:
    name: str  # "withdrawal", "group", "order"
    label: str  # the console's name for it: 提现, 拼团, 订单
    release: Callback  # (session, ref_id): give the held benefit
    void: Callback  # (session, ref_id): take it back (return a withdrawal's amount to the balance)


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    """Say what releasing and voiding a hold of this kind does (a tool's import-time call)."""
    KINDS[kind.name] = kind


async def hold(
    s: AsyncSession, *, kind: str, ref_id: int, customer_id: int | None, reasons: Sequence[str] = ()
) -> int | None:
    """Open a review for a held benefit inside the caller's transaction; its id (the same review when this
    benefit is already held)."""
    ins = pg_insert(RiskReview) if is_postgres(s) else sqlite_insert(RiskReview)
    stmt = ins.values(
        kind=kind[:24],
        ref_id=ref_id,
        customer_id=customer_id,
        reasons=[str(r)[:64] for r in reasons][:20],
        status="pending",
        created_at=clock.now(),
        decided_by_name="",
        note="",
    ).on_conflict_do_nothing(index_elements=["kind", "ref_id"])
    await s.execute(stmt)
    return await s.scalar(select(RiskReview.id).where(RiskReview.kind == kind[:24], RiskReview.ref_id == ref_id))


async def pending(s: AsyncSession, *, kind: str, ref_id: int) -> bool:
    """Whether this benefit is held for a review nobody has decided yet (a tool's ship or pay-out check)."""
    q = select(RiskReview.id).where(
        RiskReview.kind == kind, RiskReview.ref_id == ref_id, RiskReview.status == "pending"
    )
    return await s.scalar(q.limit(1)) is not None


DECISIONS = {"release": "released", "void": "voided"}


async def decide(
    db: Database, *, review_id: int, decision: str, admin_id: int | None, admin_name: str = "", note: str = ""
) -> RiskReview:
    """Release or void a pending review exactly once: the status moves from pending by a compare-and-set and
    the kind's callback runs in that same transaction (a second decision, however concurrent, is refused)."""
    status = DECISIONS.get(decision)
    if status is None:
        raise AppError(RiskError.REVIEW_BAD_DECISION)
    async with db.tx() as s:
        row = await s.get(RiskReview, review_id)
        if row is None:
            raise NotFound(RiskError.REVIEW_NOT_FOUND)
        kind = KINDS.get(row.kind)
        if kind is None:
            raise AppError(RiskError.REVIEW_KIND_UNKNOWN)
        moved = await s.execute(
            update(RiskReview)
            .where(RiskReview.id == review_id, RiskReview.status == "pending")
            .values(
                status=status,
                decided_at=clock.now(),
                decided_by=admin_id,
                decided_by_name=admin_name[:64],
                note=note[:200],
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) != 1:
            raise AppError(RiskError.REVIEW_ALREADY_DECIDED)
        await (kind.release if status == "released" else kind.void)(s, row.ref_id)
        await s.refresh(row)
        return row


async def list_reviews(
    db: Database, *, status: str | None = None, kind: str | None = None, before: int | None = None, limit: int = 50
) -> list[RiskReview]:
    """Reviews newest first, optionally of one status or kind, before an id (keyset)."""
    q = select(RiskReview).order_by(RiskReview.id.desc()).limit(limit)
    if status:
        q = q.where(RiskReview.status == status)
    if kind:
        q = q.where(RiskReview.kind == kind)
    if before:
        q = q.where(RiskReview.id < before)
    async with db.read() as s:
        return list((await s.scalars(q)).all())


def label_of(kind: str) -> str:
    """The console's name for a kind of hold."""
    k = KINDS.get(kind)
    return k.label if k else kind


def public(r: RiskReview) -> dict[str, Any]:
    """A review as the admin API shows it."""
    return {
        "id": r.id,
        "kind": r.kind,
        "kind_label": label_of(r.kind),
        "ref_id": r.ref_id,
        "customer_id": r.customer_id,
        "reasons": list(r.reasons),
        "status": r.status,
        "created_at": r.created_at,
        "decided_at": r.decided_at,
        "decided_by": r.decided_by,
        "decided_by_name": r.decided_by_name,
        "note": r.note,
    }
