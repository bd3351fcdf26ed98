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

from sqlalchemy.ext.asyncio import AsyncSession

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
    """Open a review for a held benefit inside the caller's transaction; its id. (Lands with issue 19.)"""
    return None
