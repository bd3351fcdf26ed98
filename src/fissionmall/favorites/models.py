"""收藏 (a shopper's favourite products) and 足迹 (the products they viewed lately)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId


class _ShopperProduct:
    """A row per (shopper, product), unique, so a repeated or concurrent write is one row."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # Products are never deleted for real (status "deleted"), so the row stays and shows 已下架.
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))


class Favorite(_ShopperProduct, Base):
    """One favourite (收藏)."""

    __tablename__ = "favorites"
    __table_args__ = (
        UniqueConstraint("customer_id", "product_id", name="uq_favorites_customer_product"),
        Index("ix_favorites_customer", "customer_id", "id"),
    )
    created_at: Mapped[datetime]


class ProductView(_ShopperProduct, Base):
    """One product in a shopper's 足迹, its last view upserted in place."""

    __tablename__ = "product_views"
    __table_args__ = (
        UniqueConstraint("customer_id", "product_id", name="uq_product_views_customer_product"),
        Index("ix_product_views_customer_viewed", "customer_id", "viewed_at"),
    )
    viewed_at: Mapped[datetime]
