"""收藏 and 足迹: /api/v1/me/favorites, /api/v1/me/history (the shopper's own rows only).

The product GET stays public and cached: the shop asks `GET /me/favorites/contains?ids=` for the ♡'s
state and records a view with `PUT /me/history/{product_id}` when a logged-in shopper opens the page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from fissionmall.accounts.deps import CurrentCustomer
from fissionmall.core.deps import Cursor, DbDep, Limit
from fissionmall.core.schemas import IdPath, page_limit, parse_cursor
from fissionmall.favorites import service
from fissionmall.favorites.schemas import FavoritedIds, FavoritePage, FavoriteState, HistoryPage, ViewRecorded

router = APIRouter(tags=["favorites"])

# Up to 100 product ids, comma-separated: a page of cards asks in one request.
IdList = Annotated[str, Query(pattern=r"^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17}){0,99}$")]


@router.get("/me/favorites", response_model=FavoritePage)
async def list_favorites(
    caller: CurrentCustomer, db: DbDep, limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    """The shopper's 收藏, newest first, with each product's title, image, lowest price and `on_shelf`."""
    async with db.read() as s:
        items, nxt = await service.list_favorites(
            s, customer_id=caller.id, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        total = await service.count_favorites(s, customer_id=caller.id)
    return {"items": items, "next_cursor": nxt, "total": total, "limit": service.MAX_FAVORITES}


@router.get("/me/favorites/contains", response_model=FavoritedIds)
async def favorited(ids: IdList, caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """Which of `ids` (comma-separated, up to 100) the shopper has favourited."""
    wanted = {int(x) for x in ids.split(",")}
    async with db.read() as s:
        return {"ids": await service.favorited_among(s, customer_id=caller.id, product_ids=wanted)}


@router.put("/me/favorites/{product_id}", response_model=FavoriteState)
async def add_favorite(product_id: IdPath, caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """收藏 a product on sale; idempotent. 404 PRODUCT_NOT_FOUND, 409 FAVORITES_FULL past the cap."""
    async with db.tx() as s:
        f = await service.add_favorite(s, customer_id=caller.id, product_id=product_id)
        return {"product_id": f.product_id, "favorited": True, "created_at": f.created_at}


@router.delete("/me/favorites/{product_id}", status_code=204)
async def remove_favorite(product_id: IdPath, caller: CurrentCustomer, db: DbDep) -> Response:
    """取消收藏; idempotent (204 whether or not it was there)."""
    async with db.tx() as s:
        await service.remove_favorite(s, customer_id=caller.id, product_id=product_id)
    return Response(status_code=204)


@router.get("/me/history", response_model=HistoryPage)
async def list_history(
    caller: CurrentCustomer, db: DbDep, limit: Limit = None, cursor: Cursor = None
) -> dict[str, Any]:
    """The shopper's 足迹 (the latest 100 products viewed), the last viewed first."""
    before = parse_cursor(cursor)
    async with db.read() as s:
        items, nxt = await service.list_history(
            s,
            customer_id=caller.id,
            before=service.cursor_time(before) if before else None,
            limit=page_limit(limit, default=50),
        )
    return {"items": items, "next_cursor": nxt, "limit": service.MAX_HISTORY}


@router.put("/me/history/{product_id}", response_model=ViewRecorded)
async def record_view(product_id: IdPath, caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """Record that the shopper opened the product page (the shop calls it; the product GET stays cacheable)."""
    async with db.tx() as s:
        at = await service.record_view(s, customer_id=caller.id, product_id=product_id)
    return {"product_id": product_id, "viewed_at": at}


@router.delete("/me/history/{product_id}", status_code=204)
async def forget_view(product_id: IdPath, caller: CurrentCustomer, db: DbDep) -> Response:
    """Remove one product from 足迹."""
    async with db.tx() as s:
        await service.forget_view(s, customer_id=caller.id, product_id=product_id)
    return Response(status_code=204)


@router.delete("/me/history", status_code=204)
async def clear_history(caller: CurrentCustomer, db: DbDep) -> Response:
    """Empty 足迹."""
    async with db.tx() as s:
        await service.clear_history(s, customer_id=caller.id)
    return Response(status_code=204)
