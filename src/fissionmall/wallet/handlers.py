"""Imported at start-up (models.load_handlers): the wallet's order source, tender, pay methods and /me field."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import extras
from fissionmall.wallet import ledger, paying, topups

__all__ = ["paying", "topups"]


@extras.contributes(extras.ME)
async def _me_wallet(s: AsyncSession, customer_id: int) -> dict[str, Any]:
    principal, bonus = await ledger.balance_of(s, customer_id=customer_id)
    return {"wallet_fen": principal + bonus}
