"""Promotions' refusal codes (core/errors.py: one table for the shop and the console)."""

from fissionmall.core.errors import ErrorCode


class PromotionsError(ErrorCode):
    PROMOTION_WINDOW_INVALID = "PROMOTION_WINDOW_INVALID", "结束时间必须晚于开始时间", 422
    TIERS_REQUIRED = "TIERS_REQUIRED", "请至少设置一档优惠", 422
    TIER_INVALID = "TIER_INVALID", "每档优惠只能填减免金额或折扣之一，折扣须小于 100%", 422
    TIERS_OVERLAP = "TIERS_OVERLAP", "优惠档位重复或不递进：门槛越高，优惠须越大", 422
    ITEMS_REQUIRED = "ITEMS_REQUIRED", "限时折扣须至少添加一个商品", 422
    ITEMS_DUPLICATE = "ITEMS_DUPLICATE", "同一规格只能添加一次", 422
    ITEM_INVALID = "ITEM_INVALID", "每个商品只能填活动价或折扣之一，且折扣须有效", 422
    GIFT_INVALID = "GIFT_INVALID", "满赠须填写赠品规格、赠品数量和门槛", 422
    GIFT_STOCK_BELOW_GIVEN = "GIFT_STOCK_BELOW_GIVEN", "赠品数量不能少于已送出的数量", 409
    GIFT_OUT_OF_STOCK = "GIFT_OUT_OF_STOCK", "赠品刚刚送完，请重新结算查看最新价格", 409
    PROMOTION_IN_USE = "PROMOTION_IN_USE", "已有订单使用该活动，不能删除，请改为暂停", 409
