"""Checkout's refusal codes (core/errors.py: one table for the shop and the console). Checkout also
raises catalog's SKU_NOT_FOUND / OUT_OF_STOCK, pricing's coupon refusals and core's RATE_LIMITED."""

from fissionmall.core.errors import ErrorCode


class CheckoutError(ErrorCode):
    QTY_TOO_LARGE = "QTY_TOO_LARGE", "购买数量超出限制"
    POINTS_NOT_APPLICABLE = "POINTS_NOT_APPLICABLE", "积分抵扣暂未开放"
    TENDER_EXCEEDS_PAYABLE = "TENDER_EXCEEDS_PAYABLE", "抵扣金额超过订单应付金额"
