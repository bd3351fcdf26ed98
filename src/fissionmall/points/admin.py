"""Console pages of points: 积分规则 (营销: the rules through the API's own schema), 积分明细 (客户: every
shopper's entries, by customer and kind, keyset paged), and on the 客户 pages a 积分 panel (balance, debt,
recent entries, the 人工调整 form), a 积分 column and a filter (有积分/无积分/欠积分)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from fissionmall.accounts.models import Customer
from fissionmall.core import extras
from fissionmall.core.errors import AppError
from fissionmall.core.schemas import IdPath
from fissionmall.points import adjustments, ledger, service
from fissionmall.points.models import PointsAccount, PointsEntry
from fissionmall.points.schemas import AdjustmentCreate, RulesUpdate
from fissionmall.web.console import (
    PAGE_SIZE,
    Console,
    FormErrors,
    FormInvalid,
    console,
    cursor_of,
    error_text,
    form_list,
    form_text,
    local_time,
    page_link,
    render,
    whole_number,
)

router = APIRouter(prefix="/admin/points", include_in_schema=False)
NAV = [
    ("points-rules", "积分规则", "/admin/points/rules", "marketing.read"),
    ("points-entries", "积分明细", "/admin/points/entries", "marketing.read", "customers"),
]
NAV_SECTION = "marketing"

RulesRead = Annotated[Console, Depends(console("marketing.read"))]
RulesWrite = Annotated[Console, Depends(console("marketing"))]
CustomersWrite = Annotated[Console, Depends(console("customers"))]
CustomersRead = Annotated[Console, Depends(console("customers.read"))]

FILTER_ZH = {"has": "有积分", "none": "无积分", "debt": "欠积分"}
EXPIRY_ZH = {"next_year_end": "次年年底过期（今年获得的积分，明年 12 月 31 日 24 点过期）", "never": "永不过期"}
REFUND_ZH = {"debt": "照常扣回，余额可为负（欠积分由之后获得的积分先抵）"}
LABELS = {
    "enabled": "启用积分",
    "earn_per_yuan": "每消费 1 元获得积分",
    "spend_points_per_yuan": "抵扣 1 元所需积分",
    "spend_cap_bp": "最高抵扣比例",
    "spend_unit": "最小抵扣单位",
    "sign_in_enabled": "每日签到",
    "sign_in_points": "每日签到积分",
    "streak_bonus": "连续签到奖励",
    "day": "连续天数",
    "points": "每天多得积分",
    "review_points": "评价奖励积分",
    "leader_points": "团长奖励积分",
    "expiry": "积分有效期",
    "refund_policy": "退款时已花掉的赠送积分",
}
WHOLE = ("earn_per_yuan", "spend_points_per_yuan", "spend_unit", "sign_in_points", "review_points", "leader_points")
BLANK_STREAK_ROWS = 2  # empty rows under the saved ones, to add a threshold without a script
FIELD_OF = {
    "UNIT_INEXACT": "spend_unit",
    "STREAK_BONUS_DECREASING": "streak_bonus",
    "STREAK_DAY_DUPLICATE": "streak_bonus",
    "REASON_REQUIRED": "reason",
    "DELTA_ZERO": "delta",
    "ADJUSTMENT_BELOW_ZERO": "delta",
}


def percent_field(bp: int) -> str:
    """What a % field shows for basis points (5000 → '50', 1250 → '12.5')."""
    whole, part = divmod(bp, 100)
    return f"{whole}.{part:02d}".rstrip("0") if part else str(whole)


def _errors(exc: FormInvalid | AppError) -> dict[str, str]:
    if isinstance(exc, FormInvalid):
        return dict(exc.errors)
    return {FIELD_OF.get(exc.code, "form"): error_text(exc)}


# ---- 积分规则 --------------------------------------------------------------------------------------


def _rule_values(r: RulesUpdate) -> dict[str, Any]:
    steps = [{"day": str(x.day), "points": str(x.points)} for x in r.streak_bonus]
    return {
        **{k: str(getattr(r, k)) for k in WHOLE},
        "enabled": r.enabled,
        "sign_in_enabled": r.sign_in_enabled,
        "spend_cap_bp": percent_field(r.spend_cap_bp),
        "streak": steps + [{"day": "", "points": ""}] * BLANK_STREAK_ROWS,
        "expiry": r.expiry,
        "refund_policy": r.refund_policy,
    }


def _read_rules(form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form as the rules API's body (amounts still as typed: form_to reads them), and what to show again."""
    rows = [
        {"day": d, "points": p}
        for d, p in zip(form_list(form, "streak_day"), form_list(form, "streak_points"), strict=False)
        if d or p
    ]
    body: dict[str, Any] = {
        **{k: form_text(form, k, 20) for k in WHOLE},
        "enabled": form.get("enabled") == "on",
        "sign_in_enabled": form.get("sign_in_enabled") == "on",
        "spend_cap_bp": form_text(form, "spend_cap_bp", 20),
        "streak_bonus": rows,
        "expiry": form_text(form, "expiry") or "next_year_end",
        "refund_policy": form_text(form, "refund_policy") or "debt",
    }
    shown = {**body, "streak": rows + [{"day": "", "points": ""}] * BLANK_STREAK_ROWS}
    return body, shown


