"""Console pages under 客户: 会员等级 (the levels and their benefits, the level rules), 会员日, and the
member list's parts on the 客户 pages (等级 and 成长值 columns, a level filter, a 会员等级 card)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from fissionmall.accounts.models import Customer
from fissionmall.core import clock, extras
from fissionmall.core.errors import AppError
from fissionmall.core.money import BP
from fissionmall.coupons.models import CouponTemplate
from fissionmall.membership import benefits, config, growth, levels, rules
from fissionmall.membership.models import GrowthEntry, MemberLevel, MemberProfile
from fissionmall.membership.schemas import LevelCreate, LevelRules, LevelUpdate, MemberDayIn
from fissionmall.web.console import (
    Console,
    FormErrors,
    FormInvalid,
    console,
    error_text,
    form_text,
    local_time,
    not_found,
    off_bp_from_zhe,
    render,
    yuan_field,
)

router = APIRouter(prefix="/admin/membership", include_in_schema=False)
NAV = [
    ("membership-levels", "会员等级", "/admin/membership/levels", "marketing.read"),
    ("membership-day", "会员日", "/admin/membership/member-day", "marketing.read"),
]
NAV_SECTION = "customers"

Read = Annotated[Console, Depends(console("marketing.read"))]
Write = Annotated[Console, Depends(console("marketing"))]

LABELS = {
    "name": "等级名称",
    "rank": "等级排序",
    "threshold_fen": "成长值门槛",
    "discount_bp": "会员折扣",
    "points_multiplier_bp": "积分倍数",
    "birthday_template_id": "生日礼券",
}
MULTIPLIERS = {10_000: "1倍", 12_000: "1.2倍", 15_000: "1.5倍", 20_000: "2倍", 30_000: "3倍"}
NOTICE = {"created": "会员等级已添加", "saved": "修改已保存", "deleted": "会员等级已删除", "rules": "等级规则已保存"}
KIND_ZH = {"order": "订单支付", "refund": "退款扣回"}
_FIELD_OF = {
    "LEVEL_NAME_TAKEN": "name",
    "LEVEL_RANK_TAKEN": "rank",
    "LEVEL_THRESHOLD_TAKEN": "threshold_fen",
    "LEVEL_ORDER_INVALID": "threshold_fen",
    "LEVEL_THRESHOLD_OUT_OF_RANGE": "threshold_fen",
    "LEVEL_DISCOUNT_OUT_OF_RANGE": "discount_bp",
    "LEVEL_MULTIPLIER_OUT_OF_RANGE": "points_multiplier_bp",
    "BIRTHDAY_TEMPLATE_NOT_FOUND": "birthday_template_id",
}


def growth_text(fen: int) -> str:
    """A growth value as the console shows it: 1 元 of goods = 1 成长值 (450000 → '4500')."""
    return ("-" if fen < 0 else "") + (yuan_field(abs(fen)) or "0")


def zhe_text(bp: int) -> str:
    """What the 折 field shows for a pay rate: 9000 → '9', 10000 → '' (不打折)."""
    if bp >= BP:
        return ""
    return rules.zhe(bp).removesuffix("折")


def _read_level(form: FormData) -> tuple[dict[str, Any], dict[str, Any], FormErrors]:
    """The level form as the API's body, the values to show again, and its own mistakes."""
    errs = FormErrors()
    v: dict[str, Any] = {
        k: form_text(form, k, 40).strip()
        for k in ("name", "rank", "threshold", "discount", "multiplier", "birthday_template_id")
    }
    v["free_shipping"] = form.get("free_shipping") == "on"
    v["priority_service"] = form.get("priority_service") == "on"
    discount: Any = BP
    if v["discount"]:
        off = off_bp_from_zhe(v["discount"])
        if off is None:
            errs.add("discount_bp", "会员折扣格式不正确，请填写 1 到 9.9 之间的折数，例如 9 表示 9 折")
        discount = BP - off if off is not None else BP
    mult = int(v["multiplier"]) if v["multiplier"].isdigit() else BP
    tpl = int(v["birthday_template_id"]) if v["birthday_template_id"].isdigit() else None
    body = {
        "name": v["name"],
        "rank": v["rank"],
        "threshold_fen": v["threshold"],
        "discount_bp": discount,
        "points_multiplier_bp": mult,
        "birthday_template_id": tpl,
        "free_shipping": v["free_shipping"],
        "priority_service": v["priority_service"],
    }
    return body, v, errs


