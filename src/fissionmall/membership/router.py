"""会员等级: the member centre (GET /me/level, PUT /me/birthday, GET /me/member-prices), the member day's
banner and the levels (public), and under /api/admin/v1/membership the level editor, the member day
and the level rules (permission marketing)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from fissionmall.accounts.deps import Admin, CurrentCustomer, require
from fissionmall.core import clock
from fissionmall.core.deps import DbDep
from fissionmall.core.schemas import IdPath
from fissionmall.membership import config, growth, levels, shop
from fissionmall.membership.schemas import (
    BirthdayIn,
    LevelAdmin,
    LevelCreate,
    LevelPublic,
    LevelRules,
    LevelUpdate,
    MeLevel,
    MemberDay,
    MemberDayIn,
    MemberDayPublic,
    MemberPrices,
)

router = APIRouter(tags=["membership"])
admin_router = APIRouter(tags=["admin: membership"])

Write = Annotated[Admin, Depends(require("marketing"))]
Read = Annotated[Admin, Depends(require("marketing.read"))]
ProductId = Annotated[int, Query(ge=1, le=2**62)]


@router.get("/me/level", response_model=MeLevel)
async def me_level(caller: CurrentCustomer, db: DbDep) -> MeLevel:
    """The member centre: level, growth value in the window, the next level and every level's benefits."""
    async with db.read() as s:
        return await shop.me_level(s, customer_id=caller.id)


@router.put("/me/birthday")
async def put_birthday(body: BirthdayIn, caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """Set the birthday once (YYYY-MM-DD): the level's birthday coupon comes on that day each year."""
    async with db.tx() as s:
        day = await shop.set_birthday(s, customer_id=caller.id, text=body.birthday)
    return {"birthday": day.isoformat()}


@router.get("/me/member-prices", response_model=MemberPrices)
async def member_prices(product_id: ProductId, caller: CurrentCustomer, db: DbDep) -> MemberPrices:
    """A product's unit prices at the caller's level (and the member day's rate, on that day)."""
    async with db.read() as s:
        return await shop.member_prices(s, customer_id=caller.id, product_id=product_id)


@router.get("/membership/member-day", response_model=MemberDayPublic)
async def member_day(db: DbDep) -> MemberDayPublic:
    """The member day for the shop's banner: its settings, whether it is today, the next date."""
    async with db.read() as s:
        return config.member_day_public(await config.get_config(s), clock.now())


@router.get("/membership/levels", response_model=list[LevelPublic])
async def public_levels(db: DbDep) -> list[LevelPublic]:
    """Every level with what it gives, lowest first."""
    async with db.read() as s:
        ladder = await levels.specs(s)
    base = levels.base_of(ladder)
    return [levels.to_public(lv, base=lv.id == base.id) for lv in sorted(ladder, key=lambda x: x.rank)]


# ---- admin ---------------------------------------------------------------------------------------


@admin_router.get("/membership/levels", response_model=list[LevelAdmin])
async def list_levels(_: Read, db: DbDep) -> list[LevelAdmin]:
    """Every level by rank (the default ladder is saved on first use)."""
    async with db.tx() as s:
        return await levels.to_admin(s, levels=await levels.ensure_levels(s))


@admin_router.post("/membership/levels", response_model=LevelAdmin, status_code=201)
async def create_level(body: LevelCreate, _: Write, db: DbDep) -> LevelAdmin:
    async with db.tx() as s:
        row = await levels.create_level(s, data=body)
        return (await levels.to_admin(s, levels=[row]))[0]


@admin_router.get("/membership/levels/{level_id}", response_model=LevelAdmin)
async def get_level(level_id: IdPath, _: Read, db: DbDep) -> LevelAdmin:
    async with db.tx() as s:
        return (await levels.to_admin(s, levels=[await levels.get_level(s, level_id=level_id)]))[0]


@admin_router.put("/membership/levels/{level_id}", response_model=LevelAdmin)
async def update_level(level_id: IdPath, body: LevelUpdate, _: Write, db: DbDep) -> LevelAdmin:
    async with db.tx() as s:
        row = await levels.update_level(s, level_id=level_id, data=body)
        return (await levels.to_admin(s, levels=[row]))[0]


@admin_router.delete("/membership/levels/{level_id}", status_code=204)
async def delete_level(level_id: IdPath, _: Write, db: DbDep) -> Response:
    """Remove a level above the base (its members get the level their growth reaches without it)."""
    async with db.tx() as s:
        await levels.delete_level(s, level_id=level_id)
    return Response(status_code=204)


@admin_router.get("/membership/member-day", response_model=MemberDay)
async def get_member_day(_: Read, db: DbDep) -> MemberDay:
    async with db.read() as s:
        return (await config.get_config(s)).member_day


@admin_router.put("/membership/member-day", response_model=MemberDay)
async def put_member_day(body: MemberDayIn, _: Write, db: DbDep) -> MemberDay:
    """Replace the member day: {enabled, day_of_month 1-28 or "last", extra_rate_bp, double_points}."""
    async with db.tx() as s:
        day = await config.save_member_day(s, data=body)
        await growth.ensure_daily(s)
        return day


@admin_router.get("/membership/settings", response_model=LevelRules)
async def get_rules(_: Read, db: DbDep) -> LevelRules:
    async with db.read() as s:
        return (await config.get_config(s)).rules


@admin_router.put("/membership/settings", response_model=LevelRules)
async def put_rules(body: LevelRules, _: Write, db: DbDep) -> LevelRules:
    """Replace the level rules: the rolling window (1-36 months) and stacking with limited-time discounts."""
    async with db.tx() as s:
        saved = await config.save_rules(s, data=body)
        await growth.recompute_all(s, at=clock.now())
        return saved
