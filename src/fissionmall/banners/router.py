"""首页轮播图: GET /api/v1/banners for the shop home (public), CRUD and order under
/api/admin/v1/banners for staff with the catalogue permission."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from fissionmall.accounts.deps import Admin, require
from fissionmall.banners import service
from fissionmall.banners.schemas import BannerAdmin, BannerCreate, BannerList, BannerMove, BannerUpdate
from fissionmall.core.deps import DbDep
from fissionmall.core.schemas import IdPath

router = APIRouter(tags=["banners"])
admin_router = APIRouter(tags=["admin: banners"])

# The home page's banners are shop decoration beside its products: whoever edits products edits them.
BannerWrite = Annotated[Admin, Depends(require("catalog"))]
BannerRead = Annotated[Admin, Depends(require("catalog.read"))]
MAX_AGE_SECONDS = 30  # a banner's window opens or closes in the shop within half a minute


@router.get("/banners", response_model=BannerList)
async def shop_banners(db: DbDep, response: Response) -> dict[str, Any]:
    """The home page's carousel: active banners inside their window, in the merchant's order."""
    async with db.read() as s:
        items = await service.shop_banners(s)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    return {"items": items}


@admin_router.get("/banners", response_model=list[BannerAdmin])
async def list_banners(_: BannerRead, db: DbDep) -> list[BannerAdmin]:
    """Every banner, in the carousel's order."""
    async with db.read() as s:
        return await service.to_admin(s, banners=await service.list_banners(s))


@admin_router.post("/banners", response_model=BannerAdmin, status_code=201)
async def create_banner(body: BannerCreate, _: BannerWrite, db: DbDep) -> BannerAdmin:
    async with db.tx() as s:
        b = await service.create_banner(s, data=body)
        return (await service.to_admin(s, banners=[b]))[0]


@admin_router.get("/banners/{banner_id}", response_model=BannerAdmin)
async def get_banner(banner_id: IdPath, _: BannerRead, db: DbDep) -> BannerAdmin:
    async with db.read() as s:
        return (await service.to_admin(s, banners=[await service.get_banner(s, banner_id=banner_id)]))[0]


@admin_router.put("/banners/{banner_id}", response_model=BannerAdmin)
async def update_banner(banner_id: IdPath, body: BannerUpdate, _: BannerWrite, db: DbDep) -> BannerAdmin:
    async with db.tx() as s:
        b = await service.update_banner(s, banner_id=banner_id, data=body)
        return (await service.to_admin(s, banners=[b]))[0]


@admin_router.post("/banners/{banner_id}/move", response_model=list[BannerAdmin])
async def move_banner(banner_id: IdPath, body: BannerMove, _: BannerWrite, db: DbDep) -> list[BannerAdmin]:
    """Swap with the neighbour above (`up`) or below (`down`); answers the new order."""
    async with db.tx() as s:
        await service.move_banner(s, banner_id=banner_id, direction=body.direction)
        return await service.to_admin(s, banners=await service.list_banners(s))


@admin_router.delete("/banners/{banner_id}", status_code=204)
async def delete_banner(banner_id: IdPath, _: BannerWrite, db: DbDep) -> Response:
    async with db.tx() as s:
        await service.delete_banner(s, banner_id=banner_id)
    return Response(status_code=204)
