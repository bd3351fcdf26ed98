"""Console pages: coupon templates (list with usage, create, edit, pause/resume, issue to shoppers)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from fissionmall.core.errors import AppError, CoreError
from fissionmall.core.schemas import to_local
from fissionmall.coupons import rules, service
from fissionmall.coupons.schemas import IssueCreate, TemplateCreate, TemplateUpdate
from fissionmall.web.console import Console, FormInvalid, console, error_text, form_to, render, shop_zone

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
LABELS = {
    "name": "名称",
    "description": "说明",
    "amount_fen": "优惠金额",
    "threshold_fen": "使用门槛",
    "max_discount_fen": "最高优惠",
    "percent_bp": "折扣",
    "scope_ids": "适用范围编号",
    "valid_days": "有效天数",
    "valid_until": "有效期截止日期",
    "total": "发放总量",
    "per_user_limit": "每人限领",
}


def _form_to_body(form: Any) -> dict[str, Any]:
    def text(k: str) -> str:
        v = form.get(k, "")
        return v.strip() if isinstance(v, str) else ""

    body: dict[str, Any] = {"name": text("name"), "description": text("description"), "kind": text("kind") or "amount"}
    # Amounts in 元 and the discount in 折 (9 → 9折 → 10% off) are read by form_to; blank is none.
    body["amount_fen"] = text("amount") or 0
    body["threshold_fen"] = text("threshold") or 0
    body["max_discount_fen"] = text("max_discount")
    body["percent_bp"] = text("zhe") or 0
    body["scope"] = text("scope") or "all"
    ids = [x for x in text("scope_ids").replace("，", ",").split(",") if x.strip()]
    if not all(x.strip().isdigit() for x in ids):
        raise AppError(CoreError.FORM_INVALID, "适用范围的编号须为数字，用逗号分隔")
    body["scope_ids"] = [int(x) for x in ids]
    body["scope_exclude"] = form.get("scope_exclude") == "on"
    if text("valid_until"):
        try:
            day = datetime.strptime(text("valid_until"), "%Y-%m-%d").date()
        except ValueError:
            raise AppError(CoreError.FORM_INVALID, "有效期截止日期格式应为 YYYY-MM-DD") from None
        body["valid_until"] = datetime.combine(day, time(23, 59, 59), tzinfo=shop_zone())
        body["valid_days"] = None
    elif text("valid_days"):
        if not text("valid_days").isdigit():
            raise AppError(CoreError.FORM_INVALID, "有效天数须为整数")
        body["valid_days"] = int(text("valid_days"))
    for k in ("total", "per_user_limit"):
        if text(k):
            if not text(k).isdigit():
                raise AppError(CoreError.FORM_INVALID, "发放总量和每人限领须为整数")
            body[k] = int(text(k))
    body["issue_mode"] = text("issue_mode") or "claim"
    body["once_per_order"] = form.get("once_per_order") == "on"
    body["return_on_refund"] = form.get("return_on_refund") == "on"
    return body


def _values(t: Any | None) -> dict[str, Any]:
    if t is None:
        return {
            "kind": "amount",
            "scope": "all",
            "issue_mode": "claim",
            "per_user_limit": 1,
            "valid_days": 7,
            "return_on_refund": True,
        }
    return {
        "name": t.name,
        "description": t.description,
        "kind": t.kind,
        "amount": f"{t.amount_fen / 100:g}" if t.amount_fen else "",
        "threshold": f"{t.threshold_fen / 100:g}" if t.threshold_fen else "",
        "max_discount": f"{t.max_discount_fen / 100:g}" if t.max_discount_fen else "",
        "zhe": f"{(10_000 - t.percent_bp) / 1000:g}" if t.percent_bp else "",
        "scope": t.scope_kind,
        "scope_ids": ",".join(str(i) for i in t.scope_ids or []),
        "scope_exclude": t.scope_exclude,
        "valid_days": t.valid_days or "",
        "valid_until": to_local(t.valid_until).strftime("%Y-%m-%d") if t.valid_until else "",
        "total": t.total or "",
        "per_user_limit": t.per_user_limit,
        "issue_mode": t.issue_mode,
        "once_per_order": t.once_per_order,
        "return_on_refund": t.return_on_refund,
    }


def _ctx() -> dict[str, Any]:
    return {
        "KIND_ZH": KIND_ZH,
        "MODE_ZH": MODE_ZH,
        "STATUS_ZH": STATUS_ZH,
        "SCOPE_ZH": SCOPE_ZH,
        "COUPON_STATUS_ZH": COUPON_STATUS_ZH,
        "headline": rules.headline,
    }


@router.get("", response_class=HTMLResponse)
async def templates_page(ctx: Read) -> Response:
    async with ctx.db.read() as s:
        rows, _ = await service.list_templates(s, limit=100)
    return render(ctx, "coupons/list.html", active="coupons", rows=rows, **_ctx())


@router.get("/new", response_class=HTMLResponse)
async def new_page(ctx: Write) -> Response:
    return render(ctx, "coupons/form.html", active="coupons", t=None, v=_values(None), error="", **_ctx())


@router.post("/new", response_class=HTMLResponse)
async def create(ctx: Write) -> Response:
    form = await ctx.request.form()
    try:
        body = _form_to_body(form)
        data = form_to(TemplateCreate, body, money=MONEY, zhe=("percent_bp",), labels=LABELS)
        async with ctx.db.tx() as s:
            t = await service.create_template(s, data=data)
    except (FormInvalid, AppError) as exc:
        err = exc.message if isinstance(exc, FormInvalid) else error_text(exc)
        return render(
            ctx, "coupons/form.html", status_code=422, active="coupons", t=None, v=dict(form), error=err, **_ctx()
        )
    return RedirectResponse(f"/admin/coupons/{t.id}?ok=created", status_code=303)


async def _detail(
    ctx: Console, template_id: int, *, error: str = "", notice: str = "", v: Any = None, status_code: int = 200
) -> Response:
    async with ctx.db.read() as s:
        try:
            t = await service.get_template(s, template_id=template_id)
        except AppError:
            return render(
                ctx, "message.html", status_code=404, title="找不到页面", message="优惠券不存在", level="error"
            )
        use = await service.usage(s, template_id=t.id)
    return render(
        ctx,
        "coupons/form.html",
        status_code=status_code,
        active="coupons",
        t=t,
        v=v or _values(t),
        usage=use,
        error=error,
        notice=notice,
        readonly=not ctx.can("marketing"),
        **_ctx(),
    )


@router.get("/{template_id}", response_class=HTMLResponse)
async def detail(template_id: int, ctx: Read, ok: str = "") -> Response:
    notice = {"created": "优惠券已创建", "saved": "修改已保存", "paused": "已暂停", "active": "已恢复"}.get(ok, "")
    if ok.startswith("issued"):
        notice = f"已发放 {ok.removeprefix('issued')} 张"
    return await _detail(ctx, template_id, notice=notice)


@router.post("/{template_id}", response_class=HTMLResponse)
async def save(template_id: int, ctx: Write) -> Response:
    form = await ctx.request.form()
    try:
        body = _form_to_body(form)
        body.pop("kind", None)
        body.pop("issue_mode", None)
        data = form_to(TemplateUpdate, body, money=MONEY, zhe=("percent_bp",), labels=LABELS)
        async with ctx.db.tx() as s:
            await service.update_template(s, template_id=template_id, data=data)
    except FormInvalid as exc:
        return await _detail(ctx, template_id, error=exc.message, v=dict(form), status_code=422)
    except AppError as exc:
        return await _detail(ctx, template_id, error=error_text(exc), v=dict(form), status_code=422)
    return RedirectResponse(f"/admin/coupons/{template_id}?ok=saved", status_code=303)


@router.post("/{template_id}/status", response_class=HTMLResponse)
async def set_status(template_id: int, ctx: Write) -> Response:
    form = await ctx.request.form()
    status = form.get("status")
    if status not in STATUS_ZH:
        return await _detail(ctx, template_id, error="状态不正确", status_code=422)
    try:
        async with ctx.db.tx() as s:
            await service.update_template(s, template_id=template_id, data=TemplateUpdate(status=str(status)))  # type: ignore[arg-type]
    except AppError as exc:
        return await _detail(ctx, template_id, error=error_text(exc), status_code=422)
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
            raise AppError(CoreError.FORM_INVALID, "用户编号须为数字")
        async with ctx.db.tx() as s:
            n, _ = await service.issue(s, template_id=template_id, customer_ids=body.customer_ids, batch=body.batch)
    except ValidationError:
        return await _detail(ctx, template_id, error="请填写 1-1000 个用户编号；批次号只能含字母数字", status_code=422)
    except AppError as exc:
        return await _detail(ctx, template_id, error=error_text(exc), status_code=422)
    return RedirectResponse(f"/admin/coupons/{template_id}?ok=issued{n}", status_code=303)
