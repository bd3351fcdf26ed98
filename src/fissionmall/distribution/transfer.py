"""Paying a withdrawal out: a small `Transfer` port with a sandbox twin.

The WeChat Pay transfer ("商家转账到零钱") arrives with the WeChat issue behind this same protocol. A
transfer carries our own reference (the withdrawal id); a gateway treats a repeated reference as the same
transfer, which is what makes a retried payout job pay at most once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TransferResult:
    success: bool
    transfer_id: str | None = None
    message: str = ""


class Transfer(Protocol):
    name: str

    async def transfer(
        self, *, reference: str, customer_id: int, amount_fen: int, description: str, user_name: str | None = None
    ) -> TransferResult:
        """Send `amount_fen` to the shopper's wallet; the same `reference` never pays twice. `user_name`
        is the payee's real name, given when the withdrawal carried one (WeChat: from 2,000 元)."""
        ...


class SandboxTransfer:
    """Always succeeds; remembers references so a repeat returns the first result."""

    name = "sandbox"

    def __init__(self) -> None:
        self.done: dict[str, TransferResult] = {}
        self.calls = 0
        self.named: set[str] = set()  # references that came with the payee's name

    async def transfer(
        self, *, reference: str, customer_id: int, amount_fen: int, description: str, user_name: str | None = None
    ) -> TransferResult:
        self.calls += 1
        if user_name:
            self.named.add(reference)
        if reference not in self.done:
            self.done[reference] = TransferResult(True, "SBX" + secrets.token_hex(8).upper())
        return self.done[reference]


_transfer: Transfer = SandboxTransfer()


def get_transfer() -> Transfer:
    """The payout channel in use (WeChat's 商家转账, or the test double)."""
    return _transfer


def use_transfer(t: Transfer) -> Transfer:
    """Swap the transfer gateway (tests inject failures; the WeChat issue installs its own)."""
    global _transfer
    previous, _transfer = _transfer, t
    return previous
