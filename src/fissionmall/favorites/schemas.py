from __future__ import annotations

from fissionmall.core.schemas import ApiDateTime, ApiModel


class ProductCardPublic(ApiModel):
    product_id: int
    title: str
    image: str | None
    price_fen: int
    on_shelf: bool  # false: 已下架 (off shelf or deleted); the entry stays until the shopper removes it


class FavoritePublic(ProductCardPublic):
    created_at: ApiDateTime


class FavoritePage(ApiModel):
    items: list[FavoritePublic]
    next_cursor: str | None
    total: int
    limit: int


class FavoriteState(ApiModel):
    product_id: int
    favorited: bool
    created_at: ApiDateTime


class FavoritedIds(ApiModel):
    ids: list[int]


class ViewPublic(ProductCardPublic):
    viewed_at: ApiDateTime


class HistoryPage(ApiModel):
    items: list[ViewPublic]
    next_cursor: str | None
    limit: int


class ViewRecorded(ApiModel):
    product_id: int
    viewed_at: ApiDateTime
