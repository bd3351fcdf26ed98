from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field

from fissionmall.accounts.deps import Admin, DbDep, require
from fissionmall.core.schemas import ApiModel
from fissionmall.risk import service
from fissionmall.risk.rules import Limits

admin_router = APIRouter(tags=["admin: risk"])
N = Annotated[int, Field(strict=True, ge=1, le=1_000_000_000)]


class LimitsIO(ApiModel):
    window_seconds: Annotated[int, Field(strict=True, ge=1, le=3600)]
    per_user: N
    per_ip: N
    per_device: N
    captcha_after: N
    token_lead_seconds: Annotated[int, Field(strict=True, ge=0, le=86400)]


@admin_router.get("/risk/limits", response_model=LimitsIO)
async def get_limits(_: Annotated[Admin, Depends(require("marketing.read"))], db: DbDep) -> dict[str, int]:
    """Flash-sale rate limits, captcha soft limit and path-token lead time."""
    service.forget()
    return (await service.limits(db)).to_dict()


@admin_router.put("/risk/limits", response_model=LimitsIO)
async def put_limits(body: LimitsIO, _: Annotated[Admin, Depends(require("marketing"))], db: DbDep) -> dict[str, int]:
    return (await service.save_limits(db, Limits(**body.model_dump()))).to_dict()
