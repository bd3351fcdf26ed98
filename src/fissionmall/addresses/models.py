from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId


class CustomerAddress(Base):
    """One entry of a shopper's address book (收货地址). Orders copy the address they ship to, so an
    entry may be edited or deleted at any time."""

    __tablename__ = "customer_addresses"
    __table_args__ = (
        Index("ix_customer_addresses_customer", "customer_id", "id"),
        # At most one default per shopper, whatever races: the service keeps exactly one while the book
        # is not empty (under the shopper's row lock), this index makes a second one impossible.
        Index(
            "uq_customer_addresses_default",
            "customer_id",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32))  # as typed, for display
    phone_normalized: Mapped[str] = mapped_column(String(24))
    region: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str | None] = mapped_column(String(12))
    detail: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    is_default: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(16), default="manual")  # manual | wechat
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
