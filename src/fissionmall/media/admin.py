"""Console pages: the media library (素材库) and the JSON routes the gallery widget calls.

`/admin/media` lists the library as a grid (upload by drag-and-drop or picker, delete); the widget
(static/console/gallery.js) uploads through `POST /admin/media/upload` with the console's CSRF header and
pages the library through `GET /admin/media/library.json`. `/admin/media/try` is a small form that shows
what a form with the widget submits (the images in order, ids resolved to URLs).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response

from fissionmall.core.errors import AppError
from fissionmall.core.schemas import IdPath
from fissionmall.media import service
from fissionmall.media.models import MediaAsset
from fissionmall.web.console import Console, console, cursor_of, error_text, form_list, page_link, render

router = APIRouter(prefix="/admin/media", include_in_schema=False)
NAV = [("media", "素材库", "/admin/media", "catalog.read")]
NAV_SECTION = "catalog"

MediaRead = Annotated[Console, Depends(console("catalog.read"))]
MediaWrite = Annotated[Console, Depends(console("catalog"))]
GRID_PAGE = 40


def _tile(a: MediaAsset) -> dict[str, Any]:
    """An asset as the widget reads it: the admin API's fields."""
    return service.to_admin(a).model_dump(mode="json")


def size_text(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


async def _page(ctx: Console, cursor: str | None, limit: int) -> tuple[list[MediaAsset], str | None]:
    async with ctx.db.read() as s:
        return await service.library(s, before_id=cursor_of(cursor), limit=limit)


@router.get("")
async def library_page(ctx: MediaRead, cursor: str | None = None) -> Response:
    rows, nxt = await _page(ctx, cursor, GRID_PAGE)
    return render(
        ctx,
        "media/library.html",
        active="media",
        tiles=[_tile(a) | {"size": size_text(a.bytes)} for a in rows],
        next_url=page_link(ctx.request, nxt),
        paged=bool(cursor),
        max_mb=ctx.settings.media_max_bytes // (1024 * 1024),
    )


@router.get("/library.json")
async def library_json(ctx: MediaRead, cursor: str | None = None) -> JSONResponse:
    rows, nxt = await _page(ctx, cursor, GRID_PAGE)
    return JSONResponse({"items": [_tile(a) for a in rows], "next_cursor": nxt}, headers={"Cache-Control": "no-store"})


@router.post("/upload")
async def upload(ctx: MediaWrite, file: Annotated[UploadFile, File()]) -> JSONResponse:
    try:
        data = await service.read_upload(file, max_bytes=ctx.settings.media_max_bytes)
        asset = await service.upload(
            ctx.db, data=data, filename=file.filename, admin_id=ctx.admin.id, settings=ctx.settings
        )
    except AppError as exc:
        body = exc.body()
        body["error"]["message"] = error_text(exc)
        return JSONResponse(body, status_code=exc.status)
    return JSONResponse(_tile(asset), status_code=201)


@router.post("/{media_id}/delete")
async def delete(ctx: MediaWrite, media_id: IdPath) -> Response:
    try:
        async with ctx.db.tx() as s:
            await service.hide(s, asset_id=media_id)
    except AppError as exc:
        if "application/json" in ctx.request.headers.get("accept", ""):
            return JSONResponse(exc.body(), status_code=exc.status)
        return render(ctx, "message.html", status_code=exc.status, title="删除失败", message=error_text(exc))
    if "application/json" in ctx.request.headers.get("accept", ""):
        return Response(status_code=204)
    return RedirectResponse("/admin/media?ok=1", status_code=303)


@router.get("/try")
async def try_form(ctx: MediaRead) -> Response:
    return render(ctx, "media/try.html", active="media", images=[], submitted=None, error="")


@router.post("/try")
async def try_submit(ctx: MediaRead) -> Response:
    form = await ctx.request.form()
    refs: list[int | str] = [r for r in form_list(form, "images") if r]
    try:
        async with ctx.db.read() as s:
            urls = await service.resolve_refs(s, refs=refs)
    except AppError as exc:
        return render(
            ctx,
            "media/try.html",
            status_code=exc.status,
            active="media",
            images=[],
            submitted=None,
            error=error_text(exc),
        )
    return render(ctx, "media/try.html", active="media", images=urls, submitted=urls, error="")
