"""Console pages 积分商城 and 兑换记录 (营销): the items with stock and redeemed units, created and edited
(a SKU chosen with the picker or a coupon template, points and the optional cash part in 元, stock, the
per-user limit, the window in the shop's zone), deleted (the stock goes back); the redemptions, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from fissionmall.catalog.admin import clean_ids, picked_skus
from fissionmall.core.errors import AppError
from fissionmall.coupons.models import CouponTemplate
from fissionmall.pointsmall import items as svc
from fissionmall.pointsmall import views
from fissionmall.pointsmall.schemas import ItemAdmin, ItemCreate, ItemUpdate
from fissionmall.web.console import (
    Console,
    FormErrors,
    FormInvalid,
    console,
    cursor_of,
    error_text,
    form_list,
    form_text,
    not_found,
    page_link,
    picker_value,
    render,
    shop_zone,
    yuan_field,
)

router = APIRouter(prefix="/admin/points-mall", include_in_schema=False)
NAV = [
    ("pointsmall", "积分商城", "/admin/points-mall", "marketing.read"),
    ("pointsmall_redemptions", "积分兑换记录", "/admin/points-mall/redemptions", "marketing.read"),
]
NAV_SECTION = "marketing"

Read = Annotated[Console, Depends(console("marketing.read"))]
Write = Annotated[Console, Depends(console("marketing"))]

KIND_ZH = {"product": "实物商品", "coupon": "优惠券"}
STATUS_ZH = {"granted": "已发券", "ordered": "待支付", "paid": "已支付", "cancelled": "已取消", "refunded": "已退款"}
LABELS = {
    "kind": "兑换类型",
    "title": "名称",
    "sku_id": "商品规格",
    "coupon_template_id": "优惠券",
    "points": "所需积分",
    "cash_fen": "加价金额",
    "stock": "兑换库存",
    "per_user_limit": "每人限兑",
    "sort_order": "排序",
}
NOTICE = {"created": "兑换商品已添加", "saved": "修改已保存", "deleted": "兑换商品已删除，剩余库存已退回商品"}
ERRORS_ZH = {"INSUFFICIENT_STOCK": "商品库存不足，无法划出这么多兑换库存"}


def _read_form(form: FormData, *, editing: bool) -> tuple[dict[str, Any], dict[str, Any], FormErrors]:
    """The form as the admin API's body, the values to show it again, and the form's own mistakes."""
    errs = FormErrors()
    zone = shop_zone()
    v: dict[str, Any] = {
        "kind": form_text(form, "kind") or "product",
        "sku_ids": clean_ids(form_list(form, "sku_id")),
        "coupon_template_id": form_text(form, "coupon_template_id"),
        "title": form_text(form, "title", 200),
        "points": form_text(form, "points", 20),
        "cash": form_text(form, "cash", 20),
        "stock": form_text(form, "stock", 20),
        "per_user_limit": form_text(form, "per_user_limit", 20),
        "sort_order": form_text(form, "sort_order", 20),
        "active": form.get("active") == "on",
        "starts_at": form_text(form, "starts_at"),
        "ends_at": form_text(form, "ends_at"),
    }
    body: dict[str, Any] = {
        "title": v["title"] or None,
        "points": v["points"],
        "cash_fen": v["cash"] or "0",
        "stock": v["stock"],
        "per_user_limit": v["per_user_limit"] or "0",
        "sort_order": v["sort_order"] or "0",
        "active": v["active"],
        "starts_at": errs.when("starts_at", v["starts_at"], zone, "开始时间"),
        "ends_at": errs.when("ends_at", v["ends_at"], zone, "结束时间"),
    }
    if not editing:
        body["kind"] = v["kind"]
        if v["kind"] == "product":
            body["sku_id"] = v["sku_ids"][0] if v["sku_ids"] else None
        else:
            body["coupon_template_id"] = v["coupon_template_id"] or None
    elif body["title"] is None:
        del body["title"]
    return body, v, errs


def _values(it: ItemAdmin | None) -> dict[str, Any]:
    if it is None:
        return {"kind": "product", "sku_ids": [], "per_user_limit": "1", "sort_order": "0", "active": True}
    zone = shop_zone()
    return {
        "kind": it.kind,
        "sku_ids": [it.sku_id] if it.sku_id else [],
        "coupon_template_id": str(it.coupon_template_id or ""),
        "title": it.title,
        "points": str(it.points),
        "cash": yuan_field(it.cash_fen) if it.cash_fen else "",
        "stock": str(it.stock),
        "per_user_limit": str(it.per_user_limit),
        "sort_order": str(it.sort_order),
        "active": it.active,
        "starts_at": picker_value(it.starts_at, zone),
        "ends_at": picker_value(it.ends_at, zone),
    }


def _errors(exc: FormInvalid | AppError) -> dict[str, str]:
    if isinstance(exc, FormInvalid):
        return {("cash" if p == "cash_fen" else p.split(".")[0]): m for p, m in exc.errors.items()}
    field = str(exc.detail.get("field") or "form")
    text = ERRORS_ZH.get(exc.code) or error_text(exc)
    return {("cash" if field == "cash_fen" else field) if field in (*LABELS, "starts_at", "ends_at") else "form": text}


async def _templates(ctx: Console) -> list[tuple[int, str]]:
    async with ctx.db.read() as s:
        rows = await s.execute(
            select(CouponTemplate.id, CouponTemplate.name)
            .where(CouponTemplate.status == "active")
            .order_by(CouponTemplate.id.desc())
            .limit(200)
        )
        return [(i, n) for i, n in rows.all()]


async def _page(
    ctx: Console, it: ItemAdmin | None, v: dict[str, Any], *, errors: dict[str, str] | None = None
) -> Response:
    return render(
        ctx,
        "pointsmall/form.html",
        status_code=422 if errors else 200,
        active="pointsmall",
        it=it,
        v=v,
        chosen=await picked_skus(ctx.db, v["sku_ids"]),
        templates=await _templates(ctx),
        errors=errors or {},
        KIND_ZH=KIND_ZH,
        readonly=not ctx.can("marketing"),
    )


async def _one(ctx: Console, item_id: int) -> ItemAdmin | None:
    async with ctx.db.read() as s:
        try:
            return (await views.to_admin(s, items=[await svc.get_item(s, item_id=item_id)]))[0]
        except AppError:
            return None


@router.get("", response_class=HTMLResponse)
async def list_page(ctx: Read, ok: str = "", error: str = "") -> Response:
    async with ctx.db.read() as s:
        rows = await views.to_admin(s, items=await svc.list_items(s))
    return render(
        ctx, "pointsmall/list.html", active="pointsmall", rows=rows, KIND_ZH=KIND_ZH, notice=NOTICE.get(ok, "")
    )


@router.get("/redemptions", response_class=HTMLResponse)
async def redemptions_page(ctx: Read, cursor: str = "", item: str = "") -> Response:
    item_id = int(item) if item.isdigit() and len(item) < 18 else None
    async with ctx.db.read() as s:
        rows, nxt = await views.redemptions(s, before_id=cursor_of(cursor), limit=50, item_id=item_id)
    return render(
        ctx,
        "pointsmall/redemptions.html",
        active="pointsmall_redemptions",
        rows=rows,
        STATUS_ZH=STATUS_ZH,
        KIND_ZH=KIND_ZH,
        next_url=page_link(ctx.request, nxt),
        paged=bool(cursor),
        first_url="/admin/points-mall/redemptions",
    )


@router.get("/new", response_class=HTMLResponse)
async def new_page(ctx: Write) -> Response:
    return await _page(ctx, None, _values(None))


@router.post("/new", response_class=HTMLResponse)
async def create(ctx: Write) -> Response:
    body, v, errs = _read_form(await ctx.request.form(), editing=False)
    if v["kind"] == "product" and not v["sku_ids"]:
        errs.add("sku_id", "请选择兑换的商品规格")
    if v["kind"] == "coupon" and not v["coupon_template_id"]:
        errs.add("coupon_template_id", "请选择兑换的优惠券")
    try:
        data = errs.validate(
            ItemCreate,
            body,
            money=["cash_fen"],
            whole=["points", "stock", "per_user_limit", "sort_order", "coupon_template_id"],
            labels=LABELS,
        )
        async with ctx.db.tx() as s:
            await svc.create_item(s, data=data)
    except (FormInvalid, AppError) as exc:
        return await _page(ctx, None, v, errors=_errors(exc))
    return RedirectResponse("/admin/points-mall?ok=created", status_code=303)


@router.get("/{item_id}", response_class=HTMLResponse)
async def detail(item_id: int, ctx: Read) -> Response:
    it = await _one(ctx, item_id)
    if it is None:
        return not_found(ctx, "兑换商品不存在")
    return await _page(ctx, it, _values(it))


@router.post("/{item_id}", response_class=HTMLResponse)
async def save(item_id: int, ctx: Write) -> Response:
    it = await _one(ctx, item_id)
    if it is None:
        return not_found(ctx, "兑换商品不存在")
    body, v, errs = _read_form(await ctx.request.form(), editing=True)
    v.update(
        kind=it.kind, sku_ids=[it.sku_id] if it.sku_id else [], coupon_template_id=str(it.coupon_template_id or "")
    )
    try:
        data = errs.validate(
            ItemUpdate,
            body,
            money=["cash_fen"],
            whole=["points", "stock", "per_user_limit", "sort_order"],
            labels=LABELS,
        )
        async with ctx.db.tx() as s:
            await svc.update_item(s, item_id=item_id, data=data)
    except (FormInvalid, AppError) as exc:
        return await _page(ctx, it, v, errors=_errors(exc))
    return RedirectResponse("/admin/points-mall?ok=saved", status_code=303)


@router.post("/{item_id}/delete", response_class=HTMLResponse)
async def delete(item_id: int, ctx: Write) -> Response:
    try:
        async with ctx.db.tx() as s:
            await svc.delete_item(s, item_id=item_id)
    except AppError as exc:
        return not_found(ctx, error_text(exc))
    return RedirectResponse("/admin/points-mall?ok=deleted", status_code=303)
