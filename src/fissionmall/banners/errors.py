"""首页轮播图's refusals."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class BannerError(ErrorCode):
    BANNER_NOT_FOUND = "BANNER_NOT_FOUND", "该轮播图不存在", 404
    BANNER_LIMIT_REACHED = "BANNER_LIMIT_REACHED", "最多同时启用 10 张轮播图，请先停用或删除一张", 409
    BANNER_PRODUCT_REQUIRED = "BANNER_PRODUCT_REQUIRED", "跳转到商品时请选择商品", 422
    BANNER_PRODUCT_NOT_FOUND = "BANNER_PRODUCT_NOT_FOUND", "所选商品不存在或已删除", 404
    BANNER_WINDOW_INVALID = "BANNER_WINDOW_INVALID", "结束时间须晚于开始时间", 422
