"""首页轮播图 rows: the shop home's carousel, in the merchant's order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId


class Banner(Base):
    __tablename__ = "banners"
    __table_args__ = (Index("ix_banners_active_sort", "active", "sort_order"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    image: Mapped[str] = mapped_column(String(500))  # a media URL (the 素材库's web copy)
    title: Mapped[str] = mapped_column(String(40))  # the image's alt text
    link_kind: Mapped[str] = mapped_column(String(16), default="none")  # none | product | coupons
    # Catalog owns products and never deletes one for real: the banner names it and keeps no foreign key.
    product_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    starts_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
