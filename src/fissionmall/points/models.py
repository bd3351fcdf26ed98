"""Points tables. The ledger's entries are inserted, never updated; the account row is their sum, kept in the
same transaction as each entry (the guarded UPDATE that makes a spend safe under concurrency)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class PointsAccount(Base):
    """A shopper's balance: the sum of their entries. Negative only as a debt the refund policy left."""

    __tablename__ = "points_accounts"
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), primary_key=True, autoincrement=False)
    balance: Mapped[int] = mapped_column(Money, default=0)
    updated_at: Mapped[datetime]


class PointsEntry(Base):
    """One movement of points, signed. (customer_id, kind, ref) is unique: a replayed grant writes nothing.

    Kinds: earn (an order paid), earn_back (a refund takes earned points back), spend (checkout),
    spend_back (a cancelled or refunded order returns spent points), signin, review, leader (group buying),
    adjust (a manual adjustment), expire (the yearly expiry), and whatever a tool on the ledger uses
    (pointsmall: redeem, redeem_back).
    """

    __tablename__ = "points_entries"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "ref"),
        Index("ix_points_entries_customer", "customer_id", "id"),
        Index("ix_points_entries_expiry", "expires_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(24))
    ref: Mapped[str | None] = mapped_column(String(64))  # NULL: not idempotent (the caller gave no ref)
    points: Mapped[int] = mapped_column(BigInteger)  # signed: + earned or given back, − spent or taken
    note: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None]  # credits only: when what is left of them expires (NULL: never)
    operator_id: Mapped[int | None] = mapped_column(BigInteger)  # the admin behind a manual adjustment
    created_at: Mapped[datetime]


class PointsRules(Base):
    """One row (id 1): the merchant's points rules as validated JSON (schemas.RulesUpdate)."""

    __tablename__ = "points_rules"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(BigInteger)


class SignIn(Base):
    """One sign-in per shopper per local day: the unique key makes a double tap sign in once."""

    __tablename__ = "points_signins"
    __table_args__ = (UniqueConstraint("customer_id", "day"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"))
    day: Mapped[date]
    streak: Mapped[int]
    points: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class OrderLinePoints(Base):
    """What one order line spent (kind spend) or earned (kind earn) in points, and how many of its units a
    refund has settled, so each refund returns or takes back exactly its units' share."""

    __tablename__ = "points_order_lines"
    __table_args__ = (UniqueConstraint("line_id", "kind"), Index("ix_points_order_lines_order", "order_id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigInteger)
    line_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))  # spend | earn
    qty: Mapped[int]
    points: Mapped[int] = mapped_column(BigInteger)
    settled_qty: Mapped[int] = mapped_column(default=0)  # units refunded (or the order cancelled) so far
