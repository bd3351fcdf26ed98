"""The chain's own refusal codes, and the rule checks coupons and promotions share: a step says why in
a code, the sentence is only what is shown (core/errors.py: one table)."""

from fissionmall.core.errors import ErrorCode


class PricingError(ErrorCode):
    COUPON_NOT_APPLICABLE = "COUPON_NOT_APPLICABLE", "该券不适用于当前订单"
    COUPON_BELOW_THRESHOLD = "COUPON_BELOW_THRESHOLD", "未达到使用门槛", 409
    SCOPE_IDS_REQUIRED = "SCOPE_IDS_REQUIRED", "指定商品或分类时须选择适用的商品或分类", 422
    THRESHOLD_BELOW_DISCOUNT = "THRESHOLD_BELOW_DISCOUNT", "使用门槛不能低于优惠金额", 422
