"""The risk layer's request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from fissionmall.core.schemas import ApiModel

N = Annotated[int, Field(strict=True, ge=1, le=1_000_000_000)]


class RiskLimits(ApiModel):
    window_seconds: Annotated[int, Field(strict=True, ge=1, le=3600)]
    per_user: N
    per_ip: N
    per_device: N
    captcha_after: N
    token_lead_seconds: Annotated[int, Field(strict=True, ge=0, le=86400)]


class HelpLimitsAdmin(ApiModel):
    """The bargain-help gate (砍价助力): see risk.rules.HelpLimits."""

    same_network: bool
    new_account_minutes: Annotated[int, Field(strict=True, ge=0, le=100_000)]
    burst_window_seconds: Annotated[int, Field(strict=True, ge=1, le=86_400)]
    burst_new_accounts: N
    free_helps: N


# ---- the rulebook, decisions, reviews, credit and lists (risk/api.py) --------------------------------

RuleName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")]


class RuleBody(ApiModel):
    """A rule: `condition` in the rule language (docs/risk.md), for `actions` ([] = every act)."""

    name: RuleName
    label: Annotated[str, Field(min_length=1, max_length=64)]
    actions: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=20)] = []
    condition: Annotated[str, Field(min_length=1, max_length=1000)]
    outcome: Literal["allow", "challenge", "degrade", "review", "deny"]
    penalty: Annotated[int, Field(strict=True, ge=0, le=100)] = 0
    enabled: bool = True
    position: Annotated[int, Field(strict=True, ge=0, le=10_000)] = 100
    confirm: bool = False  # needed to save a rule that refuses every shopper


class RulePreviewBody(ApiModel):
    actions: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=20)] = []
    condition: Annotated[str, Field(min_length=1, max_length=1000)]
    outcome: Literal["allow", "challenge", "degrade", "review", "deny"] = "deny"


class RuleAdmin(ApiModel):
    id: int
    name: str
    label: str
    actions: list[str]
    condition: str
    outcome: str
    penalty: int
    enabled: bool
    position: int
    created_at: datetime
    updated_at: datetime


class PreviewSample(ApiModel):
    decision_id: int
    at: datetime
    action: str
    customer_id: int | None
    outcome: str


class RulePreview(ApiModel):
    decisions: int  # decisions of the last 24 h looked at
    applies: int  # of them, acts the rule is for
    fired: int  # would fire on
    stricter: int  # would have been judged more strictly than they were
    unknown: int  # lacked a fact the rule names (recorded before a rule asked for it)
    customers: int
    denies_everyone: bool
    samples: list[PreviewSample]


class DecisionAdmin(ApiModel):
    id: int
    at: datetime
    action: str
    outcome: str
    customer_id: int | None
    device_id: str | None
    ip: str | None
    reasons: list[str]
    facts: dict[str, Any]


class ReviewAdmin(ApiModel):
    id: int
    kind: str
    kind_label: str
    ref_id: int
    customer_id: int | None
    reasons: list[str]
    status: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: int | None
    decided_by_name: str
    note: str


class ReviewDecide(ApiModel):
    decision: Literal["release", "void"]
    note: Annotated[str, Field(max_length=200)] = ""


class CreditAdmin(ApiModel):
    customer_id: int
    score: int
    frozen: bool
    note: str


class CreditUpdate(ApiModel):
    clear: bool = False  # back to a full score
    frozen: bool | None = None
    note: Annotated[str, Field(max_length=200)] = ""


class ListEntryCreate(ApiModel):
    kind: Literal["block", "allow"]
    dim: Literal["customer", "device", "ip", "ip24", "phone", "address", "distributor"]
    value: Annotated[str, Field(min_length=1, max_length=64)]
    note: Annotated[str, Field(max_length=200)] = ""


class ListEntryAdmin(ApiModel):
    id: int
    kind: str
    dim: str
    value: str
    note: str
    created_at: datetime
