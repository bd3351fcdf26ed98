"""Flash-sale refusals (the old rules.MESSAGES folded in). Stock codes are the catalogue's, the path token
and captcha risk's, RATE_LIMITED core's."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class SeckillError(ErrorCode):
    NOT_STARTED = "NOT_STARTED", "还没开始，请稍候", 409
    ENDED = "ENDED", "活动已结束", 409
    LIMIT_REACHED = "LIMIT_REACHED", "已达每人限购数量", 409
    NEW_USERS_ONLY = "NEW_USERS_ONLY", "仅限新用户抢购", 409
    SKU_MISMATCH = "SKU_MISMATCH", "秒杀订单只能购买该秒杀商品的规格"
    ATTEMPT_NOT_FOUND = "ATTEMPT_NOT_FOUND", "排队记录不存在或已过期", 404
    # Not raised: the reason a polled attempt failed with when its result was lost.
    LOST = "LOST", "排队结果丢失，请重试", 409
    # Not raised either: an attempt the order refused for its input (consumer.py), e.g. the address.
    INVALID = "INVALID", "下单信息有误，请检查收货地址后重试"
    WINDOW_INVALID = "WINDOW_INVALID", "结束时间必须晚于开始时间"
    DUPLICATE_SKU = "DUPLICATE_SKU", "同一规格只能出现一次"
    DUPLICATE_ITEM = "DUPLICATE_ITEM", "同一秒杀商品只能出现一次"
    ITEM_NOT_IN_SESSION = "ITEM_NOT_IN_SESSION", "该商品不在本场秒杀中", 404
    POOL_CHANGED = "POOL_CHANGED", "秒杀库存刚被其他人修改过，请刷新页面后再改", 409
    POOL_BELOW_SOLD = "POOL_BELOW_SOLD", "秒杀库存不能少于已售出的数量", 409
    PRICE_NOT_BELOW_SKU = "PRICE_NOT_BELOW_SKU", "秒杀价须低于商品原价"
