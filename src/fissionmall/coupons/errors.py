"""Coupons' refusal codes (core/errors.py: one table for the shop and the console)."""

from fissionmall.core.errors import ErrorCode


class CouponError(ErrorCode):
    COUPON_NOT_FOUND = "COUPON_NOT_FOUND", "优惠券不存在", 404
    COUPON_USED = "COUPON_USED", "该优惠券已被使用或正被其他订单占用", 409
    COUPON_EXPIRED = "COUPON_EXPIRED", "该优惠券已过期", 409
    COUPON_NOT_STARTED = "COUPON_NOT_STARTED", "该优惠券还未到可用时间", 409
    COUPON_NOT_APPLICABLE = "COUPON_NOT_APPLICABLE", "该商品不可使用优惠券"
