"""The chain's own refusal codes: a step says why in a code, the sentence is only what is shown."""

from fissionmall.core.errors import ErrorCode


class PricingError(ErrorCode):
    COUPON_NOT_APPLICABLE = "COUPON_NOT_APPLICABLE", "该商品不可使用优惠券"
    COUPON_BELOW_THRESHOLD = "COUPON_BELOW_THRESHOLD", "未达到优惠券使用门槛", 409
