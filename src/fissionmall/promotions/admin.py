"""Console pages: promotions (list with usage, create, edit, pause/resume).

Each kind has its own form in the merchant's units: thresholds and prices in 元 (or 件), discounts in 折,
start and end with date-time pickers in the shop's zone, every SKU and product chosen with the picker, tiers
and per-SKU prices as table rows. Every mistake of one submit is shown beside its field at once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from fissionmall.catalog import service as catalog
from fissionmall.catalog.admin import clean_ids, picked_products, picked_skus
from fissionmall.core.errors import AppError
from fissionmall.promotions import rules, service
from fissionmall.promotions.schemas import PromotionCreate, PromotionUpdate
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
    whole_number,
    yuan_field,
    zhe_field,
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
SCOPED = ("full_reduction", "gift", "free_shipping")
MAX_ROWS = 10  # the schema's bound on tiers

LABELS = {
    "name": "活动名称",
    "starts_at": "开始时间",
    "ends_at": "结束时间",
    "scope_ids": "适用范围",
    "tiers": "优惠档位",
    "price_tiers": "阶梯价",
    "items": "折扣商品",
    "threshold": "门槛",
    "amount_fen": "减免金额",
    "percent_bp": "折扣",
    "price_fen": "活动价",
    "min_qty": "起购件数",
    "unit_price_fen": "单价",
    "sku_id": "商品规格",
    "gift_sku_id": "赠品",
    "gift_qty": "每单赠送数量",
    "gift_stock": "赠品总数",
}


def _refusal_field(code: str, kind: str) -> str:
    """Where a refusal of the rules (promotions.rules.check, the SKU check) is shown on this kind's form."""
    rows = {"tiered_price": "price_tiers", "limited_discount": "items"}.get(kind, "tiers")
    return {
        "PROMOTION_WINDOW_INVALID": "ends_at",
        "SCOPE_IDS_REQUIRED": "scope_ids",
        "TIERS_REQUIRED": rows,
        "TIER_INVALID": rows,
        "TIERS_OVERLAP": rows,
        "THRESHOLD_BELOW_DISCOUNT": rows,
        "ITEMS_REQUIRED": "items",
        "ITEMS_DUPLICATE": "items",
        "ITEM_INVALID": "items",
        "GIFT_INVALID": "gift_sku_id",
        "GIFT_STOCK_BELOW_GIVEN": "gift_stock",
        "SKU_NOT_FOUND": {"tiered_price": "sku_id", "gift": "gift_sku_id"}.get(kind, "items"),
    }.get(code, "form")


# ---- reading the form ------------------------------------------------------------------------------


def _rows(form: FormData, *names: str) -> list[dict[str, str]]:
    """A table's rows as {column: text} (parallel lists in row order); a row with nothing typed is dropped
    (its `*_mode` select always has a value, so it does not count)."""
    columns = [form_list(form, n) for n in names]
    rows = [dict(zip(names, cells, strict=False)) for cells in zip(*columns, strict=False)]
    return [r for r in rows if any(v for k, v in r.items() if not k.endswith("_mode"))]


def _scope_ids(form: FormData, scope: str) -> list[int]:
    name = {"products": "product_id", "categories": "category_id"}.get(scope)
    return clean_ids(form_list(form, name)) if name else []


def _one_sku(form: FormData, name: str, errs: FormErrors, what: str) -> int | None:
    ids = clean_ids(form_list(form, name))
    if not ids:
        errs.add(name, f"请选择{what}")
    return ids[0] if ids else None


