from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fissionmall.core.db import Base, BigId, Money


class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    sort: Mapped[int] = mapped_column(default=0)


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    images: Mapped[list[Any]] = mapped_column(default=list)
    labels: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="on_sale")  # on_sale | off_sale
    # The 运费模板 that prices the product's shipping (shipping/); None: the shop's default template.
    # No foreign key: catalog knows no shipping table, and shipping refuses to delete a template in use.
    shipping_template_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    skus: Mapped[list[Sku]] = relationship(
        back_populates="product", order_by="Sku.id", lazy="selectin", cascade="all, delete-orphan"
    )
    category: Mapped[Category | None] = relationship(lazy="selectin")


class Sku(Base):
    __tablename__ = "skus"
    # The database is the last wall against oversell, behind the conditional decrement.
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_fen >= 0", name="price_not_negative"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    price_fen: Mapped[int] = mapped_column(Money)
    stock: Mapped[int] = mapped_column(default=0)
    sold: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    product: Mapped[Product] = relationship(back_populates="skus", lazy="raise")
