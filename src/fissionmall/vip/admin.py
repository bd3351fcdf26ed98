"""Console pages under 客户: 付费会员 (plans: list, add, edit with 元 / 折 fields), 会员价 (SKU member prices
and member-only products, chosen with the picker), 付费会员名单 (who bought what, until when, refunds, and
the cooling-off refund action), and the card on the customer's page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from fissionmall.catalog.admin import clean_ids, picked_products, picked_skus
from fissionmall.core import extras
from fissionmall.core.errors import AppError
from fissionmall.coupons.models import CouponTemplate
from fissionmall.vip import plans, service, views
from fissionmall.vip.schemas import MemberPrices, PlanAdmin, PlanCreate, PlanUpdate
from fissionmall.web.console import (
    Console,
    FormErrors,
    FormInvalid,
    console,
    error_text,
    fen_from_yuan,
    form_list,
    form_text,
    local_time,
    money,
    not_found,
    off_bp_from_zhe,
    render,
    whole_number,
    yuan_field,
    zhe_field,
)

router = APIRouter(prefix="/admin/vip", include_in_schema=False)
NAV = [
    ("vip_plans", "付费会员", "/admin/vip/plans", "marketing.read"),
    ("vip_prices", "会员价", "/admin/vip/prices", "marketing.read"),
    ("vip_members", "付费会员名单", "/admin/vip/members", "customers.read"),
]
NAV_SECTION = "customers"

Read = Annotated[Console, Depends(console("marketing.read"))]
Write = Annotated[Console, Depends(console("marketing"))]
People = Annotated[Console, Depends(console("customers.read"))]
Refunds = Annotated[Console, Depends(console("refunds"))]

LABELS = {
    "name": "名称",
    "price_fen": "售价",
    "days": "有效天数",
    "discount_bp": "会员折扣",
    "grant_template_id": "每月赠券",
    "grant_count": "每月张数",
    "cooling_days": "无理由退款天数",
}
STATUS_ZH = {"active": "生效中", "refunded": "已退款", "pending": "待支付", "cancelled": "已取消"}
NOTICE = {"created": "会员方案已添加", "saved": "修改已保存", "prices": "会员价已保存", "refunded": "已办理退款"}


def _read_plan(form: FormData) -> tuple[dict[str, Any], dict[str, Any], FormErrors]:
    """The plan form as the admin API's body: 元 → fen, 折 → basis points paid, blanks as defaults."""
    errs = FormErrors()
    v: dict[str, Any] = {
        k: form_text(form, k, 64)
        for k in ("name", "price", "days", "zhe", "grant_template_id", "grant_count", "cooling_days")
    }
    v["active"] = form.get("active") == "on"
    price = fen_from_yuan(v["price"])
    if price is None:
        errs.add("price_fen", "售价格式不正确，请填写金额（元），例如 99")
    off = off_bp_from_zhe(v["zhe"]) if v["zhe"].strip() else 0
    if off is None:
        errs.add("discount_bp", "会员折扣格式不正确，请填写 0 到 9.9 之间的折数，例如 9.5；不打折请留空")
    body: dict[str, Any] = {
        "name": v["name"],
        "price_fen": price if price is not None else 1,
        "days": whole_number(v["days"]) if v["days"].strip() else 365,
        "discount_bp": 10_000 - (off or 0),
        "grant_template_id": whole_number(v["grant_template_id"]) or None,
        "grant_count": whole_number(v["grant_count"]) or 0,
        "cooling_days": whole_number(v["cooling_days"]) if v["cooling_days"].strip() else 0,
        "active": v["active"],
    }
    for k in ("days", "cooling_days"):
        if body[k] is None:
            errs.add(k, f"{LABELS[k]}请填写整数")
            body[k] = 1
    return body, v, errs


def _values(p: PlanAdmin | None) -> dict[str, Any]:
    if p is None:
        return {
            "name": "",
            "price": "",
            "days": "365",
            "zhe": "",
            "grant_template_id": "",
            "grant_count": "2",
            "cooling_days": "7",
            "active": True,
        }
    return {
        "name": p.name,
        "price": yuan_field(p.price_fen),
        "days": str(p.days),
        "zhe": zhe_field(10_000 - p.discount_bp) if p.discount_bp < 10_000 else "",
        "grant_template_id": str(p.grant_template_id or ""),
        "grant_count": str(p.grant_count),
        "cooling_days": str(p.cooling_days),
        "active": p.active,
    }


