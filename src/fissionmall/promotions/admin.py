"""Console pages: promotions (list with usage, create, edit, pause/resume)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fissionmall.core.errors import AppError, CoreError
from fissionmall.core.schemas import to_local
from fissionmall.promotions import rules, service
from fissionmall.promotions.schemas import PromotionCreate, PromotionUpdate
from fissionmall.web.console import (
    Console,
    FormInvalid,
    console,
    error_text,
    fen_from_yuan,
    form_to,
    off_bp_from_zhe,
    render,
    shop_zone,
)

router = APIRouter(prefix="/admin/promotions", include_in_schema=False)
NAV = [("promotions", "促销活动", "/admin/promotions", "marketing.read")]
NAV_SECTION = "marketing"

Read = Annotated[Console, Depends(console("marketing.read"))]
Write = Annotated[Console, Depends(console("marketing"))]

KIND_ZH = {
    "full_reduction": "满减/满折",
    "gift": "满赠",
    "free_shipping": "满额包邮",
    "limited_discount": "限时折扣",
    "tiered_price": "阶梯价",
}
STATUS_ZH = {"active": "进行中", "paused": "已暂停"}
SCOPE_ZH = {"all": "全部商品", "products": "指定商品", "categories": "指定分类"}


def _bad(msg: str) -> AppError:
    return AppError(CoreError.FORM_INVALID, msg)


def _fen(raw: str) -> int:
    fen = fen_from_yuan(raw)
    if fen is None:
        raise _bad(f"金额格式不正确：{raw}")
    return fen


def _off_bp(raw: str) -> int:
    """'9折' → 1000 bp off."""
    bp = off_bp_from_zhe(raw)
    if bp is None:
        raise _bad(f"折扣格式不正确：{raw}")
    return bp


def _pairs(raw: str) -> list[tuple[str, str]]:
    out = []
    for part in raw.replace("，", ",").replace("\n", ",").split(","):
        if part.strip():
            k, sep, v = part.partition("=")
            if not sep:
                raise _bad(f"“{part.strip()}”应写成 门槛=优惠，例如 100=20")
            out.append((k.strip(), v.strip()))
    return out


def _when(raw: str) -> datetime:
    try:
        return datetime.strptime(raw.strip(), "%Y-%m-%dT%H:%M").replace(tzinfo=shop_zone())
    except ValueError:
        raise _bad("时间格式不正确") from None


def _int(raw: str, what: str) -> int:
    if not raw.strip().isdigit():
        raise _bad(f"{what}须为整数")
    return int(raw.strip())


def form_to_body(form: Any, kind: str) -> dict[str, Any]:
    def text(k: str) -> str:
        v = form.get(k, "")
        return v.strip() if isinstance(v, str) else ""

    basis = text("basis") or "amount"
    body: dict[str, Any] = {
        "name": text("name"),
        "starts_at": _when(text("starts_at")),
        "ends_at": _when(text("ends_at")),
        "scope": text("scope") or "all",
        "scope_ids": [_int(x, "编号") for x in text("scope_ids").replace("，", ",").split(",") if x.strip()],
        "scope_exclude": form.get("scope_exclude") == "on",
        "basis": basis,
    }
    if kind == "full_reduction":
        tiers = []
        for k, v in _pairs(text("rules")):
            t: dict[str, Any] = {"threshold": _int(k, "件数") if basis == "count" else _fen(k)}
            t.update({"percent_bp": _off_bp(v)} if v.endswith("折") else {"amount_fen": _fen(v)})
            tiers.append(t)
        body["tiers"] = tiers
    elif kind == "tiered_price":
        body["sku_id"] = _int(text("sku_id"), "SKU 编号")
        body["price_tiers"] = [
            {"min_qty": _int(k, "件数"), "unit_price_fen": _fen(v)} for k, v in _pairs(text("rules"))
        ]
    elif kind == "limited_discount":
        body["items"] = [
            {
                "sku_id": _int(k, "SKU 编号"),
                **({"percent_bp": _off_bp(v)} if v.endswith("折") else {"price_fen": _fen(v)}),
            }
            for k, v in _pairs(text("rules"))
        ]
    elif kind in ("gift", "free_shipping"):
        raw = text("threshold") or "0"
        body["threshold"] = _int(raw, "件数") if basis == "count" and kind == "gift" else _fen(raw)
        if kind == "gift":
            body["gift_sku_id"] = _int(text("gift_sku_id"), "赠品 SKU 编号")
            body["gift_qty"] = _int(text("gift_qty") or "1", "赠送数量")
            body["gift_stock"] = _int(text("gift_stock"), "赠品库存")
    return body


def _local(d: datetime) -> str:
    return to_local(d).strftime("%Y-%m-%dT%H:%M")


def _values(p: Any) -> dict[str, Any]:
    def y(fen: int) -> str:
        return f"{fen / 100:g}"

    rules_text = ""
    if p.kind == "full_reduction":
        rules_text = ", ".join(
            f"{t['threshold'] if p.basis == 'count' else y(t['threshold'])}="
            + (f"{(10_000 - t['percent_bp']) / 1000:g}折" if t.get("percent_bp") else y(t.get("amount_fen", 0)))
            for t in p.tiers
        )
    elif p.kind == "tiered_price":
        rules_text = ", ".join(f"{t['min_qty']}={y(t['unit_price_fen'])}" for t in p.tiers)
    elif p.kind == "limited_discount":
        rules_text = ", ".join(
            f"{i['sku_id']}="
            + (f"{(10_000 - i['percent_bp']) / 1000:g}折" if i.get("percent_bp") is not None else y(i["price_fen"]))
            for i in p.items
        )
    return {
        "kind": p.kind,
        "name": p.name,
        "starts_at": _local(p.starts_at),
        "ends_at": _local(p.ends_at),
        "scope": p.scope_kind,
        "scope_ids": ",".join(str(i) for i in p.scope_ids or []),
        "scope_exclude": p.scope_exclude,
        "basis": p.basis,
        "rules": rules_text,
        "sku_id": p.sku_id or "",
        "threshold": (p.threshold if p.basis == "count" and p.kind == "gift" else y(p.threshold)),
        "gift_sku_id": p.gift_sku_id or "",
        "gift_qty": p.gift_qty,
        "gift_stock": p.gift_stock if p.gift_stock is not None else "",
    }


def _ctx() -> dict[str, Any]:
    return {"KIND_ZH": KIND_ZH, "STATUS_ZH": STATUS_ZH, "SCOPE_ZH": SCOPE_ZH, "label": rules.label}


LABELS = {
    "name": "活动名称",
    "starts_at": "开始时间",
    "ends_at": "结束时间",
    "scope_ids": "适用范围编号",
    "tiers": "优惠规则",
    "price_tiers": "阶梯价规则",
    "items": "折扣商品",
    "threshold": "门槛",
    "sku_id": "SKU 编号",
    "gift_sku_id": "赠品 SKU 编号",
    "gift_qty": "赠送数量",
    "gift_stock": "赠品库存",
}


@router.get("", response_class=HTMLResponse)
async def list_page(ctx: Read) -> Response:
    async with ctx.db.read() as s:
        rows, _ = await service.list_promotions(s, limit=100)
    return render(ctx, "promotions/list.html", active="promotions", rows=rows, **_ctx())


@router.get("/new", response_class=HTMLResponse)
async def new_page(ctx: Write, kind: str = "full_reduction") -> Response:
    kind = kind if kind in KIND_ZH else "full_reduction"
    return render(
        ctx,
        "promotions/form.html",
        active="promotions",
        p=None,
        v={"kind": kind, "scope": "all", "basis": "amount", "gift_qty": 1},
        error="",
        **_ctx(),
    )


@router.post("/new", response_class=HTMLResponse)
async def create(ctx: Write) -> Response:
    form = await ctx.request.form()
    kind = str(form.get("kind", ""))
    try:
        data = form_to(PromotionCreate, {"kind": kind, **form_to_body(form, kind)}, labels=LABELS)
        async with ctx.db.tx() as s:
            p = await service.create(s, data=data)
    except FormInvalid as exc:
        err = exc.message
    except AppError as exc:
        err = error_text(exc)
    else:
        return RedirectResponse(f"/admin/promotions/{p.id}?ok=created", status_code=303)
    return render(
        ctx, "promotions/form.html", status_code=422, active="promotions", p=None, v=dict(form), error=err, **_ctx()
    )


async def _detail(
    ctx: Console, pid: int, *, error: str = "", notice: str = "", v: Any = None, code: int = 200
) -> Response:
    async with ctx.db.read() as s:
        try:
            p = await service.get(s, promotion_id=pid)
        except AppError:
            return render(ctx, "message.html", status_code=404, title="找不到页面", message="活动不存在", level="error")
    return render(
        ctx,
        "promotions/form.html",
        status_code=code,
        active="promotions",
        p=p,
        v=v or _values(p),
        error=error,
        notice=notice,
        readonly=not ctx.can("marketing"),
        **_ctx(),
    )


@router.get("/{promotion_id}", response_class=HTMLResponse)
async def detail(promotion_id: int, ctx: Read, ok: str = "") -> Response:
    notice = {"created": "活动已创建", "saved": "修改已保存", "paused": "已暂停", "active": "已恢复"}.get(ok, "")
    return await _detail(ctx, promotion_id, notice=notice)


@router.post("/{promotion_id}", response_class=HTMLResponse)
async def save(promotion_id: int, ctx: Write) -> Response:
    form = await ctx.request.form()
    async with ctx.db.read() as s:
        try:
            kind = (await service.get(s, promotion_id=promotion_id)).kind
        except AppError:
            return await _detail(ctx, promotion_id)
    try:
        data = form_to(PromotionUpdate, form_to_body(form, kind), labels=LABELS)
        async with ctx.db.tx() as s:
            await service.update_promotion(s, promotion_id=promotion_id, data=data)
    except FormInvalid as exc:
        return await _detail(ctx, promotion_id, error=exc.message, v={**dict(form), "kind": kind}, code=422)
    except AppError as exc:
        return await _detail(ctx, promotion_id, error=error_text(exc), v={**dict(form), "kind": kind}, code=422)
    return RedirectResponse(f"/admin/promotions/{promotion_id}?ok=saved", status_code=303)


@router.post("/{promotion_id}/status", response_class=HTMLResponse)
async def set_status(promotion_id: int, ctx: Write) -> Response:
    status = str((await ctx.request.form()).get("status", ""))
    if status not in STATUS_ZH:
        return await _detail(ctx, promotion_id, error="状态不正确", code=422)
    try:
        async with ctx.db.tx() as s:
            await service.update_promotion(s, promotion_id=promotion_id, data=PromotionUpdate(status=status))  # type: ignore[arg-type]
    except AppError as exc:
        return await _detail(ctx, promotion_id, error=error_text(exc), code=422)
    return RedirectResponse(f"/admin/promotions/{promotion_id}?ok={status}", status_code=303)
