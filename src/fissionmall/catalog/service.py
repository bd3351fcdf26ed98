"""Products, SKUs and stock. Stock only moves through conditional updates.

What checkout reads of a SKU and its product (title, price, images, status, category) is cached per process
under the `catalog` version (core.cache): every writer below bumps it in its transaction. Stock is never
cached: it moves with every order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import rules
from fissionmall.catalog.errors import CatalogError
from fissionmall.catalog.models import Category, Product, Sku
from fissionmall.catalog.schemas import (
    ProductAdmin,
    ProductCreate,
    ProductPublic,
    ProductUpdate,
    SkuAdmin,
    SkuCreate,
    SkuPublic,
)
from fissionmall.core import cache, clock
from fissionmall.core.db import keyset_page
from fissionmall.core.errors import AppError, Conflict, not_found
from fissionmall.core.sql import contains_text
from fissionmall.media import service as media


async def category_id(s: AsyncSession, *, name: str | None) -> int | None:
    """The id of category `name`, created on first use."""
    if not name:
        return None
    cid = await s.scalar(select(Category.id).where(Category.name == name))
    if cid is None:
        cat = Category(name=name)
        s.add(cat)
        await s.flush()
        cid = cat.id
    return cid


async def create_product(s: AsyncSession, *, data: ProductCreate) -> Product:
    """Create a product with its SKUs."""
    specs = [d.model_dump() for d in data.specs]
    names = rules.sku_names(specs, [_facts(k) for k in data.skus])
    await _codes_free(s, codes=[k.code for k in data.skus], product_id=None)
    now = clock.now()
    p = Product(
        title=data.title,
        description=data.description,
        detail_html=data.detail_html,
        specs=specs,
        shipping_template_id=data.shipping_template_id,
        category_id=await category_id(s, name=data.category),
        images=await media.resolve_refs(s, refs=list(data.images)),
        labels=list(data.labels),
        status=data.status,
        created_at=now,
        updated_at=now,
        skus=[Sku(stock=k.stock, **_sku_fields(k, name, specs)) for k, name in zip(data.skus, names, strict=True)],
    )
    s.add(p)
    await _flush_codes(s)
    await cache.bump(s, CATALOG)  # a SKU id asked for before it existed is remembered as not for sale
    return await get_product(s, product_id=p.id, include_hidden=True)


async def update_product(s: AsyncSession, *, product_id: int, data: ProductUpdate) -> Product:
    """Edit a product; a `skus` list replaces the SKU set (SKUs left out are retired, not deleted)."""
    p = await get_product(s, product_id=product_id, include_hidden=True, for_update=True)
    specs = [d.model_dump() for d in data.specs] if data.specs is not None else list(p.specs)
    if data.skus is not None:
        names = rules.sku_names(specs, [_facts(k) for k in data.skus])
        await _codes_free(s, codes=[k.code for k in data.skus], product_id=product_id)
    elif data.specs is not None:  # new dimensions: the SKUs kept must still fit them
        kept = [k for k in p.skus if k.is_active]
        rules.sku_names(specs, [rules.SkuFacts(k.name, k.price_fen, k.list_price_fen, k.code, k.spec) for k in kept])
    fields = data.model_dump(exclude_unset=True, exclude={"skus", "category", "specs", "shipping_template_id"})
    for field, value in fields.items():
        if value is not None:
            setattr(p, field, value)
    if data.images is not None:
        p.images = await media.resolve_refs(s, refs=list(data.images))
    p.specs = specs
    if "shipping_template_id" in data.model_fields_set:
        p.shipping_template_id = data.shipping_template_id
    if "category" in data.model_fields_set:
        p.category_id = await category_id(s, name=data.category)
    if data.skus is not None:
        await _replace_skus(s, p, data.skus, names, specs)
    p.updated_at = clock.now()
    await _flush_codes(s)
    await cache.bump(s, CATALOG)
    s.expire(p)
    return await get_product(s, product_id=product_id, include_hidden=True)


async def delete_product(s: AsyncSession, *, product_id: int) -> None:
    """Remove a product from sale for good (kept for the orders that name it)."""
    p = await get_product(s, product_id=product_id, include_hidden=True, for_update=True)
    p.status = "deleted"
    p.updated_at = clock.now()
    for sku in p.skus:
        sku.is_active = False  # never for sale again, and its 商家编码 free for another SKU
    await s.flush()
    await cache.bump(s, CATALOG)


def _facts(k: SkuCreate) -> rules.SkuFacts:
    return rules.SkuFacts(k.name, k.price_fen, k.list_price_fen, k.code, k.spec)


def _sku_fields(k: SkuCreate, name: str, specs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "price_fen": k.price_fen,
        "list_price_fen": k.list_price_fen,
        "code": k.code,
        "weight_g": k.weight_g,
        "spec": rules.ordered_spec(specs, k.spec),
    }


async def _replace_skus(
    s: AsyncSession, p: Product, given: list[SkuCreate], names: list[str], specs: list[dict[str, Any]]
) -> None:
    by_id = {sku.id: sku for sku in p.skus}
    if any(k.id is not None and k.id not in by_id for k in given):
        raise AppError(CatalogError.SKU_NOT_IN_PRODUCT)
    # Codes move between this product's SKUs (a swap, a retired SKU's code reused): free them all first, so
    # the unique index never sees two SKUs holding one code half-way through.
    if any(k.code for k in given) and any(sku.code for sku in p.skus if sku.is_active):
        for sku in p.skus:
            if sku.is_active:
                sku.code = None
        await s.flush()
    keep = {k.id for k in given if k.id is not None}
    for sku in p.skus:
        if sku.id not in keep:
            sku.is_active = False  # past orders still point at it
    for k, name in zip(given, names, strict=True):
        fields = _sku_fields(k, name, specs)
        if k.id is None:
            p.skus.append(Sku(stock=k.stock, **fields))
            continue
        existing = by_id[k.id]
        for key, value in fields.items():
            setattr(existing, key, value)
        existing.stock, existing.is_active = k.stock, True


async def _codes_free(s: AsyncSession, *, codes: list[str | None], product_id: int | None) -> None:
    """Refuse a 商家编码 another product's SKU on sale holds (the unique index is the wall behind this)."""
    wanted = [c for c in codes if c]
    if not wanted:
        return
    q = select(Sku.code).where(Sku.code.in_(wanted), Sku.is_active.is_(True))
    if product_id is not None:
        q = q.where(Sku.product_id != product_id)
    taken = await s.scalar(q.limit(1))
    if taken is not None:
        raise Conflict(CatalogError.SKU_CODE_TAKEN, sku_code=taken, field=f"skus.{codes.index(taken)}.code")


