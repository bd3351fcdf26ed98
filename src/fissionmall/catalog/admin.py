"""Console pages: products (list, search, create, edit with their SKUs, delete)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from fissionmall.catalog import service as catalog
from fissionmall.catalog.models import Product
from fissionmall.catalog.schemas import ProductCreate, ProductUpdate
from fissionmall.core.db import Database
from fissionmall.core.errors import AppError
from fissionmall.core.money import yuan
from fissionmall.core.schemas import IdPath
from fissionmall.web.console import (
    PAGE_SIZE,
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
NAV_SECTION = "shop"

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
    errors: dict[str, str] = field(default_factory=dict)  # field ("name", "price", "stock") → message


@dataclass
class ProductForm:
    """What the operator typed, kept as text so a refused form comes back exactly as it was."""

    title: str = ""
    category: str = ""
    description: str = ""
    labels: str = ""
    status: str = "on_sale"
    skus: list[SkuRow] = field(default_factory=lambda: [SkuRow()])
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(r.errors for r in self.skus)

    @classmethod
    def from_product(cls, p: Product) -> ProductForm:
        return cls(
            title=p.title,
            category=p.category.name if p.category else "",
            description=p.description,
            labels="，".join(str(x) for x in p.labels),
            status=p.status,
            skus=[
                SkuRow(id=str(k.id), name=k.name, price=yuan(k.price_fen), stock=str(k.stock))
                for k in p.skus
                if k.is_active
            ],
        )

    @classmethod
    def from_form(cls, form: FormData) -> ProductForm:
        ids, names, prices, stocks = (form_list(form, f"sku_{k}") for k in ("id", "name", "price", "stock"))
        n = max(len(ids), len(names), len(prices), len(stocks))
        rows = []
        for i in range(n):
            sku_id, name, price, stock = (col[i] if i < len(col) else "" for col in (ids, names, prices, stocks))
            row = SkuRow(id=sku_id, name=name, price=price, stock=stock)
            if row.id or row.name or row.price or row.stock:  # a blank row added by mistake is no row
                rows.append(row)
        return cls(
            title=form_text(form, "title", 500),
            category=form_text(form, "category", 200),
            description=form_text(form, "description", 10_000),
            labels=form_text(form, "labels", 1000),
            status=form_text(form, "status", 20),
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
                    "name": row.name,
                    "price_fen": row.price,
                    "stock": int(stock) if _INT.match(stock) else stock,
                }
            )
        return {
            "title": self.title,
            "category": self.category or None,
            "description": self.description,
            "labels": self.label_list(),
            "status": self.status,
            "skus": skus,
        }

    def place(self, errors: dict[str, str]) -> None:
        """Put each refusal beside its field (a SKU's beside its cell); the form's own messages come first."""
        for path, message in errors.items():
            key, *rest = path.split(".")
            if key == "skus" and rest and rest[0].isdigit() and int(rest[0]) < len(self.skus):
                column = {"price_fen": "price", "stock": "stock"}.get(rest[1] if len(rest) > 1 else "", "name")
                self.skus[int(rest[0])].errors.setdefault(column, message)
            else:
                self.errors.setdefault(key if key in _LABELS else "form", message)


_LABELS = {
    "title": "商品标题",
    "category": "分类名称",
    "description": "商品描述",
    "labels": "标签",
    "status": "商品状态",
    "skus": "规格",
    "name": "规格名称",
    "price_fen": "价格",
    "stock": "库存",
}
M = TypeVar("M", ProductCreate, ProductUpdate)


def _validated(form: ProductForm, schema: type[M]) -> M | None:
    """The form through the API's schema, or None with every refusal shown beside its field."""
    body = form.body()
    try:
        data = form_to(schema, body, money=("price_fen",), labels=_LABELS)
    except FormInvalid as exc:
        form.place(exc.errors)
        return None
    return None if form.has_errors else data


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


async def _categories(db: Database) -> list[str]:
    async with db.read() as s:
        return [c.name for c in await catalog.list_categories(s)]


async def _product_page(
    ctx: Console, form: ProductForm, *, product: Product | None = None, status_code: int = 200, notice: str = ""
) -> HTMLResponse:
    return render(
        ctx,
        "product_form.html",
        status_code=status_code,
        active="products",
        form=form,
        product=product,
        categories=await _categories(ctx.db),
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
            form.errors["form"] = error_text(exc)
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
            form.errors["form"] = error_text(exc)
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
