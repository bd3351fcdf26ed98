"""Experiments over the admin API: create/update bodies, what the admin reads, results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from fissionmall.core import clock
from fissionmall.core.schemas import ApiDateTime, ApiModel, Bp, DateTimeIn, Patch

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
ArmName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Id = Annotated[int, Field(strict=True, ge=1, le=2**53)]
Weight = Annotated[int, Field(strict=True, ge=1, le=10_000)]
MinSample = Annotated[int, Field(strict=True, ge=10, le=10_000_000)]


class PlanIn(ApiModel):
    """What an arm's shoppers get: promotions (满减/满赠/限时折扣…) and coupon templates (issued on exposure)."""

    promotion_ids: Annotated[list[Id], Field(max_length=20)] = []
    coupon_template_ids: Annotated[list[Id], Field(max_length=20)] = []


class ArmIn(ApiModel):
    name: ArmName
    weight: Weight
    plan: PlanIn = PlanIn()
    control: bool = False  # the arm shoppers outside the test see (today's offer); at most one


Arms = Annotated[list[ArmIn], Field(min_length=2, max_length=6)]


class ExperimentCreate(ApiModel):
    name: Name
    product_id: Id | None = None
    arms: Arms
    starts_at: DateTimeIn
    ends_at: DateTimeIn
    coverage_bp: Bp = 10_000
    min_sample: MinSample = 1000
    max_cost_bp: Bp = 3000


class ExperimentUpdate(ApiModel):
    name: Patch[Name] = None
    arms: Patch[Arms] = None
    starts_at: Patch[DateTimeIn] = None
    ends_at: Patch[DateTimeIn] = None
    coverage_bp: Patch[Bp] = None
    min_sample: Patch[MinSample] = None
    max_cost_bp: Patch[Bp] = None


class KeepWinner(ApiModel):
    arm_id: Id


class ArmAdmin(ApiModel):
    id: int
    name: str
    weight: int
    control: bool
    plan: dict[str, list[int]]


class ExperimentAdmin(ApiModel):
    id: int
    name: str
    product_id: int | None
    status: str
    running: bool
    coverage_bp: int
    min_sample: int
    max_cost_bp: int
    starts_at: ApiDateTime
    ends_at: ApiDateTime
    ended_at: ApiDateTime | None
    winner_arm_id: int | None
    arms: list[ArmAdmin]
    created_at: datetime


class ResultsAdmin(ApiModel):
    experiment_id: int
    verdict: str  # insufficient_sample | srm | no_difference | winner
    verdict_text: str
    winner_arm_id: int | None
    control_arm_id: int
    methods: dict[str, str]
    srm: dict[str, Any]
    arms: list[dict[str, Any]]


def experiment_out(e: Any) -> ExperimentAdmin:
    """An experiment row (with its arms) as the admin API shows it."""
    now = clock.now()
    return ExperimentAdmin(
        id=e.id,
        name=e.name,
        product_id=e.product_id,
        status=e.status,
        running=e.status == "active" and e.starts_at <= now < e.ends_at,
        coverage_bp=e.coverage_bp,
        min_sample=e.min_sample,
        max_cost_bp=e.max_cost_bp,
        starts_at=e.starts_at,
        ends_at=e.ends_at,
        ended_at=e.ended_at,
        winner_arm_id=e.winner_arm_id,
        arms=[
            ArmAdmin(
                id=a.id,
                name=a.name,
                weight=a.weight,
                control=a.control,
                plan={k: [int(i) for i in a.plan.get(k, [])] for k in ("promotion_ids", "coupon_template_ids")},
            )
            for a in e.arms
        ],
        created_at=e.created_at,
    )
