"""Risk rules an operator can tune (one row, JSON): rate limits and the captcha soft limit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId


class RiskRules(Base):
    __tablename__ = "risk_rules"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. "seckill"
    rules: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
