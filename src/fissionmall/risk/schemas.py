"""The risk layer's request and response shapes."""

from __future__ import annotations

from typing import Annotated

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
