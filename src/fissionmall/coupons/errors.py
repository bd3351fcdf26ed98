"""Coupons' refusal codes (core/errors.py: one table for the shop and the console)."""

from fissionmall.core.errors import ErrorCode


class CouponsError(ErrorCode):
    COUPON_AMOUNT_REQUIRED = "COUPON_AMOUNT_REQUIRED", "满减券须填写减免金额", 422
    COUPON_PERCENT_INVALID = "COUPON_PERCENT_INVALID", "折扣比例须大于 0 且小于 100%", 422
    VALIDITY_INVALID = "VALIDITY_INVALID", "有效期设置有误：填写截止日期或有效天数之一，且开始须早于截止", 422
    VALIDITY_REVERSED = "VALIDITY_REVERSED", "有效期的截止时间须晚于开始时间", 422
    VALIDITY_ENDED = "VALIDITY_ENDED", "有效期已经结束：截止时间须晚于现在", 422
    CLAIM_WINDOW_INVALID = "CLAIM_WINDOW_INVALID", "领取开始时间须早于结束时间", 422
    TOTAL_BELOW_ISSUED = "TOTAL_BELOW_ISSUED", "发放总量不能少于已发出的数量", 409
    TEMPLATE_IN_USE = "TEMPLATE_IN_USE", "该券已有发放记录，不能删除，请改为暂停", 409
    ALREADY_GRANTED = "ALREADY_GRANTED", "这次发放已经完成，无需重复发放", 409
    COUPON_NOT_CLAIMABLE = "COUPON_NOT_CLAIMABLE", "该券暂不可领取", 409
    CLAIM_NOT_STARTED = "CLAIM_NOT_STARTED", "尚未开始领取", 409
    CLAIM_ENDED = "CLAIM_ENDED", "领取已结束", 409
    CLAIM_LIMIT_REACHED = "CLAIM_LIMIT_REACHED", "已达领取上限", 409
    COUPON_SOLD_OUT = "COUPON_SOLD_OUT", "来晚了，券已抢光", 409
    COUPON_NOT_FOUND = "COUPON_NOT_FOUND", "优惠券不存在", 404
    COUPON_USED = "COUPON_USED", "该券已被使用", 409
    COUPON_EXPIRED = "COUPON_EXPIRED", "该券已过期", 409
    COUPON_NOT_STARTED = "COUPON_NOT_STARTED", "该券尚未到可用时间", 409
