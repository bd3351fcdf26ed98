from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId, Money


class CartItem(Base):
    """One line of a shopper's cart (购物车): a SKU and how many. One line per (shopper, SKU): adding the
    same SKU again adds to the quantity in one upsert. The title, spec name and image are the ones seen
    when the line was last added, so a line whose product went off the shelf still reads as what it was."""

    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("customer_id", "sku_id", name="uq_cart_items_customer_sku"),
        CheckConstraint("qty >= 1", name="qty_positive"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # No foreign key to skus: a SKU that disappears leaves its line, shown apart as 失效 (sku_gone).
    sku_id: Mapped[int] = mapped_column(BigId)
    product_id: Mapped[int] = mapped_column(BigId)
    qty: Mapped[int]
    selected: Mapped[bool] = mapped_column(default=True)
    price_fen_added: Mapped[int] = mapped_column(Money)  # the unit price when added: 价格变动 compares with it
    title: Mapped[str] = mapped_column(String(120))
    sku_name: Mapped[str] = mapped_column(String(64))
    image: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
