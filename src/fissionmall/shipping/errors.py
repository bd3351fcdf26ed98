"""Shipping templates' refusals (运费模板)."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class ShippingError(ErrorCode):
    SHIPPING_TEMPLATE_NOT_FOUND = "SHIPPING_TEMPLATE_NOT_FOUND", "该运费模板不存在", 404
    SHIPPING_TEMPLATE_IN_USE = "SHIPPING_TEMPLATE_IN_USE", "仍有商品使用该运费模板，请先为这些商品换一个模板", 409
    SHIPPING_DEFAULT_REQUIRED = "SHIPPING_DEFAULT_REQUIRED", "须保留一个默认运费模板：请先把其他模板设为默认", 409
    SHIPPING_ONE_DEFAULT = "SHIPPING_ONE_DEFAULT", "只能有一个默认运费模板，请先把其他模板设为默认", 409
    SHIPPING_REGION_OVERLAP = "SHIPPING_REGION_OVERLAP", "同一地区出现在多条运费规则里", 400
    SHIPPING_REGION_UNKNOWN = "SHIPPING_REGION_UNKNOWN", "地区编码不存在", 400
    SHIPPING_FEE_NEGATIVE = "SHIPPING_FEE_NEGATIVE", "运费不能为负数", 400
    SHIPPING_UNIT_ZERO = "SHIPPING_UNIT_ZERO", "首件（首重）和续件（续重）须大于 0", 400
    SHIPPING_FREE_CONDITION_EMPTY = "SHIPPING_FREE_CONDITION_EMPTY", "包邮条件须填满多少元或满多少件", 400
    SHIPPING_REGION_NOT_DELIVERED = "SHIPPING_REGION_NOT_DELIVERED", "所选地址不在部分商品的配送范围内", 400
