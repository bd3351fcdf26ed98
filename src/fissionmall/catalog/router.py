from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from fissionmall.accounts.deps import Admin, require
from fissionmall.catalog import service
from fissionmall.catalog.schemas import (
    CategoryPublic,
    ProductAdmin,
    ProductCreate,
    ProductPublic,
    ProductUpdate,
)
from fissionmall.core import extras
from fissionmall.core.deps import Cursor, DbDep, Limit
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor

router = APIRouter(tags=["catalog"])
admin_router = APIRouter(tags=["admin: catalog"])

Search = Annotated[str | None, Query(max_length=60)]


@router.get("/products", response_model=Page[ProductPublic])
async def list_products(
    db: DbDep,
    q: Search = None,
    category_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[ProductPublic]:
    """Products on sale, newest first; `q` searches title and description."""
    async with db.read() as s:
        rows, nxt = await service.list_products(
            s, q=q, category_id=category_id, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        items = [service.to_public(p) for p in rows]
        # what the tools add to the cards (the derived 包邮 label, …), one answer for the whole page
        for field, by_id in (await extras.gather(extras.PRODUCT_LIST, s=s, products=items, rows=rows)).items():
            for p in items:
                if p.id in by_id:
                    setattr(p, field, by_id[p.id])
        return Page(items=items, next_cursor=nxt)


@router.get("/products/{product_id}", response_model=ProductPublic)
async def get_product(product_id: IdPath, db: DbDep) -> ProductPublic:
    async with db.read() as s:
        row = await service.get_product(s, product_id=product_id)
        p = service.to_public(row)
        # what the marketing tools running on this product add (promotions' badges, …)
        for field, value in (await extras.gather(extras.PRODUCT, s=s, product=p, category_id=row.category_id)).items():
            setattr(p, field, value)
    return p


@router.get("/categories", response_model=list[CategoryPublic])
async def categories(db: DbDep) -> list[CategoryPublic]:
    async with db.read() as s:
        return [CategoryPublic.model_validate(c) for c in await service.list_categories(s)]


CatalogWrite = Annotated[Admin, Depends(require("catalog"))]
CatalogRead = Annotated[Admin, Depends(require("catalog.read"))]


@admin_router.get("/products", response_model=Page[ProductAdmin])
async def admin_list(
    _: CatalogRead,
    db: DbDep,
    q: Search = None,
    status: Annotated[str | None, Query(pattern="^(on_sale|off_sale)$")] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[ProductAdmin]:
    async with db.read() as s:
        rows, nxt = await service.list_products(
            s, q=q, status=status, before_id=parse_cursor(cursor), limit=page_limit(limit), include_hidden=True
        )
        return Page(items=[service.to_admin(p) for p in rows], next_cursor=nxt)


@admin_router.post("/products", response_model=ProductAdmin, status_code=201)
async def admin_create(body: ProductCreate, _: CatalogWrite, db: DbDep) -> ProductAdmin:
    async with db.tx() as s:
        return service.to_admin(await service.create_product(s, data=body))


@admin_router.get("/products/{product_id}", response_model=ProductAdmin)
async def admin_get(product_id: IdPath, _: CatalogRead, db: DbDep) -> ProductAdmin:
    async with db.read() as s:
        return service.to_admin(await service.get_product(s, product_id=product_id, include_hidden=True))


@admin_router.put("/products/{product_id}", response_model=ProductAdmin)
@admin_router.patch("/products/{product_id}", response_model=ProductAdmin, include_in_schema=False)
async def admin_update(product_id: IdPath, body: ProductUpdate, _: CatalogWrite, db: DbDep) -> ProductAdmin:
    async with db.tx() as s:
        return service.to_admin(await service.update_product(s, product_id=product_id, data=body))


@admin_router.delete("/products/{product_id}", status_code=204)
async def admin_delete(product_id: IdPath, _: CatalogWrite, db: DbDep) -> Response:
    async with db.tx() as s:
        await service.delete_product(s, product_id=product_id)
    return Response(status_code=204)
