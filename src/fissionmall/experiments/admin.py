"""Console page 实验 (营销): A/B tests listed and created (arms of promotions or coupon templates), each one's
results with the methods named, the SRM warning, guardrails, and keeping the winner in one click; with the
大数据杀熟 note and the time-split alternative."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from fissionmall.catalog.admin import picked_products
from fissionmall.catalog.models import Product
from fissionmall.core.errors import AppError
from fissionmall.core.schemas import IdPath
from fissionmall.coupons import service as coupons
from fissionmall.experiments import results, service
from fissionmall.experiments.schemas import ExperimentCreate, ExperimentUpdate, experiment_out
from fissionmall.promotions import rules as promo_rules
from fissionmall.promotions import service as promotions
from fissionmall.web.console import (
    Console,
    FormErrors,
    FormInvalid,
    console,
    error_text,
    form_list,
    form_text,
    not_found,
    render,
    shop_zone,
)

router = APIRouter(prefix="/admin/experiments", include_in_schema=False)
NAV = [("experiments", "实验", "/admin/experiments", "marketing.read")]
NAV_SECTION = "marketing"

Read = Annotated[Console, Depends(console("marketing.read"))]
Write = Annotated[Console, Depends(console("marketing"))]

LABELS = {"name": "实验名称", "arms": "分组", "coverage_bp": "覆盖比例", "min_sample": "最小样本", "product_id": "商品"}
VERDICT_ZH = {
    "insufficient_sample": "样本不足",
    "srm": "样本比例异常",
    "no_difference": "暂无显著差异",
    "winner": "有胜出方案",
}
NOTICE = {"created": "实验已创建", "kept": "已保留胜出方案，实验结束", "saved": "已保存"}
ROWS = 4  # arm rows the form offers (two at least must be filled)


async def _choices(ctx: Console) -> dict[str, Any]:
    async with ctx.db.read() as s:
        promos, _ = await promotions.list_promotions(s, limit=100)
        tpls, _ = await coupons.list_templates(s, limit=100)
    return {
        "promos": [(p.id, f"{p.name}（{promo_rules.label(p)}）") for p in promos if p.status == "active"],
        "tpls": [(t.id, t.name) for t in tpls if t.status == "active"],
        "names": {p.id: f"{p.name}（{promo_rules.label(p)}）" for p in promos},
        "tpl_names": {t.id: t.name for t in tpls},
    }


def _ids(text: str) -> list[int]:
    return [int(text)] if text.strip().isdigit() and 0 < int(text) < 2**53 else []


def _read_form(form: FormData) -> tuple[dict[str, Any], dict[str, Any], FormErrors]:
    errs = FormErrors()
    zone = shop_zone()
    names, weights = form_list(form, "arm_name"), form_list(form, "arm_weight")
    promos, tpls = form_list(form, "arm_promotion"), form_list(form, "arm_template")
    control = form_text(form, "control")
    arms = []
    for i, name in enumerate(names[:ROWS]):
        if not name.strip():
            continue
        w = weights[i].strip() if i < len(weights) else ""
        if not w.isdigit():
            errs.add("arms", "每组的权重须是 1 到 10000 的整数")
        arms.append(
            {
                "name": name.strip(),
                "weight": int(w) if w.isdigit() and len(w) < 7 else 0,
                "control": control == str(i),
                "plan": {
                    "promotion_ids": _ids(promos[i] if i < len(promos) else ""),
                    "coupon_template_ids": _ids(tpls[i] if i < len(tpls) else ""),
                },
            }
        )
    cov, ms, pid = form_text(form, "coverage"), form_text(form, "min_sample"), form_text(form, "product_id")
    starts, ends = form_text(form, "starts_at"), form_text(form, "ends_at")
    v: dict[str, Any] = {"name": form_text(form, "name", 200), "arms": arms, "coverage": cov, "min_sample": ms}
    v.update(product_id=pid, starts_at=starts, ends_at=ends)
    if not cov.strip().isdigit() or int(cov) > 100:
        errs.add("coverage_bp", "覆盖比例须是 0 到 100 的整数（%）")
    body = {
        "name": v["name"],
        "arms": arms,
        "product_id": int(pid) if pid.strip().isdigit() and len(pid) < 16 else None,
        "coverage_bp": int(cov) * 100 if cov.strip().isdigit() and int(cov) <= 100 else 10_000,
        "min_sample": int(ms) if ms.strip().isdigit() and len(ms) < 10 else 0,
        "starts_at": errs.when("starts_at", starts, zone, "开始时间"),
        "ends_at": errs.when("ends_at", ends, zone, "结束时间"),
    }
    return body, v, errs


async def _list(
    ctx: Console, *, v: dict[str, Any] | None = None, errors: dict[str, str] | None = None, ok: str = ""
) -> Response:
    async with ctx.db.read() as s:
        rows, _ = await service.list_experiments(s, before_id=None, limit=100)
        items = [experiment_out(e) for e in rows]
    pid = str((v or {}).get("product_id") or "").strip()
    chosen = await picked_products(ctx.db, [int(pid)]) if pid.isdigit() and len(pid) < 16 else []
    return render(
        ctx,
        "experiments/list.html",
        chosen=chosen,
        status_code=422 if errors else 200,
        active="experiments",
        rows=items,
        v=v or {"name": "", "arms": [], "coverage": "100", "min_sample": "1000", "product_id": ""},
        errors=errors or {},
        ROWS=ROWS,
        notice=NOTICE.get(ok, ""),
        **await _choices(ctx),
    )


@router.get("", response_class=HTMLResponse)
async def list_page(ctx: Read, ok: str = "") -> Response:
    return await _list(ctx, ok=ok)


@router.get("/new")
async def new_page(ctx: Read) -> Response:
    """The form is on the list page."""
    return RedirectResponse("/admin/experiments#experiment-form", status_code=303)


@router.post("/new", response_class=HTMLResponse)
async def create(ctx: Write) -> Response:
    body, v, errs = _read_form(await ctx.request.form())
    try:
        data = errs.validate(ExperimentCreate, body, labels=LABELS)
        async with ctx.db.tx() as s:
            e = await service.create(s, data=data)
    except FormInvalid as exc:
        return await _list(ctx, v=v, errors={p.split(".")[0]: m for p, m in exc.errors.items()})
    except AppError as exc:
        return await _list(ctx, v=v, errors={"form": error_text(exc)})
    return RedirectResponse(f"/admin/experiments/{e.id}?ok=created", status_code=303)


async def _detail(
    ctx: Console, experiment_id: int, *, ok: str = "", error: str = "", status_code: int = 200
) -> Response:
    async with ctx.db.read() as s:
        try:
            e = await service.get(s, experiment_id=experiment_id)
        except AppError:
            return not_found(ctx, "实验不存在")
        res = results.analyse(e, await results.figures(s, e=e))
        out = experiment_out(e)
        product = await s.get(Product, e.product_id) if e.product_id else None
    choices = await _choices(ctx)
    return render(
        ctx,
        "experiments/detail.html",
        status_code=status_code,
        active="experiments",
        e=out,
        res=res,
        product_title=product.title if product else "",
        VERDICT_ZH=VERDICT_ZH,
        names=choices["names"],
        tpl_names=choices["tpl_names"],
        notice=NOTICE.get(ok, ""),
        error=error,
    )


@router.get("/{experiment_id}", response_class=HTMLResponse)
async def detail(experiment_id: IdPath, ctx: Read, ok: str = "") -> Response:
    return await _detail(ctx, experiment_id, ok=ok)


@router.post("/{experiment_id}/keep", response_class=HTMLResponse)
async def keep(experiment_id: IdPath, ctx: Write) -> Response:
    arm = form_text(await ctx.request.form(), "arm_id")
    try:
        async with ctx.db.tx() as s:
            await service.keep_winner(
                s, experiment_id=experiment_id, arm_id=int(arm) if arm.isdigit() and len(arm) < 16 else 0
            )
    except AppError as exc:
        return await _detail(ctx, experiment_id, error=error_text(exc), status_code=exc.status)
    return RedirectResponse(f"/admin/experiments/{experiment_id}?ok=kept", status_code=303)


@router.post("/{experiment_id}/coverage", response_class=HTMLResponse)
async def coverage(experiment_id: IdPath, ctx: Write) -> Response:
    cov = form_text(await ctx.request.form(), "coverage")
    if not cov.isdigit() or int(cov) > 100:
        return await _detail(ctx, experiment_id, error="覆盖比例须是 0 到 100 的整数（%）", status_code=422)
    try:
        async with ctx.db.tx() as s:
            await service.update(s, experiment_id=experiment_id, data=ExperimentUpdate(coverage_bp=int(cov) * 100))
    except AppError as exc:
        return await _detail(ctx, experiment_id, error=error_text(exc), status_code=exc.status)
    return RedirectResponse(f"/admin/experiments/{experiment_id}?ok=saved", status_code=303)
