from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from fissionmall.core.schemas import ApiDateTime, ApiModel, Bp, DateTimeIn, Fen, Patch

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Id = Annotated[int, Field(strict=True, ge=1, le=2**53)]
Count = Annotated[int, Field(strict=True, ge=1, le=10_000_000)]


class TemplateCreate(ApiModel):
    name: Name
    description: Annotated[str, StringConstraints(max_length=200)] = ""
    kind: Literal["amount", "percent"]
    amount_fen: Fen = 0
    percent_bp: Bp = 0
    max_discount_fen: Fen | None = None
    threshold_fen: Fen = 0
    scope: Literal["all", "products", "categories"] = "all"
    scope_ids: Annotated[list[Id], Field(max_length=500)] = []
    scope_exclude: bool = False
    valid_from: DateTimeIn | None = None
    valid_until: DateTimeIn | None = None
    valid_days: Annotated[int, Field(strict=True, ge=1, le=3650)] | None = None
    claim_from: DateTimeIn | None = None
    claim_until: DateTimeIn | None = None
    total: Count | None = None
    per_user_limit: Annotated[int, Field(strict=True, ge=1, le=100)] = 1
    issue_mode: Literal["claim", "new_user", "operator"] = "claim"
    once_per_order: bool = False
    return_on_refund: bool = True
    status: Literal["active", "paused"] = "active"


class TemplateUpdate(ApiModel):
    name: Patch[Name] = None
    description: Patch[Annotated[str, StringConstraints(max_length=200)]] = None
    amount_fen: Patch[Fen] = None
    percent_bp: Patch[Bp] = None
    max_discount_fen: Fen | None = None
    threshold_fen: Patch[Fen] = None
    scope: Patch[Literal["all", "products", "categories"]] = None
    scope_ids: Patch[Annotated[list[Id], Field(max_length=500)]] = None
    scope_exclude: Patch[bool] = None
    valid_from: DateTimeIn | None = None
    valid_until: DateTimeIn | None = None
    valid_days: Annotated[int, Field(strict=True, ge=1, le=3650)] | None = None
    claim_from: DateTimeIn | None = None
    claim_until: DateTimeIn | None = None
    total: Count | None = None
    per_user_limit: Patch[Annotated[int, Field(strict=True, ge=1, le=100)]] = None
    once_per_order: Patch[bool] = None
    return_on_refund: Patch[bool] = None
    status: Patch[Literal["active", "paused"]] = None


class TemplateAdmin(ApiModel):
    id: int
    name: str
    description: str
    headline: str
    kind: str
    amount_fen: int
    percent_bp: int
    max_discount_fen: int | None
    threshold_fen: int
    scope: str
    scope_ids: list[int]
    scope_exclude: bool
    valid_from: ApiDateTime | None
    valid_until: ApiDateTime | None
    valid_days: int | None
    claim_from: ApiDateTime | None
    claim_until: ApiDateTime | None
    total: int | None
    issued: int
    used: int
    per_user_limit: int
    issue_mode: str
    once_per_order: bool
    return_on_refund: bool
    status: str
    created_at: ApiDateTime


class ClaimablePublic(ApiModel):
    id: int
    name: str
    headline: str
    description: str
    threshold_fen: int
    kind: str
    amount_fen: int
    percent_bp: int
    max_discount_fen: int | None
    remaining: int | None
    valid_until: ApiDateTime | None
    valid_days: int | None
    claimed: int  # how many the caller holds (0 when anonymous)
    per_user_limit: int
    can_claim: bool


class CouponPublic(ApiModel):
    id: int
    template_id: int
    name: str
    headline: str
    status: str
    source: str
    threshold_fen: int
    valid_from: ApiDateTime
    valid_until: ApiDateTime
    order_id: int | None
    claimed_at: ApiDateTime
    used_at: ApiDateTime | None


class IssueCreate(ApiModel):
    customer_ids: Annotated[list[Id], Field(min_length=1, max_length=1000)]
    batch: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_\-]{1,40}$")] | None = None


class IssueResult(ApiModel):
    issued: int
    skipped: list[dict[str, Any]]
