"""Manual 余额 adjustments (finance's `wallet` permission): a signed amount to 本金 or 赠送 with a required
reason, recorded with the operator as one ledger entry; taking more than the wallet holds is refused."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.errors import AccountsError
from fissionmall.accounts.models import Customer
from fissionmall.core.errors import AppError, NotFound
from fissionmall.wallet import ledger
from fissionmall.wallet.errors import WalletError
from fissionmall.wallet.models import WalletEntry
from fissionmall.wallet.schemas import AdjustmentCreate


async def adjust(
    s: AsyncSession,
    *,
    customer_id: int,
    data: AdjustmentCreate,
    operator_id: int,
    operator: str,
    key: str | None = None,
) -> WalletEntry:
    """Add `data.delta` to the shopper's 本金 or 赠送, with the reason and the operator."""
    if not data.reason:
        raise AppError(WalletError.ADJUSTMENT_REASON_REQUIRED, field="reason")
    if data.delta == 0:
        raise AppError(WalletError.ADJUSTMENT_DELTA_INVALID, field="delta")
    if await s.get(Customer, customer_id) is None:
        raise NotFound(AccountsError.CUSTOMER_NOT_FOUND)
    principal = data.delta if data.bucket == "principal" else 0
    entry = await ledger.move(
        s,
        customer_id=customer_id,
        key=f"adjust:{customer_id}:{key or secrets.token_hex(12)}",
        kind="adjust",
        principal_delta=principal,
        bonus_delta=data.delta - principal,
        ref=f"customer:{customer_id}",
        operator_id=operator_id,
        operator=operator,
        reason=data.reason,
    )
    if entry is None:  # the same idempotency key again: the first entry stands
        found = await ledger.recorded(s, key=f"adjust:{customer_id}:{key}")
        assert found is not None
        return found
    return entry
