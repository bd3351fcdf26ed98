"""收藏 and 足迹's refusals (an unknown or off-shelf product is catalog's PRODUCT_NOT_FOUND)."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class FavoritesError(ErrorCode):
    FAVORITES_FULL = "FAVORITES_FULL", "收藏已满，请先取消一些不需要的收藏", 409
