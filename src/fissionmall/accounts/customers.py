"""Finding shoppers for the console: the customer list (search, filters, keyset pages) and the pickers.

Accounts knows a shopper's nickname, first share code and blocked flag; what other tools know (spend,
last order, distributor) arrives as conditions on `Customer.id` from their filters (core/extras.py
CUSTOMER_FILTERS), so this module names no tool.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import Customer
from fissionmall.core.sql import contains_text

# How a shopper first arrived: with a share code (a distributor's or a shopper's link) or on their own.
Source = Literal["share_link", "organic"]
SOURCE_ZH: dict[str, str] = {"share_link": "分享链接进店", "organic": "自然进店"}


def match_clause(*, q: str, phone_ids: Sequence[int] = ()) -> ColumnElement[bool]:
    """Nickname contains `q`, or the shopper is one of `phone_ids` (their verified phone is `q`), or `q`
    is the shopper's number (编号)."""
    clauses: list[ColumnElement[bool]] = [contains_text(Customer.nickname, q)]
    if phone_ids:
        clauses.append(Customer.id.in_(list(phone_ids)))
    if q.isascii() and q.isdigit() and len(q) <= 18:
        clauses.append(Customer.id == int(q))
    return or_(*clauses)


def source_clause(source: Source) -> ColumnElement[bool]:
    """Shoppers who first arrived through a share link, or on their own."""
    return Customer.first_ref.is_not(None) if source == "share_link" else Customer.first_ref.is_(None)


async def search_customers(
    s: AsyncSession, *, where: Sequence[Any] = (), before_id: int | None = None, limit: int = 20
) -> tuple[list[Customer], str | None]:
    """A page of shoppers, newest first, matching every condition in `where`; and the next page's cursor."""
    q = select(Customer).where(*where).order_by(Customer.id.desc()).limit(limit + 1)
    if before_id is not None:
        q = q.where(Customer.id < before_id)
    rows = list((await s.scalars(q)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, str(rows[-1].id) if more and rows else None