def _rules_page(ctx: Console, v: dict[str, Any], *, errors: dict[str, str] | None = None, notice: str = "") -> Response:
    return render(
        ctx,
        "points/rules.html",
        status_code=422 if errors else 200,
        active="points-rules",
        v=v,
        errors=errors or {},
        notice=notice,
        EXPIRY_ZH=EXPIRY_ZH,
        REFUND_ZH=REFUND_ZH,
        readonly=not ctx.can("marketing"),
    )


@router.get("/rules", response_class=HTMLResponse)
async def rules_page(ctx: RulesRead, ok: str = "") -> Response:
    async with ctx.db.read() as s:
        r = await service.get_rules(s)
    return _rules_page(ctx, _rule_values(r), notice="积分规则已保存" if ok == "saved" else "")


@router.post("/rules", response_class=HTMLResponse)
async def save_rules(ctx: RulesWrite) -> Response:
    body, shown = _read_rules(await ctx.request.form())
    try:
        data = FormErrors().validate(
            RulesUpdate, body, whole=(*WHOLE, "day", "points"), rate=("spend_cap_bp",), labels=LABELS
        )
        async with ctx.db.tx() as s:
            await service.save_rules(s, data=data, admin_id=ctx.admin.id)
    except (FormInvalid, AppError) as exc:
        return _rules_page(ctx, shown, errors=_errors(exc))
    return RedirectResponse("/admin/points/rules?ok=saved", status_code=303)


# ---- 积分明细 --------------------------------------------------------------------------------------


@router.get("/entries", response_class=HTMLResponse)
async def entries_page(ctx: RulesRead, customer_id: str = "", kind: str = "", cursor: str = "") -> Response:
    errors: dict[str, str] = {}
    who = whole_number(customer_id) if customer_id.strip() else None
    if customer_id.strip() and who is None:
        errors["customer_id"] = "请用搜索框选择客户"
    kind = kind if kind in service.LABELS else ""
    rows: list[PointsEntry] = []
    names: dict[int, str] = {}
    nxt = None
    if not errors:
        async with ctx.db.read() as s:
            rows, nxt = await service.entries(
                s, customer_id=who, kind=kind or None, before_id=cursor_of(cursor), limit=PAGE_SIZE
            )
            ids = {e.customer_id for e in rows}
            if ids:
                got = await s.execute(select(Customer.id, Customer.nickname).where(Customer.id.in_(ids)))
                names = {int(i): str(n) for i, n in got.all()}
    return render(
        ctx,
        "points/entries.html",
        status_code=422 if errors else 200,
        active="points-entries",
        rows=rows,
        names=names,
        label=service.label,
        KIND_ZH=service.LABELS,
        customer_id=customer_id.strip() if who is None else str(who),
        kind=kind,
        errors=errors,
        filtered=bool(customer_id or kind),
        next_url=page_link(ctx.request, nxt),
        paged=bool(cursor),
    )


# ---- 人工调整 (the 积分 panel's form on the customer page) ---------------------------------------------

ADJUST_TEMPLATE = "admin/points/_adjust.html"


def _adjust_part(customer_id: int, **kw: Any) -> dict[str, Any]:
    base = {"customer_id": customer_id, "v": {"direction": "add", "amount": "", "reason": ""}, "errors": {}}
    return {**base, "token": secrets.token_hex(12), **kw}


@router.get("/customers/{customer_id}")
async def customer_points(ctx: CustomersRead, customer_id: IdPath) -> Response:
    """The adjustment form lives on the customer's page: a GET here (a reload after a failed post) goes there."""
    return RedirectResponse(f"/admin/customers/{customer_id}", status_code=303)


