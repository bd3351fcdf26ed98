"""The points API's shapes: the merchant's rules (validated), balances, entries, sign-in, adjustments."""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from fissionmall.core.errors import AppError
from fissionmall.core.schemas import ApiDateTime, ApiModel, Bp
from fissionmall.points import rules
from fissionmall.points.errors import PointsError

Pts = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]


class StreakStep(ApiModel):
    day: Annotated[int, Field(strict=True, ge=2, le=366)]  # from this day of a streak on …
    points: Pts  # … every day pays this much more


class RulesUpdate(ApiModel):
    enabled: bool = False
    earn_per_yuan: Annotated[int, Field(strict=True, ge=0, le=1000)] = 1  # points per 元 paid for goods
    spend_points_per_yuan: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 100  # 100 points = 1 元
    spend_cap_bp: Bp = 5000  # points pay at most this share of the payable
    spend_unit: Annotated[int, Field(strict=True, ge=1, le=100_000)] = 100  # whole multiples only
    sign_in_enabled: bool = True
    sign_in_points: Pts = 5
    streak_bonus: Annotated[list[StreakStep], Field(max_length=30)] = [StreakStep(day=7, points=20)]
    review_points: Pts = 0
    leader_points: Pts = 0  # a group leader's reward when the activity names no points of its own
    expiry: Literal["next_year_end", "never"] = "next_year_end"
    # debt: a refund takes back the points its units earned even when they were spent (the balance may go
    # negative; later earnings pay the debt first). The only policy so far (docs/points.md).
    refund_policy: Literal["debt"] = "debt"

    @model_validator(mode="after")
    def _coherent(self) -> RulesUpdate:
        if not rules.unit_is_exact(unit=self.spend_unit, points_per_yuan=self.spend_points_per_yuan):
            raise AppError(PointsError.UNIT_INEXACT)
        steps = sorted((s.day, s.points) for s in self.streak_bonus)
        if len({d for d, _ in steps}) != len(steps):
            raise AppError(PointsError.STREAK_DAY_DUPLICATE)
        if any(b[1] < a[1] for a, b in pairwise(steps)):
            raise AppError(PointsError.STREAK_BONUS_DECREASING)
        return self

    def streak_table(self) -> list[tuple[int, int]]:
        """The bonus table as (day, points) pairs."""
        return [(s.day, s.points) for s in self.streak_bonus]


class RulesAdmin(RulesUpdate):
    """The rules as saved (defaults filled in)."""


class PointsPublic(ApiModel):
    points: int  # what can be spent (0 while a debt is open)
    debt: int  # points a refund took back after they were spent: later earnings pay it first
    expiring_points: int  # of `points`, what expires at `expiring_at`
    expiring_at: ApiDateTime | None
    spend_points_per_yuan: int
    spend_unit: int
    enabled: bool


class EntryPublic(ApiModel):
    id: int
    kind: str
    label: str
    points: int
    note: str | None
    created_at: ApiDateTime
    expires_at: ApiDateTime | None


class SignInResult(ApiModel):
    granted: int  # points granted by this call (0: already signed in today)
    streak: int
    points: int  # the balance after


class SignInDay(ApiModel):
    day: str  # YYYY-MM-DD
    points: int


class SignInCalendar(ApiModel):
    month: str  # YYYY-MM
    today: str  # YYYY-MM-DD, the shop's date (the calendar marks it)
    days: list[SignInDay]
    streak: int  # the current streak: yesterday's if today is not signed yet (0 once broken)
    signed_today: bool
    today_points: int  # what signing today pays (or paid)
    tomorrow_points: int  # what signing tomorrow pays, once today is signed (keeping the streak)
    enabled: bool


Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class AdjustmentCreate(ApiModel):
    delta: Annotated[int, Field(strict=True, ge=-1_000_000_000, le=1_000_000_000)]
    reason: Reason = ""


class AdjustmentResult(ApiModel):
    id: int
    delta: int
    balance: int
