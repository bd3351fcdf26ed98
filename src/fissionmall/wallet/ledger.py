"""The wallet's ledger: every movement an entry (never edited), and the shopper's balance row moved by the
same deltas in the same transaction by a guarded UPDATE, so the balance is the sum of the entries and
never goes below zero, however many payments race for it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock
from fissionmall.core.db import is_postgres, keyset_page
from fissionmall.core.errors import Conflict
from fissionmall.wallet.errors import WalletError
from fissionmall.wallet.models import WalletBalance, WalletEntry

KIND_ZH = {
    "topup": "储值到账",
    "pay": "余额支付",
    "release": "订单取消退回",
    "refund": "订单退款退回",
    "topup_refund": "储值退款",
    "adjust": "人工调整",
}


async def balance_of(s: AsyncSession, *, customer_id: int, lock: bool = False) -> tuple[int, int]:
    """(principal, bonus) of a shopper's wallet; `lock` holds the balance row until the transaction ends."""
    q = select(WalletBalance.principal_fen, WalletBalance.bonus_fen).where(WalletBalance.customer_id == customer_id)
    if lock:
        await _ensure(s, customer_id)
        q = q.with_for_update()
    row = (await s.execute(q)).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def balances_of(s: AsyncSession, *, customer_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(principal, bonus) per shopper that has a wallet row (the customer list's column)."""
    if not customer_ids:
        return {}
    rows = await s.execute(
        select(WalletBalance.customer_id, WalletBalance.principal_fen, WalletBalance.bonus_fen).where(
            WalletBalance.customer_id.in_(list(customer_ids))
        )
    )
    return {int(c): (int(p), int(b)) for c, p, b in rows.all()}


async def _ensure(s: AsyncSession, customer_id: int) -> None:
    ins = pg_insert(WalletBalance) if is_postgres(s) else sqlite_insert(WalletBalance)
    await s.execute(
        ins.values(
            customer_id=customer_id, principal_fen=0, bonus_fen=0, updated_at=clock.now()
        ).on_conflict_do_nothing(index_elements=["customer_id"])
    )


async def recorded(s: AsyncSession, *, key: str) -> WalletEntry | None:
    """The entry written under `key`, if any."""
    return await s.scalar(select(WalletEntry).where(WalletEntry.key == key))


async def move(
    s: AsyncSession,
    *,
    customer_id: int,
    key: str,
    kind: str,
    principal_delta: int,
    bonus_delta: int,
    ref: str = "",
    operator_id: int | None = None,
    operator: str = "",
    reason: str = "",
) -> WalletEntry | None:
    """Write one entry and move the balance by its deltas, once per `key` (None: already written). A debit
    the balance does not cover is INSUFFICIENT_BALANCE and writes nothing."""
    if await recorded(s, key=key) is not None:
        return None
    await _ensure(s, customer_id)
    b = WalletBalance
    res = await s.execute(
        update(b)
        .where(
            b.customer_id == customer_id,
            b.principal_fen + principal_delta >= 0,
            b.bonus_fen + bonus_delta >= 0,
        )
        .values(
            principal_fen=b.principal_fen + principal_delta,
            bonus_fen=b.bonus_fen + bonus_delta,
            updated_at=clock.now(),
        )
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(WalletError.INSUFFICIENT_BALANCE)
    entry = WalletEntry(
        customer_id=customer_id,
        key=key,
        kind=kind,
        principal_delta=principal_delta,
        bonus_delta=bonus_delta,
        ref=ref,
        operator_id=operator_id,
        operator=operator[:64],
        reason=reason[:200],
        created_at=clock.now(),
    )
    s.add(entry)
    await s.flush()
    return entry


async def order_moves(s: AsyncSession, *, order_id: int) -> dict[str, tuple[int, int]]:
    """What the wallet moved for an order, by kind: {pay: (principal, bonus) taken, refund: … given back}."""
    rows = await s.execute(
        select(WalletEntry.kind, func.sum(WalletEntry.principal_delta), func.sum(WalletEntry.bonus_delta))
        .where(WalletEntry.ref == f"order:{order_id}")
        .group_by(WalletEntry.kind)
    )
    return {k: (abs(int(p or 0)), abs(int(b or 0))) for k, p, b in rows.all()}


async def list_entries(
    s: AsyncSession,
    *,
    customer_id: int | None = None,
    kind: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[WalletEntry], str | None]:
    """Entries newest first, one keyset page (one shopper's, or everyone's for the console)."""
    q = select(WalletEntry).order_by(WalletEntry.id.desc())
    if customer_id is not None:
        q = q.where(WalletEntry.customer_id == customer_id)
    if kind:
        q = q.where(WalletEntry.kind == kind)
    if before_id:
        q = q.where(WalletEntry.id < before_id)
    return await keyset_page(s, q, limit=limit)


async def sums_of(s: AsyncSession, *, customer_id: int) -> tuple[int, int]:
    """(principal, bonus) as the sum of the shopper's entries: what the balance row must say."""
    row = (
        await s.execute(
            select(
                func.coalesce(func.sum(WalletEntry.principal_delta), 0),
                func.coalesce(func.sum(WalletEntry.bonus_delta), 0),
            ).where(WalletEntry.customer_id == customer_id)
        )
    ).one()
    return int(row[0]), int(row[1])


def entry_view(e: WalletEntry, *, admin: bool = False) -> dict[str, Any]:
    """An entry as the shop reads it (`admin`: with the shopper and the operator, for the console)."""
    view: dict[str, Any] = {
        "id": e.id,
        "kind": e.kind,
        "kind_text": KIND_ZH.get(e.kind, "余额变动"),
        "principal_delta": e.principal_delta,
        "bonus_delta": e.bonus_delta,
        "delta_fen": e.principal_delta + e.bonus_delta,
        "ref": e.ref,
        "reason": e.reason,
        "created_at": e.created_at,
    }
    if admin:
        view |= {"customer_id": e.customer_id, "operator": e.operator}
    return view
