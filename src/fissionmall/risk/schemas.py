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
