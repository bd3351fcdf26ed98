from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
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
    # 图文详情: HTML sanitised on save (rules.clean_detail_html), so the shop may render it as HTML.
    detail_html: Mapped[str] = mapped_column(Text, default="")
    # The spec matrix's dimensions, [{"name": "颜色", "values": ["红", "蓝"]}, …] (at most 3); [] for a
    # product whose SKUs carry only a name.
    specs: Mapped[list[Any]] = mapped_column(default=list)
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


_ACTIVE_CODE = "is_active AND code IS NOT NULL"


class Sku(Base):
    __tablename__ = "skus"
    # The database is the last wall against oversell, behind the conditional decrement.
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_fen >= 0", name="price_not_negative"),
        # 商家编码 is unique among the SKUs on sale, whatever races (the service checks first for a clear
        # message); a retired SKU keeps its code and frees it.
        Index(
            "uq_skus_code_active",
            "code",
            unique=True,
            postgresql_where=text(_ACTIVE_CODE),
            sqlite_where=text(_ACTIVE_CODE),
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    price_fen: Mapped[int] = mapped_column(Money)
    stock: Mapped[int] = mapped_column(default=0)
    sold: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    list_price_fen: Mapped[int | None] = mapped_column(Money)  # 划线价: None, or at least price_fen
    code: Mapped[str | None] = mapped_column(String(64))  # 商家编码
    weight_g: Mapped[int | None] = mapped_column()  # grams, for weight-based shipping templates
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"颜色": "红", "尺码": "M"}; {} without specs
    product: Mapped[Product] = relationship(back_populates="skus", lazy="raise")