def read_form(form: FormData, kind: str) -> dict[str, Any]:
    """The form as the admin API's body (amounts still typed text for form_to), and the form's own mistakes."""
    errs = FormErrors()
    zone = shop_zone()
    body: dict[str, Any] = {"name": form_text(form, "name", 200)}
    for key, label in (("starts_at", "开始时间"), ("ends_at", "结束时间")):
        if not form_text(form, key):
            errs.add(key, f"请选择{label}")
        body[key] = errs.when(key, form_text(form, key), zone, label)
    basis = form_text(form, "basis") if kind in ("full_reduction", "gift") else "amount"
    body["basis"] = basis if basis in ("amount", "count") else "amount"
    if kind in SCOPED:
        scope = form_text(form, "scope") or "all"
        body.update(scope=scope, scope_ids=_scope_ids(form, scope))
        body["scope_exclude"] = scope != "all" and form.get("scope_exclude") == "on"
        if scope in ("products", "categories") and not body["scope_ids"]:
            errs.add("scope_ids", "请选择适用的商品" if scope == "products" else "请勾选适用的分类")
    if kind == "full_reduction":
        body["tiers"] = [
            {
                "threshold": r["tier_threshold"],
                ("percent_bp" if r["tier_mode"] == "zhe" else "amount_fen"): r["tier_off"],
            }
            for r in _rows(form, "tier_threshold", "tier_mode", "tier_off")
        ][: MAX_ROWS + 1]
        if not body["tiers"]:
            errs.add("tiers", "请至少填写一档优惠")
    elif kind == "tiered_price":
        body["sku_id"] = _one_sku(form, "sku_id", errs, "参加阶梯价的商品规格")
        rows = _rows(form, "tier_qty", "tier_price")[: MAX_ROWS + 1]
        body["price_tiers"] = [{"min_qty": r["tier_qty"], "unit_price_fen": r["tier_price"]} for r in rows]
        if not rows:
            errs.add("price_tiers", "请至少填写一档阶梯价")
    elif kind == "limited_discount":
        body["items"] = []
        for i, r in enumerate(_rows(form, "sku_id", "item_mode", "item_value")[:201]):
            sku = whole_number(r["sku_id"])
            if sku is None:
                errs.add(f"items.{i}.sku_id", "请重新选择这个商品规格")
            value = "percent_bp" if r["item_mode"] == "zhe" else "price_fen"
            if not r["item_value"]:
                errs.add(f"items.{i}.{value}", "请填写折扣" if value == "percent_bp" else "请填写活动价")
            body["items"].append({"sku_id": sku or r["sku_id"], value: r["item_value"]})
        if not body["items"]:
            errs.add("items", "请选择参加限时折扣的商品规格")
    elif kind in ("gift", "free_shipping"):
        body["threshold"] = form_text(form, "threshold") or ("" if kind == "gift" else "0")
        if not body["threshold"]:
            errs.add("threshold", "请填写门槛")
        if kind == "gift":
            body["gift_sku_id"] = _one_sku(form, "gift_sku_id", errs, "赠品")
            body["gift_qty"] = form_text(form, "gift_qty") or "1"
            body["gift_stock"] = form_text(form, "gift_stock")
            if not body["gift_stock"]:
                errs.add("gift_stock", "请填写赠品总数")
    return {"errs": errs, "body": body, "count": body["basis"] == "count"}


def _validate(form: FormData, kind: str, *, create: bool) -> PromotionCreate | PromotionUpdate:
    read = read_form(form, kind)
    errs: FormErrors = read["errs"]
    by_count = read["count"]
    schema: type[PromotionCreate] | type[PromotionUpdate] = PromotionCreate if create else PromotionUpdate
    return errs.validate(
        schema,
        {"kind": kind, **read["body"]} if create else read["body"],
        money=("amount_fen", "price_fen", "unit_price_fen", *(() if by_count else ("threshold",))),
        zhe=("percent_bp",),
        whole=("min_qty", "gift_qty", "gift_stock", *(("threshold",) if by_count else ())),
        labels=LABELS,
    )


# ---- what the form shows ---------------------------------------------------------------------------


