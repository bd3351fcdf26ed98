"""Console pages: coupon templates (list with usage, create, edit, pause/resume, issue to shoppers).

The form speaks the merchant's units: amounts in 元, the discount in 折, validity with date-time pickers in
the shop's zone, the products a coupon covers chosen with the product picker and categories ticked by name.
Every mistake of one submit is shown beside its field at once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from fissionmall.catalog import service as catalog
from fissionmall.catalog.admin import clean_ids, picked_products
from fissionmall.core.errors import AppError, CoreError
from fissionmall.coupons import rules, service
from fissionmall.coupons.schemas import IssueCreate, TemplateCreate, TemplateUpdate
from fissionmall.web.console import (
    Console,
    FormErrors,
    FormInvalid,
    console,
    error_text,
    form_list,
    form_text,
    picker_value,
    render,
    shop_zone,
    yuan_field,
    zhe_field,
)

router = APIRouter(prefix="/admin/coupons", include_in_schema=False)
NAV = [("coupons", "优惠券", "/admin/coupons", "marketing.read")]
NAV_SECTION = "marketing"

Read = Annotated[Console, Depends(console("marketing.read"))]
Write = Annotated[Console, Depends(console("marketing"))]

KIND_ZH = {"amount": "满减券", "percent": "折扣券"}
MODE_ZH = {"claim": "领券中心", "new_user": "新人礼包", "operator": "定向发放"}
STATUS_ZH = {"active": "进行中", "paused": "已暂停"}
SCOPE_ZH = {"all": "全部商品", "products": "指定商品", "categories": "指定分类"}
COUPON_STATUS_ZH = {"available": "未使用", "locked": "下单占用", "used": "已使用", "expired": "已过期"}

MONEY = ("amount_fen", "threshold_fen", "max_discount_fen")
WHOLE = ("valid_days", "total", "per_user_limit")
LABELS = {
    "name": "名称",
    "description": "说明",
    "amount_fen": "减免金额",
    "threshold_fen": "使用门槛",
    "max_discount_fen": "最多减",
    "percent_bp": "折扣",
    "scope_ids": "适用范围",
    "valid_days": "有效天数",
    "valid_from": "生效时间",
    "valid_until": "截止时间",
    "claim_from": "开始领取时间",
    "claim_until": "停止领取时间",
    "total": "发放总量",
    "per_user_limit": "每人限领",
}
# A refusal of the rules (coupons.rules, after the schema) shown beside the field it is about.
REFUSAL_FIELD = {
    "COUPON_AMOUNT_REQUIRED": "amount_fen",
    "THRESHOLD_BELOW_DISCOUNT": "amount_fen",
    "COUPON_PERCENT_INVALID": "percent_bp",
    "SCOPE_IDS_REQUIRED": "scope_ids",
    "VALIDITY_INVALID": "valid_until",
    "VALIDITY_REVERSED": "valid_until",
    "VALIDITY_ENDED": "valid_until",
    "CLAIM_WINDOW_INVALID": "claim_until",
    "TOTAL_BELOW_ISSUED": "total",
}
WHEN = ("valid_from", "valid_until", "claim_from", "claim_until")


def zone_name() -> str:
    """The shop's zone as a merchant calls it ('北京时间'), for the hint beside the time pickers."""
    key = shop_zone().key
    return "北京时间" if key in ("Asia/Shanghai", "Asia/Chongqing", "PRC") else f"当地时间（{key}）"


def _scope_ids(form: FormData, scope: str) -> list[int]:
    """The picker's products, or the ticked categories: only the ones the chosen scope names."""
    if scope == "products":
        return clean_ids(form_list(form, "product_id"))
    if scope == "categories":
        return clean_ids(form_list(form, "category_id"))
    return []