async def _flush_codes(s: AsyncSession) -> None:
    try:
        await s.flush()
    except IntegrityError as exc:  # two writers took one code at once: the index let one win
        if "code" not in str(exc.orig):
            raise
        raise Conflict(CatalogError.SKU_CODE_TAKEN) from None


async def get_product(
    s: AsyncSession, *, product_id: int, include_hidden: bool = False, for_update: bool = False
) -> Product:
    """A product on sale (or, for the console, any not deleted), or NOT_FOUND."""
    q = select(Product).where(Product.id == product_id)
    q = q.where(Product.status != "deleted") if include_hidden else q.where(Product.status == "on_sale")
    if for_update:
        q = q.with_for_update()
    p = await s.scalar(q)
    if p is None:
        raise not_found("product")
    return p


async def list_products(
    s: AsyncSession,
    *,
    q: str | None = None,
    category_id: int | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
    include_hidden: bool = False,
) -> tuple[list[Product], str | None]:
    """Products newest first, one keyset page; `q` searches title and description."""
    stmt = select(Product).order_by(Product.id.desc())
    if include_hidden:
        stmt = stmt.where(Product.status != "deleted")
        if status:
            stmt = stmt.where(Product.status == status)
    else:
        stmt = stmt.where(Product.status == "on_sale")
    q = (q or "").replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
    if q:
        stmt = stmt.where(or_(contains_text(Product.title, q), contains_text(Product.description, q)))
    if category_id:
        stmt = stmt.where(Product.category_id == category_id)
    if before_id:
        stmt = stmt.where(Product.id < before_id)
    return await keyset_page(s, stmt, limit=limit)


async def list_categories(s: AsyncSession) -> Sequence[Category]:
    """Every category in its display order."""
    return (await s.scalars(select(Category).order_by(Category.sort, Category.id))).all()


@dataclass(frozen=True, slots=True)
class ProductForSale:
    """What checkout knows of a product on sale (cached: changes only through this module's writers)."""

    id: int
    title: str
    category_id: int | None
    images: tuple[Any, ...]
    labels: tuple[Any, ...]
    status: str


@dataclass(frozen=True, slots=True)
class SkuForSale:
    """A SKU on sale: its cached facts, with `stock` as the database holds it at the call."""

    id: int
    product_id: int
    name: str
    price_fen: int
    is_active: bool
    stock: int


CATALOG = "catalog"
_for_sale: cache.Keyed[int, tuple[SkuForSale, ProductForSale]] = cache.Keyed(CATALOG)


