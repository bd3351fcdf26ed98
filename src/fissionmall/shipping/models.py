"""运费模板 rows. A template's rules, free-shipping conditions and not-delivered regions are value lists
edited as a whole with the template, so they live in JSON columns beside it (shipping/rules.py reads them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId


class ShippingTemplate(Base):
    __tablename__ = "shipping_templates"
    __table_args__ = (
        # Exactly one default while any template exists: the service keeps it, this index forbids a second.
        Index(
            "uq_shipping_templates_default",
            "is_default",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))  # piece | weight
    is_default: Mapped[bool] = mapped_column(default=False)
    # {first_units, first_fee_fen, additional_units, additional_fee_fen}
    default_rule: Mapped[dict[str, Any]] = mapped_column()
    rules: Mapped[list[Any]] = mapped_column(default=list)  # [{regions: [code], first_units, …}]
    free: Mapped[list[Any]] = mapped_column(default=list)  # [{min_amount_fen?, min_count?, regions: [code]}]
    not_delivered: Mapped[list[Any]] = mapped_column(default=list)  # [code]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