def _errors(exc: FormInvalid | AppError) -> dict[str, str]:
    if isinstance(exc, FormInvalid):
        return {path.split(".")[0]: message for path, message in exc.errors.items()}
    field = str(exc.detail.get("field") or "form")
    return {field if field in LABELS else "form": error_text(exc)}


async def _templates(ctx: Console) -> list[tuple[int, str]]:
    async with ctx.db.read() as s:
        rows = await s.execute(
            select(CouponTemplate.id, CouponTemplate.name).order_by(CouponTemplate.id.desc()).limit(200)
        )
        return [(i, n) for i, n in rows.all()]


async def _plan_page(
    ctx: Console, p: PlanAdmin | None, v: dict[str, Any], errors: dict[str, str] | None = None
) -> Response:
    return render(
        ctx,
        "vip/plan_form.html",
        status_code=422 if errors else 200,
        active="vip_plans",
        p=p,
        v=v,
        errors=errors or {},
        templates=await _templates(ctx),
        readonly=not ctx.can("marketing"),
    )


@router.get("/plans", response_class=HTMLResponse)
async def plans_page(ctx: Read, ok: str = "") -> Response:
    async with ctx.db.read() as s:
        rows = await plans.to_admin(s, plans=await plans.list_plans(s))
    return render(ctx, "vip/plans.html", active="vip_plans", rows=rows, notice=NOTICE.get(ok, ""))


@router.get("/plans/new", response_class=HTMLResponse)
async def new_plan(ctx: Write) -> Response:
    return await _plan_page(ctx, None, _values(None))


@router.post("/plans/new", response_class=HTMLResponse)
async def create_plan(ctx: Write) -> Response:
    body, v, errs = _read_plan(await ctx.request.form())
    try:
        data = errs.validate(PlanCreate, body, labels=LABELS)
        async with ctx.db.tx() as s:
            await plans.create_plan(s, data=data)
    except (FormInvalid, AppError) as exc:
        return await _plan_page(ctx, None, v, _errors(exc))
    return RedirectResponse("/admin/vip/plans?ok=created", status_code=303)


async def _one(ctx: Console, plan_id: int) -> PlanAdmin | None:
    async with ctx.db.read() as s:
        try:
            return (await plans.to_admin(s, plans=[await plans.get_plan(s, plan_id=plan_id)]))[0]
        except AppError:
            return None


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
async def plan_detail(plan_id: int, ctx: Read) -> Response:
    p = await _one(ctx, plan_id)
    if p is None:
        return not_found(ctx, "会员方案不存在")
    return await _plan_page(ctx, p, _values(p))


@router.post("/plans/{plan_id}", response_class=HTMLResponse)
async def save_plan(plan_id: int, ctx: Write) -> Response:
    p = await _one(ctx, plan_id)
    if p is None:
        return not_found(ctx, "会员方案不存在")
    body, v, errs = _read_plan(await ctx.request.form())
    try:
        data = errs.validate(PlanUpdate, body, labels=LABELS)
        async with ctx.db.tx() as s:
            await plans.update_plan(s, plan_id=plan_id, data=data)
    except (FormInvalid, AppError) as exc:
        return await _plan_page(ctx, p, v, _errors(exc))
    return RedirectResponse("/admin/vip/plans?ok=saved", status_code=303)


# ---- 会员价 --------------------------------------------------------------------------------------------


async def _prices_page(
    ctx: Console, rows: list[dict[str, Any]], only: list[int], error: str = "", notice: str = ""
) -> Response:
    chosen = {it["id"]: it for it in await picked_skus(ctx.db, [r["sku_id"] for r in rows])}
    return render(
        ctx,
        "vip/prices.html",
        status_code=422 if error else 200,
        active="vip_prices",
        rows=[{"item": chosen[r["sku_id"]], "price": r["price"]} for r in rows if r["sku_id"] in chosen],
        only=await picked_products(ctx.db, only),
        error=error,
        notice=notice,
        readonly=not ctx.can("marketing"),
    )


