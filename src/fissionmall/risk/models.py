"""Risk tables: the flash-sale limits (one JSON row per scope), the rulebook, decisions, credit, lists, reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId


class RiskRules(Base):
    __tablename__ = "risk_rules"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), unique=True)  # e.g. "seckill"
    rules: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class RiskRule(Base):
    """One rule of the rulebook: when `condition` holds for an act of one of `actions`, the act gets
    `outcome` (and the shopper's credit loses `penalty`)."""

    __tablename__ = "risk_rulebook"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(48), unique=True)
    label: Mapped[str] = mapped_column(String(64))
    actions: Mapped[list[Any]]  # [] = every act
    condition: Mapped[str] = mapped_column(String(1000))
    outcome: Mapped[str] = mapped_column(String(16))
    penalty: Mapped[int] = mapped_column(default=0)
    enabled: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=100)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RiskDecision(Base):
    """One decision `check` made (or a tool's `report`), with the facts the rules saw."""

    __tablename__ = "risk_decisions"
    __table_args__ = (
        Index("ix_risk_decisions_at", "at", "id"),
        Index("ix_risk_decisions_customer", "customer_id", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(BigId)
    device_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    reasons: Mapped[list[Any]]
    facts: Mapped[dict[str, Any]]


class RiskCredit(Base):
    """A shopper's credit, shared by every tool: `score` as of `scored_at` (it recovers from there)."""

    __tablename__ = "risk_credit"
    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    score: Mapped[int]
    scored_at: Mapped[datetime]
    frozen: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime]


class RiskListEntry(Base):
    """A block or allow list entry for a shopper, device, address, network (/24), phone or address hash."""

    __tablename__ = "risk_lists"
    __table_args__ = (UniqueConstraint("kind", "dim", "value"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # block | allow
    dim: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


class RiskReview(Base):
    """A benefit held for a person: pending until released or voided, once."""

    __tablename__ = "risk_reviews"
    __table_args__ = (UniqueConstraint("kind", "ref_id"), Index("ix_risk_reviews_status", "status", "id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    ref_id: Mapped[int] = mapped_column(BigId)
    customer_id: Mapped[int | None] = mapped_column(BigId)
    reasons: Mapped[list[Any]]
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | released | voided
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(BigId)
    decided_by_name: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
