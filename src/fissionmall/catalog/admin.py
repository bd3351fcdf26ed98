"""Console pages: products (list, search, create, edit with their SKUs, delete), and the product/SKU picker.

The picker (static/console/picker.js, documented in docs/picker.md) searches `GET /admin/products/picker`;
a form that re-renders after a refusal shows the chosen items again through `picked_skus` /
`picked_products`, the same shape the endpoint answers with.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from fissionmall.catalog import rules
from fissionmall.catalog import service as catalog
from fissionmall.catalog.models import Product, Sku
from fissionmall.catalog.schemas import ProductCreate, ProductUpdate, SkuCreate
from fissionmall.core import extras
from fissionmall.core.db import Database
from fissionmall.core.errors import AppError, CoreError
from fissionmall.core.money import yuan
from fissionmall.core.schemas import MAX_BIGINT, IdPath, parse_cursor
from fissionmall.media import service as media
from fissionmall.web.console import (
    PAGE_SIZE,
    Anyone,
    Console,
    FormInvalid,
    console,
    cursor_of,
    error_text,
    form_list,
    form_text,
    form_to,
    not_found,
    page_link,
    render,
    vocabulary,
)

router = APIRouter(prefix="/admin", include_in_schema=False)
NAV = [("products", "商品", "/admin/products", "catalog.read")]
NAV_SECTION = "catalog"

CatalogRead = Annotated[Console, Depends(console("catalog.read"))]
CatalogWrite = Annotated[Console, Depends(console("catalog"))]

PRODUCT_STATUS_ZH = {"on_sale": "在售", "off_sale": "已下架"}
vocabulary(PRODUCT_STATUS_ZH=PRODUCT_STATUS_ZH)

_INT = re.compile(r"^[0-9]{1,12}$")
_LABEL_SPLIT = re.compile(r"[,，、;；\n]+")
MAX_STOCK = 100_000_000


@dataclass
class SkuRow:
    id: str = ""
    name: str = ""
    price: str = ""
    stock: str = ""
    list_price: str = ""
    code: str = ""
    weight: str = ""
    spec: dict[str, str] = field(default_factory=dict)  # {"颜色": "红", "尺码": "M"} in a spec matrix
    spec_text: str = ""  # the hidden field as posted (JSON), kept when it could not be read
    errors: dict[str, str] = field(default_factory=dict)  # column ("name", "price", …) → message

    @property
    def spec_json(self) -> str:
        return json.dumps(self.spec, ensure_ascii=False) if self.spec else self.spec_text

    @property
    def spec_label(self) -> str:
        return rules.NAME_JOIN.join(self.spec.values())


@dataclass
class DimRow:
    """One dimension of the spec matrix as typed: a name and its values as a comma list."""

    name: str = ""
    values: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # "name" | "values" → message

    def value_list(self) -> list[str]:
        return [x.strip() for x in _LABEL_SPLIT.split(self.values) if x.strip()]


@dataclass
class ProductForm:
    """What the operator typed, kept as text so a refused form comes back exactly as it was."""

    title: str = ""
    category: str = ""
    description: str = ""
    detail_html: str = ""
    labels: str = ""
    status: str = "on_sale"
    shipping_template_id: str = ""
    images: list[str] = field(default_factory=list)
    dims: list[DimRow] = field(default_factory=list)
    skus: list[SkuRow] = field(default_factory=lambda: [SkuRow()])
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(r.errors for r in self.skus) or any(d.errors for d in self.dims)

    @classmethod
    def from_product(cls, p: Product) -> ProductForm:
        return cls(
            title=p.title,
            category=p.category.name if p.category else "",
            description=p.description,
            detail_html=p.detail_html,
            labels="，".join(str(x) for x in p.labels),
            status=p.status,
            shipping_template_id=str(p.shipping_template_id or ""),
            images=[str(x) for x in p.images],
            dims=[DimRow(name=d["name"], values="，".join(d["values"])) for d in p.specs],
            skus=[
                SkuRow(
                    id=str(k.id),
                    name=k.name,
                    price=yuan(k.price_fen),
                    stock=str(k.stock),
                    list_price=yuan(k.list_price_fen) if k.list_price_fen is not None else "",
                    code=k.code or "",
                    weight="" if k.weight_g is None else str(k.weight_g),
                    spec=dict(k.spec or {}),
                )
                for k in p.skus
                if k.is_active
            ],
        )

    @classmethod
    def from_form(cls, form: FormData) -> ProductForm:
        cols = [form_list(form, f"sku_{k}") for k in _SKU_COLUMNS]
        n = max(len(c) for c in cols)
        rows = []
        for i in range(n):
            cells = dict(zip(_SKU_COLUMNS, (c[i] if i < len(c) else "" for c in cols), strict=True))
            spec_text = cells.pop("spec")
            row = SkuRow(
                id=cells["id"],
                name=cells["name"],
                price=cells["price"],
                stock=cells["stock"],
                list_price=cells["list_price"],
                code=cells["code"],
                weight=cells["weight"],
                spec_text=spec_text[:2000],
            )
            row.spec = _read_spec(spec_text, row)
            if any(cells.values()) or row.spec:  # a blank row added by mistake is no row
                rows.append(row)
        names, values = form_list(form, "spec_name"), form_list(form, "spec_values")
        dims = [
            DimRow(name=names[i][:100] if i < len(names) else "", values=values[i][:2000] if i < len(values) else "")
            for i in range(max(len(names), len(values)))
        ]
        return cls(
            title=form_text(form, "title", 500),
            category=form_text(form, "category", 200),
            description=form_text(form, "description", 10_000),
            # cleaned as it is read, so even a refused form never shows the operator's raw HTML back
            detail_html=rules.clean_detail_html(form_text(form, "detail_html", 100_000)),
            labels=form_text(form, "labels", 1000),
            status=form_text(form, "status", 20),
            shipping_template_id=form_text(form, "shipping_template_id", 30),
            images=[u for u in form_list(form, "images") if u][:50],
            dims=[d for d in dims if d.name or d.values],
            skus=rows,
        )

    def label_list(self) -> list[str]:
        return [x.strip() for x in _LABEL_SPLIT.split(self.labels) if x.strip()]

    def body(self) -> dict[str, Any]:
        """The request body for the catalog schemas, prices as typed (元); the form's own checks (what the
        schema cannot tell from text: a SKU id, a stock count) fill in their messages."""
        skus = []
        for row in self.skus:
            if row.id and not _INT.match(row.id):
                row.errors["name"] = "规格编号无效，请刷新页面"
            stock = unicodedata.normalize("NFKC", row.stock).strip()
            if not _INT.match(stock) or int(stock) > MAX_STOCK:
                row.errors["stock"] = "库存须为 0 到 100000000 之间的整数"
            skus.append(
                {
                    "id": int(row.id) if _INT.match(row.id) else (row.id or None),
                    "name": row.name or None,
                    "price_fen": row.price,
                    "list_price_fen": row.list_price,
                    "stock": int(stock) if _INT.match(stock) else stock,
                    "code": row.code or None,
                    "weight_g": row.weight,
                    "spec": row.spec,
                }
            )
        template = self.shipping_template_id
        if template and not _INT.match(template):
            self.errors["shipping_template_id"] = "请选择运费模板"
        return {
            "title": self.title,
            "category": self.category or None,
            "description": self.description,
            "detail_html": self.detail_html,
            "labels": self.label_list(),
            "status": self.status,
            "shipping_template_id": int(template) if _INT.match(template) else None,
            "images": list(self.images),
            "specs": [{"name": d.name, "values": d.value_list()} for d in self.dims],
            "skus": skus,
        }

    def place(self, errors: dict[str, str]) -> None:
        """Put each refusal beside its field (a SKU's beside its cell); the form's own messages come first."""
        for path, message in errors.items():
            key, *rest = path.split(".")
            at = int(rest[0]) if rest and rest[0].isdigit() else -1
            sub = rest[1] if len(rest) > 1 else ""
            if key == "skus" and 0 <= at < len(self.skus):
                self.skus[at].errors.setdefault(_SKU_CELL.get(sub, "name"), message)
            elif key == "specs" and 0 <= at < len(self.dims):
                self.dims[at].errors.setdefault("name" if sub == "name" else "values", message)
            else:
                self.errors.setdefault(key if key in _LABELS else "form", message)


_SKU_COLUMNS = ("id", "name", "price", "stock", "list_price", "code", "weight", "spec")
# a schema field of a SKU → the row's cell its refusal is shown beside
_SKU_CELL = dict(zip(("price_fen", "stock", "list_price_fen", "code", "weight_g"), _SKU_COLUMNS[2:7], strict=True))


def _read_spec(text: str, row: SkuRow) -> dict[str, str]:
    """A row's combination, posted as a JSON object by the matrix editor ({} when the row has none)."""
    if not text:
        return {}
    try:
        spec = json.loads(text)
    except ValueError:
        spec = None
    if not isinstance(spec, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in spec.items()):
        row.errors["name"] = "规格组合无效，请刷新页面后重新填写"
        return {}
    return spec


_LABELS = dict(  # keyword form: a literal "code" key reads as an error body to the error-code scan
    title="商品标题",
    category="分类名称",
    description="商品描述",
    detail_html="图文详情",
    labels="标签",
    status="商品状态",
    images="商品图片",
    shipping_template_id="运费模板",
    specs="规格维度",
    values="规格值",
    skus="规格",
    name="规格名称",
    spec="规格组合",
    price_fen="价格",
    list_price_fen="划线价",
    stock="库存",
    code="商家编码",
    weight_g="重量（克）",
)
M = TypeVar("M", ProductCreate, ProductUpdate)


def _validated(form: ProductForm, schema: type[M]) -> M | None:
    """The form through the API's schema and the catalogue's rules, or None with every refusal shown beside
    its field."""
    body = form.body()
    try:
        data = form_to(schema, body, money=("price_fen", "list_price_fen"), whole=("weight_g",), labels=_LABELS)
        rules.sku_names([d.model_dump() for d in data.specs or []], [_facts(k) for k in data.skus or []])
    except FormInvalid as exc:
        form.place(exc.errors)
        return None
    except AppError as exc:
        form.place({str(exc.detail.get("field", "form")): error_text(exc)})
        return None
    return None if form.has_errors else data


def _facts(k: SkuCreate) -> rules.SkuFacts:
    return rules.SkuFacts(k.name, k.price_fen, k.list_price_fen, k.code, k.spec)


def _product_row(p: Product) -> dict[str, Any]:
    skus = [k for k in p.skus if k.is_active]
    prices = [k.price_fen for k in skus]
    return {
        "id": p.id,
        "title": p.title,
        "image": p.images[0] if p.images else None,
        "category": p.category.name if p.category else "",
        "labels": list(p.labels),
        "low": min(prices, default=0),
        "high": max(prices, default=0),
        "stock": sum(k.stock for k in skus),
        "sold": sum(k.sold for k in p.skus),
        "skus": len(skus),
        "status": p.status,
        "updated_at": p.updated_at,
    }


_NOTICES = {"created": "商品已创建", "saved": "修改已保存", "deleted": "商品已下架删除"}


def _notice(request: Request) -> str:
    return _NOTICES.get(request.query_params.get("ok", ""), "")


@router.get("/products", response_class=HTMLResponse)
async def products(ctx: CatalogRead, q: str = "", status: str = "", cursor: str = "") -> Response:
    q = q.strip()[:60]
    status = status if status in PRODUCT_STATUS_ZH else ""
    async with ctx.db.read() as s:
        rows, nxt = await catalog.list_products(
            s, q=q or None, status=status or None, before_id=cursor_of(cursor), limit=PAGE_SIZE, include_hidden=True
        )
    return render(
        ctx,
        "products.html",
        active="products",
        rows=[_product_row(p) for p in rows],
        q=q,
        status=status,
        next_url=page_link(ctx.request, nxt),
        paged=bool(cursor),
        notice=_notice(ctx.request),
    )


# ---- the product/SKU picker ----------------------------------------------------------------------

PICKER_PAGE = 8
PICKER_MAX_IDS = 100
_PICKER_NOTE = "没有查看商品的权限"


def _thumb(p: Product) -> str | None:
    """The product's cover as a thumbnail (the library's small copy when there is one)."""
    first = next((x for x in p.images if isinstance(x, str) and x), None)
    return (media.thumb_for(first) or first) if first else None


def _picker_sku(p: Product, k: Sku) -> dict[str, Any]:
    return {
        "id": k.id,
        "product_id": p.id,
        "title": p.title,
        "name": k.name,
        "label": f"{p.title} · {k.name}" if k.name else p.title,
        "price": yuan(k.price_fen),
        "price_fen": k.price_fen,
        "stock": k.stock,
        "thumb": _thumb(p),
    }


def _picker_product(p: Product) -> dict[str, Any]:
    skus = [k for k in p.skus if k.is_active]
    low, high = min((k.price_fen for k in skus), default=0), max((k.price_fen for k in skus), default=0)
    return {
        "id": p.id,
        "product_id": p.id,
        "title": p.title,
        "name": "",
        "label": p.title,
        "price": yuan(low) if low == high else f"{yuan(low)}–{yuan(high)}",
        "price_fen": low,
        "stock": sum(k.stock for k in skus),
        "thumb": _thumb(p),
        "status": p.status,
        "skus": [_picker_sku(p, k) for k in skus],
    }


def _ids(raw: str) -> list[int] | None:
    """A comma list of ids ("12,15"), None when any part is not one."""
    parts = [x.strip() for x in raw.split(",") if x.strip()]
    if len(parts) > PICKER_MAX_IDS or not all(_INT.match(x) and 1 <= int(x) <= MAX_BIGINT for x in parts):
        return None
    return [int(x) for x in parts]


def clean_ids(values: list[str]) -> list[int]:
    """The ids a picker posted (one hidden input each), blanks and junk dropped, first occurrence kept."""
    out: list[int] = []
    for v in values:
        if _INT.match(v) and 1 <= int(v) <= MAX_BIGINT and int(v) not in out:
            out.append(int(v))
    return out


async def picked_skus(db: Database, ids: list[int]) -> list[dict[str, Any]]:
    """The SKUs a form had chosen, in the picker's shape and the given order (unknown or retired ids left out),
    so a form re-rendered after a refusal shows its choices again."""
    if not ids:
        return []
    async with db.read() as s:
        skus = (await s.scalars(select(Sku).where(Sku.id.in_(ids), Sku.is_active.is_(True)))).all()
        products = {
            p.id: p
            for p in (await s.scalars(select(Product).where(Product.id.in_({k.product_id for k in skus})))).all()
        }
    by_id = {k.id: _picker_sku(products[k.product_id], k) for k in skus if k.product_id in products}
    return [by_id[i] for i in ids if i in by_id]


async def picked_products(db: Database, ids: list[int]) -> list[dict[str, Any]]:
    """The products a form had chosen, in the picker's shape and the given order (deleted ones left out)."""
    if not ids:
        return []
    async with db.read() as s:
        rows = (await s.scalars(select(Product).where(Product.id.in_(ids), Product.status != "deleted"))).all()
    by_id = {p.id: _picker_product(p) for p in rows}
    return [by_id[i] for i in ids if i in by_id]


def _picker_refusal(exc: AppError) -> JSONResponse:
    body = exc.body()
    body["error"]["message"] = error_text(exc)
    return JSONResponse(body, status_code=exc.status, headers={"Cache-Control": "no-store"})


@router.get("/products/picker")
async def product_picker(
    ctx: Anyone, q: str = "", cursor: str = "", sku_ids: str = "", product_ids: str = "", limit: str = ""
) -> JSONResponse:
    """Products on sale matching `q` (newest first, a keyset page), each with its SKUs' name, price and stock;
    or, with `sku_ids` / `product_ids`, those items (the picker resolving a pre-filled choice).

    For catalogue and marketing staff alike: every marketing form picks products."""
    if not (ctx.can("catalog.read") or ctx.can("marketing.read")):
        return _picker_refusal(AppError(CoreError.PERMISSION_DENIED, _PICKER_NOTE))
    try:
        before = parse_cursor(cursor or None)
        size = _picker_limit(limit)
        if sku_ids or product_ids:
            wanted = _ids(sku_ids or product_ids)
            if wanted is None:
                where = "sku_ids" if sku_ids else "product_ids"
                raise AppError(CoreError.INVALID_VALUE, "商品或规格编号无效", field=where)
            items = await (picked_skus if sku_ids else picked_products)(ctx.db, wanted)
            return JSONResponse({"items": items, "next_cursor": None}, headers={"Cache-Control": "no-store"})
    except AppError as exc:
        return _picker_refusal(exc)
    async with ctx.db.read() as s:
        rows, nxt = await catalog.list_products(s, q=q.strip()[:60] or None, before_id=before, limit=size)
    return JSONResponse(
        {"items": [_picker_product(p) for p in rows], "next_cursor": nxt}, headers={"Cache-Control": "no-store"}
    )


def _picker_limit(raw: str) -> int:
    if not raw:
        return PICKER_PAGE
    if not _INT.match(raw) or not 1 <= int(raw) <= 50:
        raise AppError(CoreError.LIMIT_INVALID, field="limit")
    return int(raw)


async def _choices(db: Database) -> tuple[list[str], list[dict[str, Any]]]:
    """The form's choices: categories, and the 运费模板 the shipping tool offers (none without one)."""
    async with db.read() as s:
        cats = [c.name for c in await catalog.list_categories(s)]
        templates = (await extras.gather(extras.PRODUCT_FORM, s=s)).get("shipping_templates", [])
    return cats, list(templates)


async def _product_page(
    ctx: Console, form: ProductForm, *, product: Product | None = None, status_code: int = 200, notice: str = ""
) -> HTMLResponse:
    categories, templates = await _choices(ctx.db)
    return render(
        ctx,
        "product_form.html",
        status_code=status_code,
        active="products",
        form=form,
        product=product,
        categories=categories,
        shipping_templates=templates,
        readonly=not ctx.can("catalog"),
        notice=notice,
    )


@router.get("/products/new", response_class=HTMLResponse)
async def product_new(ctx: CatalogWrite) -> Response:
    return await _product_page(ctx, ProductForm())


@router.post("/products/new", response_class=HTMLResponse)
async def product_create(ctx: CatalogWrite) -> Response:
    form = ProductForm.from_form(await ctx.request.form())
    data = _validated(form, ProductCreate)
    if data is not None:
        try:
            async with ctx.db.tx() as s:
                p = await catalog.create_product(s, data=data)
        except AppError as exc:
            form.place({str(exc.detail.get("field", "form")): error_text(exc)})
        else:
            return RedirectResponse(f"/admin/products/{p.id}?ok=created", status_code=303)
    return await _product_page(ctx, form, status_code=422)


async def _load_product(ctx: Console, product_id: int) -> Product | None:
    try:
        async with ctx.db.read() as s:
            return await catalog.get_product(s, product_id=product_id, include_hidden=True)
    except AppError:
        return None


@router.get("/products/{product_id}", response_class=HTMLResponse)
async def product_edit(ctx: CatalogRead, product_id: IdPath) -> Response:
    p = await _load_product(ctx, product_id)
    if p is None:
        return not_found(ctx, "该商品不存在或已删除。")
    return await _product_page(ctx, ProductForm.from_product(p), product=p, notice=_notice(ctx.request))


@router.post("/products/{product_id}", response_class=HTMLResponse)
async def product_update(ctx: CatalogWrite, product_id: IdPath) -> Response:
    p = await _load_product(ctx, product_id)
    if p is None:
        return not_found(ctx, "该商品不存在或已删除。")
    form = ProductForm.from_form(await ctx.request.form())
    data = _validated(form, ProductUpdate)
    if data is not None:
        try:
            async with ctx.db.tx() as s:
                await catalog.update_product(s, product_id=product_id, data=data)
        except AppError as exc:
            form.place({str(exc.detail.get("field", "form")): error_text(exc)})
        else:
            return RedirectResponse(f"/admin/products/{product_id}?ok=saved", status_code=303)
    return await _product_page(ctx, form, product=p, status_code=422)


@router.post("/products/{product_id}/delete")
async def product_delete(ctx: CatalogWrite, product_id: IdPath) -> Response:
    try:
        async with ctx.db.tx() as s:
            await catalog.delete_product(s, product_id=product_id)
    except AppError:
        return not_found(ctx, "该商品不存在或已删除。")
    return RedirectResponse("/admin/products?ok=deleted", status_code=303)
