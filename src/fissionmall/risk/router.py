from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from fissionmall.accounts import service as accounts
from fissionmall.accounts.deps import Admin, require
from fissionmall.core.deps import DbDep
from fissionmall.core.schemas import ApiModel, IdPath
from fissionmall.risk import service
from fissionmall.risk.rules import HelpLimits, Limits
from fissionmall.risk.schemas import HelpLimitsAdmin, RiskLimits

admin_router = APIRouter(tags=["admin: risk"])


@admin_router.get("/risk/limits", response_model=RiskLimits)
async def get_limits(_: Annotated[Admin, Depends(require("marketing.read"))], db: DbDep) -> dict[str, int]:
    """Flash-sale rate limits, captcha soft limit and path-token lead time."""
    service.forget()
    return (await service.limits(db)).to_dict()


@admin_router.put("/risk/limits", response_model=RiskLimits)
async def put_limits(body: RiskLimits, _: Annotated[Admin, Depends(require("marketing"))], db: DbDep) -> dict[str, int]:
    return (await service.save_limits(db, new=Limits(**body.model_dump()))).to_dict()


@admin_router.get("/risk/help-limits", response_model=HelpLimitsAdmin)
async def get_help_limits(_: Annotated[Admin, Depends(require("marketing.read"))], db: DbDep) -> dict[str, Any]:
    """The bargain-help gate: the starter's network, bursts of fresh accounts, helps without a purchase."""
    service.forget()
    return (await service.help_limits(db)).to_dict()


@admin_router.put("/risk/help-limits", response_model=HelpLimitsAdmin)
async def put_help_limits(
    body: HelpLimitsAdmin, _: Annotated[Admin, Depends(require("marketing"))], db: DbDep
) -> dict[str, Any]:
    return (await service.save_help_limits(db, new=HelpLimits(**body.model_dump()))).to_dict()


class BlockCreate(ApiModel):
    blocked: bool


class BlockedAdmin(ApiModel):
    customer_id: int
    nickname: str
    blocked: bool


@admin_router.get("/risk/blocked", response_model=list[BlockedAdmin])
async def list_blocked(_: Annotated[Admin, Depends(require("marketing.read"))], db: DbDep) -> list[dict[str, Any]]:
    """Blocked shoppers (newest 200): every shopper call of theirs is refused ACCOUNT_BLOCKED."""
    rows = await accounts.blocked_customers(db)
    return [{"customer_id": c.id, "nickname": c.nickname, "blocked": True} for c in rows]


@admin_router.put("/risk/blocked/{customer_id}", response_model=BlockedAdmin)
async def put_blocked(
    customer_id: IdPath, body: BlockCreate, _: Annotated[Admin, Depends(require("marketing"))], db: DbDep
) -> dict[str, Any]:
    """Block a shopper across every tool (a scalper seen in a flash sale, say), or lift the block."""
    c = await accounts.set_blocked(db, customer_id=customer_id, blocked=body.blocked)
    return {"customer_id": c.id, "nickname": c.nickname, "blocked": c.is_blocked}


# The rulebook, decisions, review queue, credit and lists (risk/api.py).
from fissionmall.risk import api as _engine_api  # noqa: E402

admin_router.include_router(_engine_api.router)
