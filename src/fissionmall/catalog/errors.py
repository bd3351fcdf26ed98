"""The catalogue's refusals: SKUs and their stock, which the marketing domains raise too."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class CatalogError(ErrorCode):
    SKU_NOT_FOUND = "SKU_NOT_FOUND", "该规格已下架", 404
    SKU_NOT_IN_PRODUCT = "SKU_NOT_IN_PRODUCT", "规格不属于该商品，请刷新页面后重试"
    OUT_OF_STOCK = "OUT_OF_STOCK", "库存不足", 409
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK", "商品库存不足", 409
    SOLD_OUT = "SOLD_OUT", "已售罄", 409