def _values(p: Any) -> dict[str, Any]:
    """A saved promotion as its form shows it (元, 折,件, picker times, one row per tier)."""
    zone = shop_zone()
    v: dict[str, Any] = {
        "kind": p.kind,
        "name": p.name,
        "starts_at": picker_value(p.starts_at, zone),
        "ends_at": picker_value(p.ends_at, zone),
        "scope": p.scope_kind,
        "scope_exclude": "on" if p.scope_exclude else "",
        "basis": p.basis,
        "threshold": str(p.threshold) if p.basis == "count" and p.kind == "gift" else yuan_field(p.threshold),
        "gift_qty": str(p.gift_qty),
        "gift_stock": "" if p.gift_stock is None else str(p.gift_stock),
        "tier_rows": [],
        "price_rows": [],
        "item_rows": [],
    }
    if p.kind == "full_reduction":
        v["tier_rows"] = [
            {
                "threshold": str(t["threshold"]) if p.basis == "count" else yuan_field(t["threshold"]),
                "mode": "zhe" if t.get("percent_bp") else "amount",
                "off": zhe_field(t["percent_bp"]) if t.get("percent_bp") else yuan_field(t.get("amount_fen", 0)),
            }
            for t in p.tiers
        ]
    elif p.kind == "tiered_price":
        v["price_rows"] = [{"qty": str(t["min_qty"]), "price": yuan_field(t["unit_price_fen"])} for t in p.tiers]
    elif p.kind == "limited_discount":
        v["item_rows"] = [
            {
                "sku_id": i["sku_id"],
                "mode": "zhe" if i.get("percent_bp") is not None else "price",
                "value": zhe_field(i["percent_bp"]) if i.get("percent_bp") is not None else yuan_field(i["price_fen"]),
            }
            for i in p.items
        ]
    return v


def _typed(form: FormData, kind: str) -> dict[str, Any]:
    """What a refused form showed, to show it again as typed."""
    v: dict[str, Any] = {k: form_text(form, k) for k in ("name", "starts_at", "ends_at", "scope", "basis")}
    v.update({k: form_text(form, k) for k in ("scope_exclude", "threshold", "gift_qty", "gift_stock")}, kind=kind)
    v["tier_rows"] = [
        {"threshold": r["tier_threshold"], "mode": r["tier_mode"], "off": r["tier_off"]}
        for r in _rows(form, "tier_threshold", "tier_mode", "tier_off")
    ]
    v["price_rows"] = [{"qty": r["tier_qty"], "price": r["tier_price"]} for r in _rows(form, "tier_qty", "tier_price")]
    if kind == "limited_discount":
        v["item_rows"] = [
            {"sku_id": whole_number(r["sku_id"]), "mode": r["item_mode"], "value": r["item_value"]}
            for r in _rows(form, "sku_id", "item_mode", "item_value")
        ]
    else:
        v["item_rows"] = []
    v["sku_ids"] = clean_ids(form_list(form, "sku_id"))
    v["gift_ids"] = clean_ids(form_list(form, "gift_sku_id"))
    v["scope_ids"] = _scope_ids(form, v["scope"])
    return v


