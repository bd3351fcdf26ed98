"""积分商城's refusals."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class PointsMallError(ErrorCode):
    MALL_ITEM_NOT_FOUND = "MALL_ITEM_NOT_FOUND", "该兑换商品不存在或已下架", 404
    MALL_SKU_REQUIRED = "MALL_SKU_REQUIRED", "实物兑换请选择商品规格", 422
    MALL_COUPON_REQUIRED = "MALL_COUPON_REQUIRED", "优惠券兑换请选择优惠券", 422
    MALL_SKU_NOT_FOUND = "MALL_SKU_NOT_FOUND", "所选规格不存在或商品未上架", 404
    MALL_COUPON_NOT_FOUND = "MALL_COUPON_NOT_FOUND", "所选优惠券不存在", 404
    MALL_COUPON_INACTIVE = "MALL_COUPON_INACTIVE", "所选优惠券已停用，请先启用", 409
    MALL_WINDOW_INVALID = "MALL_WINDOW_INVALID", "结束时间须晚于开始时间", 422
    MALL_STOCK_BELOW_REDEEMED = "MALL_STOCK_BELOW_REDEEMED", "库存不能少于已兑换的数量", 409
    MALL_STOCK_CHANGED = "MALL_STOCK_CHANGED", "库存刚被修改过，请刷新后重试", 409
    MALL_ITEM_CLOSED = "MALL_ITEM_CLOSED", "该兑换已结束，库存已退回，不能再修改", 409
    MALL_NOT_STARTED = "MALL_NOT_STARTED", "兑换尚未开始", 409
    MALL_ENDED = "MALL_ENDED", "兑换已结束", 409
    MALL_SOLD_OUT = "MALL_SOLD_OUT", "已兑完", 409
    MALL_LIMIT_REACHED = "MALL_LIMIT_REACHED", "已达到每人兑换上限", 409
    MALL_SKU_MISMATCH = "MALL_SKU_MISMATCH", "该兑换商品不含这个规格", 422
    MALL_NO_ADDRESS_FOR_COUPON = "MALL_NO_ADDRESS_FOR_COUPON", "兑换优惠券无需填写收货地址", 422
