"""Checkout's refusal codes (core/errors.py: one table for the shop and the console)."""

from fissionmall.core.errors import ErrorCode


class CheckoutError(ErrorCode):
    QTY_TOO_LARGE = "QTY_TOO_LARGE", "购买数量超出限制"
    SKU_NOT_FOUND = "SKU_NOT_FOUND", "该规格已下架", 404
    OUT_OF_STOCK = "OUT_OF_STOCK", "库存不足", 409
    POINTS_NOT_APPLICABLE = "POINTS_NOT_APPLICABLE", "暂不支持积分抵扣"
    COUPON_NOT_APPLICABLE = "COUPON_NOT_APPLICABLE", "该商品不可使用优惠券"
    RATE_LIMITED = "RATE_LIMITED", "下单太频繁，请稍后再试", 429
    TENDER_EXCEEDS_PAYABLE = "TENDER_EXCEEDS_PAYABLE", "抵扣金额超过订单应付金额"
