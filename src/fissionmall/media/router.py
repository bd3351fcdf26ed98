"""The media library's admin API: upload, list, hide (staff with the catalogue permission); and the shopper's
photo upload (after-sales evidence), POST /api/v1/me/uploads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Response, UploadFile

from fissionmall.accounts.deps import Admin, CurrentCustomer, require
from fissionmall.core.deps import Cursor, DbDep, Limit, SettingsDep
from fissionmall.core.http import allow_uploads
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.media import service
from fissionmall.media.errors import MediaError
from fissionmall.media.schemas import MediaAdmin

router = APIRouter(tags=["media"])
admin_router = APIRouter(tags=["admin: media"])
# The body cap of the upload routes (core/http.py): the media limit plus the multipart envelope.
allow_uploads("/api/admin/v1/media", code=MediaError.MEDIA_TOO_LARGE)
allow_uploads("/admin/media/upload", code=MediaError.MEDIA_TOO_LARGE)
allow_uploads("/api/v1/me/uploads", code=MediaError.MEDIA_TOO_LARGE, limit=lambda: service.PHOTO_MAX_BYTES + 64 * 1024)

CatalogWrite = Annotated[Admin, Depends(require("catalog"))]
CatalogRead = Annotated[Admin, Depends(require("catalog.read"))]


@admin_router.post("/media", response_model=MediaAdmin, status_code=201)
async def upload(
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
    who: CatalogWrite,
    db: DbDep,
    settings: SettingsDep,
) -> MediaAdmin:
    data = await service.read_upload(file, max_bytes=settings.media_max_bytes)
    asset = await service.upload(db, data=data, filename=file.filename, admin_id=who.id, settings=settings)
    return service.to_admin(asset)


@admin_router.get("/media", response_model=Page[MediaAdmin])
async def library(_: CatalogRead, db: DbDep, limit: Limit = None, cursor: Cursor = None) -> Page[MediaAdmin]:
    async with db.read() as s:
        rows, nxt = await service.library(s, before_id=parse_cursor(cursor), limit=page_limit(limit, default=40))
        return Page(items=[service.to_admin(a) for a in rows], next_cursor=nxt)


@admin_router.delete("/media/{media_id}", status_code=204)
async def hide(media_id: IdPath, _: CatalogWrite, db: DbDep) -> Response:
    async with db.tx() as s:
        await service.hide(s, asset_id=media_id)
    return Response(status_code=204)


@router.post("/me/uploads", status_code=201)
async def upload_photo(
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, up to 5 MB")],
    caller: CurrentCustomer,
    settings: SettingsDep,
) -> dict[str, str]:
    """Upload one photo (an after-sales request's evidence); the answer's url goes in the request's images."""
    data = await service.read_upload(file, max_bytes=service.PHOTO_MAX_BYTES)
    return {"url": await service.store_photo(settings=settings, customer_id=caller.id, data=data)}