def _values(row: MemberLevel | None) -> dict[str, Any]:
    if row is None:
        return {"name": "", "rank": "", "threshold": "", "discount": "", "multiplier": str(BP), "free_shipping": False}
    return {
        "name": row.name,
        "rank": str(row.rank),
        "threshold": yuan_field(row.threshold_fen),
        "discount": zhe_text(row.discount_bp),
        "multiplier": str(row.points_multiplier_bp),
        "birthday_template_id": str(row.birthday_template_id or ""),
        "free_shipping": row.free_shipping,
        "priority_service": row.priority_service,
    }


def _errors(exc: FormInvalid | AppError) -> dict[str, str]:
    if isinstance(exc, FormInvalid):
        return {path.split(".")[0]: message for path, message in exc.errors.items()}
    return {_FIELD_OF.get(exc.code, "form"): error_text(exc)}


async def _templates(s: AsyncSession) -> list[tuple[int, str]]:
    q = (
        select(CouponTemplate.id, CouponTemplate.name)
        .where(CouponTemplate.status == "active")
        .order_by(CouponTemplate.id)
    )
    return [(int(i), str(n)) for i, n in (await s.execute(q)).all()]


async def _form(
    ctx: Console, row: MemberLevel | None, v: dict[str, Any], *, base: bool, errors: Any = None
) -> Response:
    async with ctx.db.read() as s:
        templates = await _templates(s)
    return render(
        ctx,
        "membership/level_form.html",
        status_code=422 if errors else 200,
        active="membership-levels",
        row=row,
        v=v,
        base=base,
        errors=errors or {},
        templates=templates,
        MULTIPLIERS=MULTIPLIERS,
        readonly=not ctx.can("marketing"),
    )


async def _list(
    ctx: Console, *, notice: str = "", error: str = "", status_code: int = 200, rules_v: Any = None
) -> Response:
    async with ctx.db.tx() as s:
        saved = await levels.ensure_levels(s)
        rows = await levels.to_admin(s, levels=saved)
        cfg = await config.get_config(s)
    return render(
        ctx,
        "membership/levels.html",
        status_code=status_code,
        active="membership-levels",
        rows=rows,
        cfg=cfg,
        rules_v=rules_v or {"window_months": str(cfg.rules.window_months), "error": ""},
        growth_text=growth_text,
        zhe=rules.zhe,
        MULTIPLIERS=MULTIPLIERS,
        notice=notice,
        error=error,
    )


@router.get("/levels", response_class=HTMLResponse)
async def levels_page(ctx: Read, ok: str = "") -> Response:
    return await _list(ctx, notice=NOTICE.get(ok, ""))


@router.get("", response_class=HTMLResponse)
async def home(ctx: Read) -> Response:
    return RedirectResponse("/admin/membership/levels", status_code=303)


@router.post("/rules", response_class=HTMLResponse)
async def save_rules(ctx: Write) -> Response:
    form = await ctx.request.form()
    months = form_text(form, "window_months", 8).strip()
    body = LevelRules(
        window_months=int(months) if months.isdigit() else 0, stacks_with_limited=form.get("stacks") == "on"
    )
    try:
        async with ctx.db.tx() as s:
            await config.save_rules(s, data=body)
            await growth.recompute_all(s, at=clock.now())
    except AppError as exc:
        return await _list(ctx, status_code=422, rules_v={"window_months": months, "error": error_text(exc)})
    return RedirectResponse("/admin/membership/levels?ok=rules", status_code=303)


