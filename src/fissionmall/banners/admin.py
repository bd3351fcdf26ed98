"""Console page 首页轮播 (设置): the shop home's banners listed with thumbnails, added and edited (image from
the 素材库 or uploaded, alt text, link to a product chosen with the picker or to the 领券中心, active, window
in the shop's zone), moved up and down, deleted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from fissionmall.banners import service
from fissionmall.banners.schemas import BannerAdmin, BannerCreate, BannerUpdate
from fissionmall.catalog.admin import clean_ids, picked_products
from fissionmall.core import clock
from fissionmall.core.errors import AppError
from fissionmall.web.console import (
    Console,
    FormErrors,
    FormInvalid,
    console,
    error_text,
    form_list,
    form_text,
    not_found,
    picker_value,
    render,
    shop_zone,
)

router = APIRouter(prefix="/admin/banners", include_in_schema=False)
NAV = [("banners", "首页轮播", "/admin/banners", "catalog.read")]
NAV_SECTION = "settings"

Read = Annotated[Console, Depends(console("catalog.read"))]
Write = Annotated[Console, Depends(console("catalog"))]

LINK_ZH = {"none": "不跳转", "product": "商品", "coupons": "领券中心"}
LABELS = {"image": "图片", "title": "标题", "link_kind": "跳转", "product_id": "商品", "active": "状态"}
NOTICE = {"created": "轮播图已添加", "saved": "修改已保存", "deleted": "轮播图已删除", "moved": "顺序已调整"}


def state(b: BannerAdmin) -> str:
    """The banner's state as the list shows it."""
    if not b.active:
        return "已停用"
    if b.live:
        return "展示中"
    return "已结束" if b.ends_at is not None and b.ends_at <= clock.now() else "未开始"


def _read_form(form: FormData) -> tuple[dict[str, Any], dict[str, Any], FormErrors]:
    """The form as the admin API's body, the values to show it again, and the form's own mistakes."""
    errs = FormErrors()
    zone = shop_zone()
    images = [u for u in form_list(form, "image") if u.strip()]
    kind = form_text(form, "link_kind") or "none"
    ids = clean_ids(form_list(form, "product_id"))
    v: dict[str, Any] = {
        "image": images[-1] if images else "",
        "title": form_text(form, "title", 200),
        "link_kind": kind,
        "product_ids": ids,
        "active": form.get("active") == "on",
        "starts_at": form_text(form, "starts_at"),
        "ends_at": form_text(form, "ends_at"),
    }
    if not images:
        errs.add("image", "请上传或从素材库选择一张图片")
    if kind == "product" and not ids:
        errs.add("product_id", "请选择跳转的商品")
    body: dict[str, Any] = {
        "image": v["image"],
        "title": v["title"],
        "link_kind": kind,
        "product_id": ids[0] if kind == "product" and ids else None,
        "active": v["active"],
        "starts_at": errs.when("starts_at", v["starts_at"], zone, "开始时间"),
        "ends_at": errs.when("ends_at", v["ends_at"], zone, "结束时间"),
    }
    return body, v, errs


def _values(b: BannerAdmin | None) -> dict[str, Any]:
    if b is None:
        return {"image": "", "title": "", "link_kind": "none", "product_ids": [], "active": True}
    zone = shop_zone()
    return {
        "image": b.image_url,
        "title": b.title,
        "link_kind": b.link_kind,
        "product_ids": [b.product_id] if b.product_id else [],
        "active": b.active,
        "starts_at": picker_value(b.starts_at, zone),
        "ends_at": picker_value(b.ends_at, zone),
    }


def _errors(exc: FormInvalid | AppError) -> dict[str, str]:
    if isinstance(exc, FormInvalid):
        return {path.split(".")[0]: message for path, message in exc.errors.items()}
    field = str(exc.detail.get("field") or "form")
    return {field if field in (*LABELS, "starts_at", "ends_at") else "form": error_text(exc)}