def read_form(form: FormData, *, t: Any | None) -> TemplateCreate | TemplateUpdate:
    """The form as the admin API's schema, or `FormInvalid` with every mistake of this submit."""
    errs = FormErrors()
    kind = t.kind if t is not None else (form_text(form, "kind") or "amount")
    body: dict[str, Any] = {"name": form_text(form, "name", 200), "description": form_text(form, "description", 1000)}
    body["threshold_fen"] = form_text(form, "threshold") or "0"
    if kind == "amount":
        body["amount_fen"] = form_text(form, "amount")
        if not body["amount_fen"]:
            errs.add("amount_fen", "请填写减免金额")
    else:
        body["percent_bp"] = form_text(form, "zhe")
        body["max_discount_fen"] = form_text(form, "max_discount")
        if not body["percent_bp"]:
            errs.add("percent_bp", "请填写折扣，例如 8.5（即 8.5 折）")
    scope = form_text(form, "scope") or "all"
    body["scope"] = scope
    body["scope_ids"] = _scope_ids(form, scope)
    if scope != "all" and not body["scope_ids"]:
        errs.add("scope_ids", "请选择适用的商品" if scope == "products" else "请勾选适用的分类")
    body["scope_exclude"] = scope != "all" and form.get("scope_exclude") == "on"
    zone = shop_zone()
    if form_text(form, "validity") == "window":
        start = errs.when("valid_from", form_text(form, "valid_from"), zone, "生效时间")
        end = errs.when("valid_until", form_text(form, "valid_until"), zone, "截止时间")
        if not form_text(form, "valid_until"):
            errs.add("valid_until", "请选择截止时间")
        if t is not None and form_text(form, "valid_until") == picker_value(t.valid_until, zone):
            end = t.valid_until  # unchanged: keep the stored second, so an edit does not move the end
        body.update(valid_from=start, valid_until=end, valid_days=None)
    else:
        body["valid_days"] = form_text(form, "valid_days")
        if not body["valid_days"]:
            errs.add("valid_days", "请填写领取后有效天数")
        if t is not None:
            body.update(valid_from=None, valid_until=None)
    body["claim_from"] = errs.when("claim_from", form_text(form, "claim_from"), zone, "开始领取时间")
    body["claim_until"] = errs.when("claim_until", form_text(form, "claim_until"), zone, "停止领取时间")
    body["total"] = form_text(form, "total")
    if form_text(form, "per_user_limit"):
        body["per_user_limit"] = form_text(form, "per_user_limit")
    body["once_per_order"] = form.get("once_per_order") == "on"
    body["return_on_refund"] = form.get("return_on_refund") == "on"
    if t is None:
        body["kind"] = kind
        body["issue_mode"] = form_text(form, "issue_mode") or "claim"
    schema: type[TemplateCreate] | type[TemplateUpdate] = TemplateCreate if t is None else TemplateUpdate
    return errs.validate(schema, body, money=MONEY, zhe=("percent_bp",), whole=WHOLE, labels=LABELS)


def _values(t: Any | None) -> dict[str, Any]:
    """The form's fields as the merchant typed them (元, 折, picker times) for a template, or a new one's."""
    if t is None:
        return {
            "kind": "amount",
            "scope": "all",
            "issue_mode": "claim",
            "per_user_limit": "1",
            "validity": "days",
            "valid_days": "7",
            "return_on_refund": "on",
        }
    zone = shop_zone()
    return {
        "name": t.name,
        "description": t.description,
        "kind": t.kind,
        "amount": yuan_field(t.amount_fen or None),
        "threshold": yuan_field(t.threshold_fen or None),
        "max_discount": yuan_field(t.max_discount_fen or None),
        "zhe": zhe_field(t.percent_bp) if t.percent_bp else "",
        "scope": t.scope_kind,
        "scope_exclude": "on" if t.scope_exclude else "",
        "validity": "window" if t.valid_until else "days",
        "valid_days": str(t.valid_days or ""),
        "valid_from": picker_value(t.valid_from, zone),
        "valid_until": picker_value(t.valid_until, zone),
        "claim_from": picker_value(t.claim_from, zone),
        "claim_until": picker_value(t.claim_until, zone),
        "total": str(t.total or ""),
        "per_user_limit": str(t.per_user_limit),
        "issue_mode": t.issue_mode,
        "once_per_order": "on" if t.once_per_order else "",
        "return_on_refund": "on" if t.return_on_refund else "",
    }