@router.get("/levels/new", response_class=HTMLResponse)
async def new_page(ctx: Write) -> Response:
    return await _form(ctx, None, _values(None), base=False)


@router.post("/levels/new", response_class=HTMLResponse)
async def create(ctx: Write) -> Response:
    body, v, errs = _read_level(await ctx.request.form())
    try:
        data = errs.validate(LevelCreate, body, money=("threshold_fen",), whole=("rank",), labels=LABELS)
        async with ctx.db.tx() as s:
            await levels.create_level(s, data=data)
    except (FormInvalid, AppError) as exc:
        return await _form(ctx, None, v, base=False, errors=_errors(exc))
    return RedirectResponse("/admin/membership/levels?ok=created", status_code=303)


async def _one(ctx: Console, level_id: int) -> tuple[MemberLevel | None, bool]:
    async with ctx.db.tx() as s:
        try:
            row = await levels.get_level(s, level_id=level_id)
        except AppError:
            return None, False
        return row, (await levels.rows(s))[0].id == row.id


@router.get("/levels/{level_id}", response_class=HTMLResponse)
async def edit_page(level_id: int, ctx: Read) -> Response:
    row, base = await _one(ctx, level_id)
    if row is None:
        return not_found(ctx, "会员等级不存在")
    return await _form(ctx, row, _values(row), base=base)


@router.post("/levels/{level_id}", response_class=HTMLResponse)
async def save(level_id: int, ctx: Write) -> Response:
    row, base = await _one(ctx, level_id)
    if row is None:
        return not_found(ctx, "会员等级不存在")
    body, v, errs = _read_level(await ctx.request.form())
    if base:
        body.pop("rank")
        body["threshold_fen"] = "0"
    try:
        data = errs.validate(LevelUpdate, body, money=("threshold_fen",), whole=("rank",), labels=LABELS)
        async with ctx.db.tx() as s:
            await levels.update_level(s, level_id=level_id, data=data)
    except (FormInvalid, AppError) as exc:
        return await _form(ctx, row, v, base=base, errors=_errors(exc))
    return RedirectResponse("/admin/membership/levels?ok=saved", status_code=303)


@router.post("/levels/{level_id}/delete", response_class=HTMLResponse)
async def delete(level_id: int, ctx: Write) -> Response:
    try:
        async with ctx.db.tx() as s:
            await levels.delete_level(s, level_id=level_id)
    except AppError as exc:
        return await _list(ctx, error=error_text(exc), status_code=exc.status)
    return RedirectResponse("/admin/membership/levels?ok=deleted", status_code=303)


# ---- 会员日 ------------------------------------------------------------------------------------------


async def _day_page(
    ctx: Console, v: dict[str, Any], *, error: str = "", notice: str = "", status: int = 200
) -> Response:
    async with ctx.db.read() as s:
        cfg = await config.get_config(s)
    return render(
        ctx,
        "membership/member_day.html",
        status_code=status,
        active="membership-day",
        v=v,
        public=config.member_day_public(cfg, clock.now()),
        error=error,
        notice=notice,
        readonly=not ctx.can("marketing"),
    )


@router.get("/member-day", response_class=HTMLResponse)
async def member_day_page(ctx: Read, ok: str = "") -> Response:
    async with ctx.db.read() as s:
        d = (await config.get_config(s)).member_day
    v = {
        "enabled": d.enabled,
        "day": str(d.day_of_month),
        "rate": zhe_text(d.extra_rate_bp),
        "double_points": d.double_points,
    }
    return await _day_page(ctx, v, notice="会员日设置已保存" if ok else "")


