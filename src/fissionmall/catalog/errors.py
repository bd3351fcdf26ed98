"""The catalogue's refusals: SKUs and their stock (which the marketing domains raise too), the spec matrix,
list prices and merchant codes."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class CatalogError(ErrorCode):
    SKU_NOT_FOUND = "SKU_NOT_FOUND", "该规格已下架", 404
    SKU_NOT_IN_PRODUCT = "SKU_NOT_IN_PRODUCT", "规格不属于该商品，请刷新页面后重试"
    OUT_OF_STOCK = "OUT_OF_STOCK", "库存不足", 409
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK", "商品库存不足", 409
    SOLD_OUT = "SOLD_OUT", "已售罄", 409
    LIST_PRICE_BELOW_PRICE = "LIST_PRICE_BELOW_PRICE", "划线价不能低于售价"
    SKU_NAME_REQUIRED = "SKU_NAME_REQUIRED", "请填写规格名称"
    SKU_CODE_DUPLICATE = "SKU_CODE_DUPLICATE", "同一商品的两个规格用了相同的商家编码"
    SKU_CODE_TAKEN = "SKU_CODE_TAKEN", "商家编码已被其他在售规格使用", 409
    SPEC_TOO_MANY_DIMENSIONS = "SPEC_TOO_MANY_DIMENSIONS", "规格最多 3 个维度（如 颜色、尺码、款式）"
    SPEC_DUPLICATE_DIMENSION = "SPEC_DUPLICATE_DIMENSION", "规格维度名称重复"
    SPEC_DUPLICATE_VALUE = "SPEC_DUPLICATE_VALUE", "同一规格维度中有重复的值"
    SPEC_MISSING_DIMENSION = "SPEC_MISSING_DIMENSION", "规格缺少维度的取值，每个规格须选齐所有维度"
    SPEC_UNKNOWN_DIMENSION = "SPEC_UNKNOWN_DIMENSION", "规格含有商品未设置的维度"
    SPEC_UNKNOWN_VALUE = "SPEC_UNKNOWN_VALUE", "规格的取值不在该维度的可选值中"
    SPEC_DUPLICATE_COMBINATION = "SPEC_DUPLICATE_COMBINATION", "两个规格的组合相同"