@router.post("/customers/{customer_id}/adjust", response_class=HTMLResponse)
async def adjust(ctx: CustomersWrite, customer_id: IdPath) -> Response:
    form = await ctx.request.form()
    v = {
        "direction": "sub" if form_text(form, "direction") == "sub" else "add",
        "amount": form_text(form, "amount", 20),
        "reason": form_text(form, "reason", 200),
    }
    token = form_text(form, "token", 40)
    errs = FormErrors()
    amount = whole_number(v["amount"])
    if amount is None or amount <= 0:
        errs.add("delta", "请填写要调整的积分数（正整数）")
    if not v["reason"]:
        errs.add("reason", "请填写调整原因")
    try:
        delta = (amount or 0) * (-1 if v["direction"] == "sub" else 1)
        data = errs.validate(AdjustmentCreate, {"delta": delta, "reason": v["reason"]}, labels={"delta": "积分"})
        async with ctx.db.tx() as s:
            await adjustments.adjust(
                s,
                customer_id=customer_id,
                delta=data.delta,
                reason=data.reason,
                admin_id=ctx.admin.id,
                key=f"idem:console-{token}" if token.isalnum() and len(token) >= 16 else None,
            )
    except (FormInvalid, AppError) as exc:
        part = _adjust_part(customer_id, v=v, errors=_errors(exc), token=token or secrets.token_hex(12))
        return _adjust_answer(ctx, part)
    # Back to the customer page: htmx swaps its 积分 panel in (the new balance, the entry on top).
    return RedirectResponse(f"/admin/customers/{customer_id}", status_code=303)


def _adjust_answer(ctx: Console, part: dict[str, Any]) -> Response:
    """The form again with its errors: in place for htmx, else as a page of its own."""
    if ctx.htmx:
        answer = render(ctx, "points/_adjust.html", part=part)
        answer.headers.update({"HX-Retarget": "#points-adjust", "HX-Reselect": "#points-adjust"})
        return answer
    return render(ctx, "points/adjust.html", status_code=422, active="customers", part=part)


# ---- the 客户 pages ----------------------------------------------------------------------------------


@extras.contributes(extras.CUSTOMER_PANELS)
async def _customer_points(s: AsyncSession, customer_id: int) -> dict[str, Any]:
    bal = await ledger.balance(s, customer_id=customer_id)
    rows = (
        await s.scalars(
            select(PointsEntry)
            .where(PointsEntry.customer_id == customer_id, PointsEntry.points != 0)
            .order_by(PointsEntry.id.desc())
            .limit(10)
        )
    ).all()
    table = tuple((service.label(e.kind), f"{e.points:+d}", e.note or "", local_time(e.created_at)) for e in rows)
    figures: tuple[tuple[str, extras.Cell], ...] = (("积分余额", str(max(bal, 0))),)
    if bal < 0:
        figures += (("欠积分", str(-bal)),)
    panel = extras.CustomerPanel(
        "积分",
        45,
        figures,
        ("类型", "积分", "说明", "时间"),
        table,
        "暂无积分记录",
        link=("积分明细", f"/admin/points/entries?customer_id={customer_id}"),
        include=(ADJUST_TEMPLATE, _adjust_part(customer_id)),
    )
    return {"points": panel}


@extras.contributes(extras.CUSTOMER_COLUMNS)
async def _customer_column(s: AsyncSession, customer_ids: list[int]) -> dict[str, Any]:
    got = await service.balances(s, customer_ids=customer_ids)
    return {"积分": {cid: str(got.get(cid, 0)) for cid in customer_ids}}


@extras.contributes(extras.CUSTOMER_FILTERS)
async def _customer_filters(params: dict[str, str]) -> dict[str, Any]:
    want = params.get("points", "")
    positive = Customer.id.in_(select(PointsAccount.customer_id).where(PointsAccount.balance > 0))
    cond = {
        "has": positive,
        "none": ~Customer.id.in_(select(PointsAccount.customer_id).where(PointsAccount.balance != 0)),
        "debt": Customer.id.in_(select(PointsAccount.customer_id).where(PointsAccount.balance < 0)),
    }.get(want)
    fields = (extras.FilterField("select", ("points",), "积分", (("", "不限"), *FILTER_ZH.items())),)
    return {"points": extras.CustomerFilter(fields, cond, order=45)}