async def _load_for_sale(s: AsyncSession, sku_ids: set[int]) -> dict[int, tuple[SkuForSale, ProductForSale]]:
    rows = await s.execute(
        select(
            Sku.id,
            Sku.product_id,
            Sku.name,
            Sku.price_fen,
            Product.title,
            Product.category_id,
            Product.images,
            Product.labels,
            Product.status,
        )
        .join(Product, Sku.product_id == Product.id)
        .where(Sku.id.in_(sku_ids), Sku.is_active.is_(True), Product.status == "on_sale")
    )
    products: dict[int, ProductForSale] = {}
    out = {}
    for sku_id, product_id, name, price_fen, title, category_id, images, labels, status in rows.all():
        prod = products.get(product_id)
        if prod is None:
            prod = products[product_id] = ProductForSale(
                product_id, title, category_id, tuple(images or ()), tuple(labels or ()), status
            )
        out[sku_id] = (SkuForSale(sku_id, product_id, name, price_fen, True, 0), prod)
    return out


async def skus_for_sale(
    s: AsyncSession, *, sku_ids: Sequence[int], with_stock: bool = True
) -> dict[int, tuple[SkuForSale, ProductForSale]]:
    """SKUs that can be bought now, with their products, keyed by SKU id: the catalogue's facts from the
    process cache (an edit shows within about `cache.POLL_SECONDS`), the stock read now. `with_stock=False`
    (placing an order, whose stock is taken by a conditional UPDATE anyway) skips that read: `stock` is
    then the cached figure and must not be relied on."""
    found = await _for_sale.get_many(s, sku_ids, _load_for_sale)
    if not found or not with_stock:
        return found
    # By primary key, one row per SKU: what preview's OUT_OF_STOCK and a seckill pool's default size need
    # exactly (creation still takes stock with the conditional UPDATE).
    rows = await s.execute(select(Sku.id, Sku.stock).where(Sku.id.in_(found)))
    stock = {sku_id: n for sku_id, n in rows.all()}
    return {i: (replace(sku, stock=stock[i]), prod) for i, (sku, prod) in found.items() if i in stock}


async def sell_stock(s: AsyncSession, *, sku_id: int, qty: int) -> None:
    """Decrement stock if enough is left, atomically; never read-then-write."""
    res = await s.execute(
        update(Sku)
        .where(Sku.id == sku_id, Sku.stock >= qty)
        .values(stock=Sku.stock - qty, sold=Sku.sold + qty)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(CatalogError.OUT_OF_STOCK, sku_id=sku_id)


async def unsell_stock(s: AsyncSession, *, sku_id: int, qty: int) -> None:
    """Give units of a cancelled or refunded order back to the SKU's stock and take them off its sold count."""
    await s.execute(
        update(Sku)
        .where(Sku.id == sku_id)
        .values(stock=Sku.stock + qty, sold=Sku.sold - qty)
        .execution_options(synchronize_session=False)
    )


def to_public(p: Product) -> ProductPublic:
    """A product as shoppers see it: active SKUs only, the lowest price, the sales count."""
    skus = [k for k in p.skus if k.is_active]
    low = min(skus, key=lambda k: (k.price_fen, -(k.list_price_fen or 0)), default=None)
    return ProductPublic(
        id=p.id,
        title=p.title,
        description=p.description,
        detail_html=p.detail_html,
        specs=list(p.specs),
        category=p.category.name if p.category else None,
        images=list(p.images),
        labels=list(p.labels),
        price_fen=low.price_fen if low else 0,
        list_price_fen=low.list_price_fen if low else None,
        sales=sum(k.sold for k in p.skus),
        skus=[
            SkuPublic(
                id=k.id,
                name=k.name,
                price_fen=k.price_fen,
                stock=k.stock,
                list_price_fen=k.list_price_fen,
                spec=dict(k.spec or {}),
            )
            for k in skus
        ],
    )


def to_admin(p: Product) -> ProductAdmin:
    """A product as the admin API shows it, every SKU included."""
    return ProductAdmin(
        id=p.id,
        title=p.title,
        description=p.description,
        detail_html=p.detail_html,
        specs=list(p.specs),
        shipping_template_id=p.shipping_template_id,
        category=p.category.name if p.category else None,
        images=list(p.images),
        labels=list(p.labels),
        status=p.status,
        created_at=p.created_at,
        updated_at=p.updated_at,
        skus=[SkuAdmin.model_validate(k) for k in p.skus],
    )


async def stock_to_pool(s: AsyncSession, *, sku_id: int, qty: int) -> None:
    """Move stock out of the SKU into a tool's own pool (a seckill pool), not counted as sold; atomic."""
    res = await s.execute(
        update(Sku)
        .where(Sku.id == sku_id, Sku.stock >= qty)
        .values(stock=Sku.stock - qty)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(CatalogError.INSUFFICIENT_STOCK, sku_id=sku_id)


async def pool_to_stock(s: AsyncSession, *, sku_id: int, qty: int) -> None:
    """Give a pool's unsold units back to the SKU."""
    if qty > 0:
        await s.execute(
            update(Sku)
            .where(Sku.id == sku_id)
            .values(stock=Sku.stock + qty)
            .execution_options(synchronize_session=False)
        )