@router.post("/member-day", response_class=HTMLResponse)
async def save_member_day(ctx: Write) -> Response:
    form = await ctx.request.form()
    v: dict[str, Any] = {
        "enabled": form.get("enabled") == "on",
        "day": form_text(form, "day", 8).strip(),
        "rate": form_text(form, "rate", 8).strip(),
        "double_points": form.get("double_points") == "on",
    }
    off = off_bp_from_zhe(v["rate"]) if v["rate"] else 0
    if off is None:
        return await _day_page(
            ctx, v, error="会员日折扣格式不正确，请填写 1 到 9.9 之间的折数，例如 8 表示 8 折", status=422
        )
    body = MemberDayIn(
        enabled=v["enabled"], day_of_month=v["day"], extra_rate_bp=BP - off, double_points=v["double_points"]
    )
    try:
        async with ctx.db.tx() as s:
            await config.save_member_day(s, data=body)
            await growth.ensure_daily(s)
    except AppError as exc:
        return await _day_page(ctx, v, error=error_text(exc), status=422)
    return RedirectResponse("/admin/membership/member-day?ok=1", status_code=303)


# ---- the 客户 pages --------------------------------------------------------------------------------


@extras.contributes(extras.CUSTOMER_FILTERS)
async def _level_filter(params: Mapping[str, str]) -> dict[str, Any]:
    names = dict(sorted(levels.seen_names.items()))
    options = (("", "不限"), *((str(rank), name) for rank, name in names.items()))
    raw = params.get("level", "")
    fields = (extras.FilterField("select", ("level",), "会员等级", options),)
    if not raw:
        return {"membership": extras.CustomerFilter(fields, order=5)}
    if not raw.isdigit() or int(raw) not in names:
        return {"membership": extras.CustomerFilter(fields, errors=(("level", "请选择会员等级"),), order=5)}
    rank = int(raw)
    held = select(MemberProfile.customer_id).join(MemberLevel, MemberLevel.id == MemberProfile.level_id)
    if rank == min(names):
        above = held.where(MemberLevel.rank > rank)
        where = Customer.id.not_in(above)
    else:
        where = Customer.id.in_(held.where(MemberLevel.rank == rank))
    return {"membership": extras.CustomerFilter(fields, where, order=5)}


@extras.contributes(extras.CUSTOMER_COLUMNS)
async def _level_columns(s: AsyncSession, customer_ids: list[int]) -> dict[str, Any]:
    ladder = await levels.specs(s)
    base = levels.base_of(ladder)
    by_id = {lv.id: lv.name for lv in ladder}
    got = (
        await s.execute(
            select(MemberProfile.customer_id, MemberProfile.level_id).where(MemberProfile.customer_id.in_(customer_ids))
        )
    ).all()
    held = {int(cid): by_id.get(lid, base.name) for cid, lid in got}
    return {"会员等级": {cid: held.get(cid, base.name) for cid in customer_ids}}


@extras.contributes(extras.CUSTOMER_PANELS)
async def _level_panel(s: AsyncSession, customer_id: int) -> dict[str, Any]:
    st = await benefits.standing(s, customer_id=customer_id)
    cfg = await config.get_config(s)
    grown = await growth.window_growth(s, customer_id=customer_id, at=clock.now(), months=cfg.rules.window_months)
    q = select(GrowthEntry).where(GrowthEntry.customer_id == customer_id).order_by(GrowthEntry.id.desc()).limit(10)
    table = tuple(
        (
            local_time(e.created_at),
            KIND_ZH.get(e.kind, e.kind),
            (f"订单 {e.order_id}", f"/admin/orders/{e.order_id}"),
            growth_text(e.amount_fen),
        )
        for e in (await s.scalars(q)).all()
    )
    rows = (
        ("当前等级", st.level.name),
        (f"近 {cfg.rules.window_months} 个月成长值", growth_text(grown)),
        ("累计成长值", growth_text(st.total_fen)),
        ("生日", st.birthday or "未填写"),
    )
    head = ("时间", "来源", "订单", "成长值")
    link = ("会员等级设置", "/admin/membership/levels")
    return {"membership": extras.CustomerPanel("会员等级", 15, rows, head, table, "还没有成长值记录", link)}
