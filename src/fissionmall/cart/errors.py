"""The cart's refusals (core/errors.py: one table for the shop and the console)."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class CartError(ErrorCode):
    CART_ITEM_NOT_FOUND = "CART_ITEM_NOT_FOUND", "购物车里没有这件商品", 404
    CART_FULL = "CART_FULL", "购物车已满，请先清理部分商品", 409
    CART_LINE_MAX = "CART_LINE_MAX", "单件商品数量已达上限", 409
    CART_QTY_EXCEEDS_STOCK = "CART_QTY_EXCEEDS_STOCK", "库存不足，无法再加", 409
    CART_QTY_ZERO = "CART_QTY_ZERO", "数量至少为 1，不要的商品请删除"
    CART_SKU_UNAVAILABLE = "CART_SKU_UNAVAILABLE", "商品已下架或已售罄", 409
    CART_EMPTY = "CART_EMPTY", "请先选择要结算的商品"
    CART_LINE_INVALID = "CART_LINE_INVALID", "所选商品中有已失效的商品，请先移除", 409
    CART_TOO_MANY_SELECTED = "CART_TOO_MANY_SELECTED", "一次最多结算 50 种商品"
