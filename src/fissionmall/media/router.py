"""The media library's admin API: upload, list, hide (staff with the catalogue permission)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Response, UploadFile

from fissionmall.accounts.deps import Admin, require
from fissionmall.core.deps import Cursor, DbDep, Limit, SettingsDep
from fissionmall.core.http import allow_uploads
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.media import service
from fissionmall.media.errors import MediaError
from fissionmall.media.schemas import MediaAdmin

admin_router = APIRouter(tags=["admin: media"])
# The body cap of the upload routes (core/http.py): the media limit plus the multipart envelope.
allow_uploads("/api/admin/v1/media", code=MediaError.MEDIA_TOO_LARGE)
allow_uploads("/admin/media/upload", code=MediaError.MEDIA_TOO_LARGE)

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