async def _page(
    ctx: Console, b: BannerAdmin | None, v: dict[str, Any], *, errors: dict[str, str] | None = None, **kw: Any
) -> Response:
    return render(
        ctx,
        "banners/form.html",
        status_code=422 if errors else 200,
        active="banners",
        b=b,
        v=v,
        chosen=await picked_products(ctx.db, v["product_ids"]),
        errors=errors or {},
        LINK_ZH=LINK_ZH,
        readonly=not ctx.can("catalog"),
        **kw,
    )


async def _list(ctx: Console, *, notice: str = "", error: str = "", status_code: int = 200) -> Response:
    async with ctx.db.read() as s:
        rows = await service.to_admin(s, banners=await service.list_banners(s))
    return render(
        ctx,
        "banners/list.html",
        status_code=status_code,
        active="banners",
        rows=rows,
        LINK_ZH=LINK_ZH,
        MAX_ACTIVE=service.MAX_ACTIVE,
        state=state,
        notice=notice,
        error=error,
    )


async def _one(ctx: Console, banner_id: int) -> BannerAdmin | None:
    async with ctx.db.read() as s:
        try:
            return (await service.to_admin(s, banners=[await service.get_banner(s, banner_id=banner_id)]))[0]
        except AppError:
            return None


@router.get("", response_class=HTMLResponse)
async def list_page(ctx: Read, ok: str = "") -> Response:
    return await _list(ctx, notice=NOTICE.get(ok, ""))


@router.get("/new", response_class=HTMLResponse)
async def new_page(ctx: Write) -> Response:
    return await _page(ctx, None, _values(None))


@router.post("/new", response_class=HTMLResponse)
async def create(ctx: Write) -> Response:
    body, v, errs = _read_form(await ctx.request.form())
    try:
        data = errs.validate(BannerCreate, body, labels=LABELS)
        async with ctx.db.tx() as s:
            await service.create_banner(s, data=data)
    except (FormInvalid, AppError) as exc:
        return await _page(ctx, None, v, errors=_errors(exc))
    return RedirectResponse("/admin/banners?ok=created", status_code=303)


@router.get("/{banner_id}", response_class=HTMLResponse)
async def detail(banner_id: int, ctx: Read) -> Response:
    b = await _one(ctx, banner_id)
    if b is None:
        return not_found(ctx, "轮播图不存在")
    return await _page(ctx, b, _values(b))


@router.post("/{banner_id}", response_class=HTMLResponse)
async def save(banner_id: int, ctx: Write) -> Response:
    b = await _one(ctx, banner_id)
    if b is None:
        return not_found(ctx, "轮播图不存在")
    body, v, errs = _read_form(await ctx.request.form())
    try:
        data = errs.validate(BannerUpdate, body, labels=LABELS)
        async with ctx.db.tx() as s:
            await service.update_banner(s, banner_id=banner_id, data=data)
    except (FormInvalid, AppError) as exc:
        return await _page(ctx, b, v, errors=_errors(exc))
    return RedirectResponse("/admin/banners?ok=saved", status_code=303)


async def _act(ctx: Console, work: Callable[[AsyncSession], Awaitable[None]], ok: str) -> Response:
    """Run a list row's action (move, delete); back to the list, with the refusal in words if any."""
    try:
        async with ctx.db.tx() as s:
            await work(s)
    except AppError as exc:
        return await _list(ctx, error=error_text(exc), status_code=exc.status)
    return RedirectResponse(f"/admin/banners?ok={ok}", status_code=303)


@router.post("/{banner_id}/move", response_class=HTMLResponse)
async def move(banner_id: int, ctx: Write) -> Response:
    direction = "up" if form_text(await ctx.request.form(), "direction") == "up" else "down"
    return await _act(ctx, lambda s: service.move_banner(s, banner_id=banner_id, direction=direction), "moved")


@router.post("/{banner_id}/delete", response_class=HTMLResponse)
async def delete(banner_id: int, ctx: Write) -> Response:
    return await _act(ctx, lambda s: service.delete_banner(s, banner_id=banner_id), "deleted")