@router.get("/prices", response_class=HTMLResponse)
async def prices_page(ctx: Read, ok: str = "") -> Response:
    async with ctx.db.read() as s:
        saved = await plans.member_prices(s)
    rows = [{"sku_id": r.sku_id, "price": yuan_field(r.price_fen)} for r in saved.prices]
    return await _prices_page(ctx, rows, list(saved.member_only_product_ids), notice=NOTICE.get(ok, ""))


@router.post("/prices", response_class=HTMLResponse)
async def save_prices(ctx: Write) -> Response:
    form = await ctx.request.form()
    ids = [int(x) for x in form_list(form, "sku_id") if x.isdigit()]
    texts = form_list(form, "price")
    rows: list[dict[str, Any]] = [{"sku_id": i, "price": texts[n] if n < len(texts) else ""} for n, i in enumerate(ids)]
    only = clean_ids(form_list(form, "product_id"))
    body = []
    for r in rows:
        fen = fen_from_yuan(str(r["price"]))
        if fen is None:
            return await _prices_page(ctx, rows, only, error="会员价格式不正确，请填写金额（元），例如 89.90")
        body.append({"sku_id": r["sku_id"], "price_fen": fen})
    try:
        data = MemberPrices.model_validate({"prices": body, "member_only_product_ids": only})
        async with ctx.db.tx() as s:
            await plans.save_member_prices(s, data=data)
    except AppError as exc:
        return await _prices_page(ctx, rows, only, error=error_text(exc))
    except ValueError:
        return await _prices_page(ctx, rows, only, error="会员价须在 0 到 1 亿元之间，最多 500 个规格")
    return RedirectResponse("/admin/vip/prices?ok=prices", status_code=303)


# ---- 付费会员名单 ----------------------------------------------------------------------------------------


async def _members_page(ctx: Console, *, notice: str = "", error: str = "", status_code: int = 200) -> Response:
    async with ctx.db.read() as s:
        rows, _more = await views.purchases(s, limit=100)
    return render(
        ctx,
        "vip/members.html",
        status_code=status_code,
        active="vip_members",
        rows=rows,
        STATUS_ZH=STATUS_ZH,
        notice=notice,
        error=error,
    )


@router.get("/members", response_class=HTMLResponse)
async def members_page(ctx: People, ok: str = "") -> Response:
    return await _members_page(ctx, notice=NOTICE.get(ok, ""))


@router.post("/members/{purchase_id}/refund", response_class=HTMLResponse)
async def refund(purchase_id: int, ctx: Refunds) -> Response:
    reason = form_text(await ctx.request.form(), "reason", 200) or "商家办理无理由退款"
    try:
        async with ctx.db.tx() as s:
            await service.refund_purchase(s, purchase_id=purchase_id, reason=reason)
    except AppError as exc:
        return await _members_page(ctx, error=error_text(exc), status_code=exc.status)
    return RedirectResponse("/admin/vip/members?ok=refunded", status_code=303)


@extras.contributes(extras.CUSTOMER_PANELS)
async def _customer_vip(s: AsyncSession, customer_id: int) -> dict[str, Any]:
    got = await views.subscription(s, customer_id=customer_id)
    rows, _more = await views.purchases(s, customer_id=customer_id, limit=10)
    figures: tuple[tuple[str, extras.Cell], ...] = (
        ("状态", "生效中" if got.active else ("已过期" if got.until else "未开通")),
        ("方案", got.plan.name if got.plan else "—"),
        ("到期时间", local_time(got.until) if got.until else "—"),
        ("本期已赠券", f"{got.coupons_received} 张"),
    )
    table = tuple(
        (p.plan_name, money(p.price_fen), STATUS_ZH.get(p.status, p.status), local_time(p.until) if p.until else "—")
        for p in rows
    )
    refundable = next((p for p in rows if p.refundable), None)
    action = (
        (
            "无理由退款",
            f"/admin/vip/members/{refundable.id}/refund",
            (),
            f"退还「{refundable.plan_name}」并收回未用的赠券？",
            True,
        )
        if refundable is not None
        else None
    )
    panel = extras.CustomerPanel(
        "付费会员",
        45,
        figures,
        ("方案", "金额", "状态", "有效期至"),
        table,
        "没有买过付费会员",
        ("付费会员名单", "/admin/vip/members"),
        action,
    )
    return {"vip": panel}