async def _form_page(
    ctx: Console,
    p: Any | None,
    v: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Response:
    kind = v["kind"]
    if p is not None and "sku_ids" not in v:
        v.update(
            sku_ids=[p.sku_id] if p.sku_id else [],
            gift_ids=[p.gift_sku_id] if p.gift_sku_id else [],
            scope_ids=list(p.scope_ids or []),
        )
    row_ids = [r["sku_id"] for r in v.get("item_rows", []) if r.get("sku_id")]
    items = {it["id"]: it for it in await picked_skus(ctx.db, row_ids)}
    for r in v.get("item_rows", []):
        r["item"] = items.get(r.get("sku_id"))
    async with ctx.db.read() as s:
        categories = [(c.id, c.name) for c in await catalog.list_categories(s)] if kind in SCOPED else []
    scope_ids = v.get("scope_ids", [])
    return render(
        ctx,
        "promotions/form.html",
        status_code=status_code,
        active="promotions",
        p=p,
        v=v,
        errors=errors or {},
        notice=notice,
        readonly=not ctx.can("marketing"),
        chosen_sku=await picked_skus(ctx.db, v.get("sku_ids", [])[:1]),
        chosen_gift=await picked_skus(ctx.db, v.get("gift_ids", [])[:1]),
        chosen_products=await picked_products(ctx.db, scope_ids) if v.get("scope") == "products" else [],
        categories=categories,
        chosen_categories=set(scope_ids) if v.get("scope") == "categories" else set(),
        MAX_ROWS=MAX_ROWS,
        **_ctx(),
    )


def _ctx() -> dict[str, Any]:
    return {"KIND_ZH": KIND_ZH, "STATUS_ZH": STATUS_ZH, "SCOPE_ZH": SCOPE_ZH, "label": rules.label}


def _blank(kind: str) -> dict[str, Any]:
    one = {"threshold": "", "mode": "amount", "off": ""}
    return {
        "kind": kind,
        "scope": "all",
        "basis": "amount",
        "gift_qty": "1",
        "tier_rows": [one],
        "price_rows": [{"qty": "", "price": ""}, {"qty": "", "price": ""}],
        "item_rows": [],
    }


# ---- pages -----------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def list_page(ctx: Read) -> Response:
    async with ctx.db.read() as s:
        rows, _ = await service.list_promotions(s, limit=100)
    return render(ctx, "promotions/list.html", active="promotions", rows=rows, **_ctx())


@router.get("/new", response_class=HTMLResponse)
async def new_page(ctx: Write, kind: str = "full_reduction") -> Response:
    return await _form_page(ctx, None, _blank(kind if kind in KIND_ZH else "full_reduction"))


async def _submit(ctx: Console, form: FormData, p: Any | None, kind: str) -> Response:
    """Save the form (a new promotion when `p` is None); a refusal shows it again with every mistake marked."""
    try:
        data = _validate(form, kind, create=p is None)
        async with ctx.db.tx() as s:
            if p is not None and isinstance(data, PromotionUpdate):
                saved = await service.update_promotion(s, promotion_id=p.id, data=data)
            elif isinstance(data, PromotionCreate):
                saved = await service.create(s, data=data)
    except AppError as exc:
        errors = {_refusal_field(exc.code, kind): error_text(exc)}
    except FormInvalid as exc:
        errors = exc.errors
    else:
        return RedirectResponse(f"/admin/promotions/{saved.id}?ok={'saved' if p else 'created'}", status_code=303)
    return await _form_page(ctx, p, _typed(form, kind), errors=errors, status_code=422)


@router.post("/new", response_class=HTMLResponse)
async def create(ctx: Write) -> Response:
    form = await ctx.request.form()
    kind = form_text(form, "kind")
    return await _submit(ctx, form, None, kind if kind in KIND_ZH else "full_reduction")


async def _get(ctx: Console, pid: int) -> Any | None:
    async with ctx.db.read() as s:
        try:
            return await service.get(s, promotion_id=pid)
        except AppError:
            return None


def _missing(ctx: Console) -> Response:
    return render(ctx, "message.html", status_code=404, title="找不到页面", message="活动不存在", level="error")


@router.get("/{promotion_id}", response_class=HTMLResponse)
async def detail(promotion_id: int, ctx: Read, ok: str = "") -> Response:
    p = await _get(ctx, promotion_id)
    if p is None:
        return _missing(ctx)
    notice = {"created": "活动已创建", "saved": "修改已保存", "paused": "已暂停", "active": "已恢复"}.get(ok, "")
    return await _form_page(ctx, p, _values(p), notice=notice)


@router.post("/{promotion_id}", response_class=HTMLResponse)
async def save(promotion_id: int, ctx: Write) -> Response:
    form = await ctx.request.form()
    p = await _get(ctx, promotion_id)
    return _missing(ctx) if p is None else await _submit(ctx, form, p, p.kind)


@router.post("/{promotion_id}/status", response_class=HTMLResponse)
async def set_status(promotion_id: int, ctx: Write) -> Response:
    status = str((await ctx.request.form()).get("status", ""))
    p = await _get(ctx, promotion_id)
    if p is None:
        return _missing(ctx)
    if status not in STATUS_ZH:
        return await _form_page(ctx, p, _values(p), errors={"form": "状态不正确"}, status_code=422)
    try:
        async with ctx.db.tx() as s:
            await service.update_promotion(s, promotion_id=promotion_id, data=PromotionUpdate(status=status))  # type: ignore[arg-type]
    except AppError as exc:
        return await _form_page(ctx, p, _values(p), errors={"form": error_text(exc)}, status_code=422)
    return RedirectResponse(f"/admin/promotions/{promotion_id}?ok={status}", status_code=303)