def _typed(form: FormData, t: Any | None) -> dict[str, Any]:
    """What a refused form showed, to show it again (the chosen ids ride along for the pickers)."""
    v = {k: form_text(form, k) for k in form if k not in ("csrf_token", "product_id", "category_id")}
    v.setdefault("kind", t.kind if t is not None else "amount")
    if t is not None:
        v.update(kind=t.kind, issue_mode=t.issue_mode)
    return v


async def _form_page(
    ctx: Console,
    t: Any | None,
    v: dict[str, Any],
    *,
    scope_ids: list[int],
    errors: dict[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    async with ctx.db.read() as s:
        categories = [(c.id, c.name) for c in await catalog.list_categories(s)]
        use = await service.usage(s, template_id=t.id) if t is not None else {}
    products = await picked_products(ctx.db, scope_ids) if v.get("scope") == "products" else []
    return render(
        ctx,
        "coupons/form.html",
        status_code=status_code,
        active="coupons",
        t=t,
        v=v,
        errors=errors or {},
        usage=use,
        categories=categories,
        chosen_categories=set(scope_ids) if v.get("scope") == "categories" else set(),
        chosen_products=products,
        notice=notice,
        readonly=not ctx.can("marketing"),
        KIND_ZH=KIND_ZH,
        MODE_ZH=MODE_ZH,
        STATUS_ZH=STATUS_ZH,
        SCOPE_ZH=SCOPE_ZH,
        COUPON_STATUS_ZH=COUPON_STATUS_ZH,
        headline=rules.headline,
        zone_name=zone_name(),
    )


async def _template(ctx: Console, template_id: int) -> Any | None:
    async with ctx.db.read() as s:
        try:
            return await service.get_template(s, template_id=template_id)
        except AppError:
            return None


def _missing(ctx: Console) -> Response:
    return render(ctx, "message.html", status_code=404, title="找不到页面", message="优惠券不存在", level="error")


@router.get("", response_class=HTMLResponse)
async def templates_page(ctx: Read) -> Response:
    async with ctx.db.read() as s:
        rows, _ = await service.list_templates(s, limit=100)
    return render(
        ctx,
        "coupons/list.html",
        active="coupons",
        rows=rows,
        MODE_ZH=MODE_ZH,
        STATUS_ZH=STATUS_ZH,
        headline=rules.headline,
    )


@router.get("/new", response_class=HTMLResponse)
async def new_page(ctx: Write) -> Response:
    return await _form_page(ctx, None, _values(None), scope_ids=[])


async def _submit(ctx: Console, form: FormData, t: Any | None) -> Response:
    """Save the form (a new template when `t` is None); a refusal shows it again with every mistake marked."""
    try:
        data = read_form(form, t=t)
        async with ctx.db.tx() as s:
            if t is not None and isinstance(data, TemplateUpdate):
                saved = await service.update_template(s, template_id=t.id, data=data)
            elif isinstance(data, TemplateCreate):
                saved = await service.create_template(s, data=data)
    except AppError as exc:
        errors = {REFUSAL_FIELD.get(exc.code, "form"): error_text(exc)}
    except FormInvalid as exc:
        errors = exc.errors
    else:
        return RedirectResponse(f"/admin/coupons/{saved.id}?ok={'saved' if t else 'created'}", status_code=303)
    v = _typed(form, t)
    return await _form_page(ctx, t, v, scope_ids=_scope_ids(form, v.get("scope", "")), errors=errors, status_code=422)


@router.post("/new", response_class=HTMLResponse)
async def create(ctx: Write) -> Response:
    return await _submit(ctx, await ctx.request.form(), None)


@router.get("/{template_id}", response_class=HTMLResponse)
async def detail(template_id: int, ctx: Read, ok: str = "") -> Response:
    t = await _template(ctx, template_id)
    if t is None:
        return _missing(ctx)
    notice = {"created": "优惠券已创建", "saved": "修改已保存", "paused": "已暂停", "active": "已恢复"}.get(ok, "")
    if ok.startswith("issued"):
        notice = f"已发放 {ok.removeprefix('issued')} 张"
    return await _form_page(ctx, t, _values(t), scope_ids=list(t.scope_ids or []), notice=notice)


async def _refusal_page(ctx: Console, template_id: int, message: str) -> Response:
    t = await _template(ctx, template_id)
    if t is None:
        return _missing(ctx)
    return await _form_page(
        ctx, t, _values(t), scope_ids=list(t.scope_ids or []), errors={"form": message}, status_code=422
    )


@router.post("/{template_id}", response_class=HTMLResponse)
async def save(template_id: int, ctx: Write) -> Response:
    form = await ctx.request.form()
    t = await _template(ctx, template_id)
    return _missing(ctx) if t is None else await _submit(ctx, form, t)


@router.post("/{template_id}/status", response_class=HTMLResponse)
async def set_status(template_id: int, ctx: Write) -> Response:
    form = await ctx.request.form()
    status = form.get("status")
    if status not in STATUS_ZH:
        return await _refusal_page(ctx, template_id, "状态不正确")
    try:
        async with ctx.db.tx() as s:
            await service.update_template(s, template_id=template_id, data=TemplateUpdate(status=str(status)))  # type: ignore[arg-type]
    except AppError as exc:
        return await _refusal_page(ctx, template_id, error_text(exc))
    return RedirectResponse(f"/admin/coupons/{template_id}?ok={status}", status_code=303)


@router.post("/{template_id}/issue", response_class=HTMLResponse)
async def issue(template_id: int, ctx: Write) -> Response:
    form = await ctx.request.form()
    raw = str(form.get("customer_ids", "")).replace("，", ",").replace("\n", ",")
    ids = [x.strip() for x in raw.split(",") if x.strip()]
    try:
        body = IssueCreate(
            customer_ids=[int(x) for x in ids if x.isdigit()], batch=str(form.get("batch") or "") or None
        )
        if len(body.customer_ids) != len(ids):
            raise AppError(CoreError.FORM_INVALID, "所选顾客有误，请重新选择")
        async with ctx.db.tx() as s:
            n, _ = await service.issue(s, template_id=template_id, customer_ids=body.customer_ids, batch=body.batch)
    except ValidationError:
        return await _refusal_page(ctx, template_id, "请选择 1-1000 位顾客；批次号只能含字母数字")
    except AppError as exc:
        return await _refusal_page(ctx, template_id, error_text(exc))
    return RedirectResponse(f"/admin/coupons/{template_id}?ok=issued{n}", status_code=303)


# ---- the customer page's coupons card (customers/admin.py reads it through core/extras.py) -------------
# (appended with its own imports)

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from fissionmall.core import clock, extras  # noqa: E402
from fissionmall.coupons.models import Coupon, CouponTemplate  # noqa: E402
from fissionmall.web.console import local_time  # noqa: E402

# A coupon's source: its issue mode, or the tool that gave it (not in MODE_ZH: that is the form's 发放方式 list).
SOURCE_ZH = {**MODE_ZH, "vip": "付费会员", "birthday": "生日礼", "points_mall": "积分兑换"}


@extras.contributes(extras.CUSTOMER_PANELS)
async def _customer_coupons(s: AsyncSession, customer_id: int) -> dict[str, Any]:
    now = clock.now()
    rows = (
        await s.execute(
            select(Coupon, CouponTemplate.name)
            .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
            .where(Coupon.customer_id == customer_id)
            .order_by(Coupon.id.desc())
            .limit(20)
        )
    ).all()
    usable = await s.scalar(
        select(func.count()).where(
            Coupon.customer_id == customer_id, Coupon.status == "available", Coupon.valid_until > now
        )
    )
    table = tuple(
        (
            (name, f"/admin/coupons/{c.template_id}"),
            SOURCE_ZH.get(c.source, "活动赠送"),
            "已过期" if c.status == "available" and c.valid_until <= now else COUPON_STATUS_ZH.get(c.status, c.status),
            local_time(c.valid_until),
        )
        for c, name in rows
    )
    panel = extras.CustomerPanel(
        "优惠券", 20, (("可用", f"{usable or 0} 张"),), ("优惠券", "来源", "状态", "有效期至"), table, "没有领过券"
    )
    return {"coupons": panel}
