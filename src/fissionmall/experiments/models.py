"""Experiments, their arms, and each shopper's one exposure (the arm they were shown, and when)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fissionmall.core.db import Base, BigId


class Experiment(Base):
    __tablename__ = "experiments"
    __table_args__ = (
        CheckConstraint("coverage_bp >= 0 AND coverage_bp <= 10000", name="coverage"),
        Index("ix_experiments_live", "status", "ends_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[int | None]  # None: the whole shop (a campaign), else carts with this product
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | ended
    coverage_bp: Mapped[int] = mapped_column(default=10_000)  # share of shoppers in the test
    min_sample: Mapped[int] = mapped_column(default=1000)  # visitors per arm before any verdict
    max_cost_bp: Mapped[int] = mapped_column(default=3000)  # guardrail: promotion cost / GMV
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    winner_arm_id: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    arms: Mapped[list[ExperimentArm]] = relationship(
        order_by="ExperimentArm.position", lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )


class ExperimentArm(Base):
    __tablename__ = "experiment_arms"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(32))
    weight: Mapped[int]
    control: Mapped[bool] = mapped_column(default=False)  # what shoppers outside the test see
    # the plan: {"promotion_ids": [...], "coupon_template_ids": [...]}
    plan: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Exposure(Base):
    """One row per (experiment, shopper), written once (ON CONFLICT DO NOTHING): the shopper's arm."""

    __tablename__ = "experiment_exposures"
    experiment_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    arm_id: Mapped[int]
    at: Mapped[datetime]
