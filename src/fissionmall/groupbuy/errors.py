"""Group-buying refusals. SKU and stock codes are the catalogue's."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class GroupbuyError(ErrorCode):
    # The console's activity forms
    SKU_DUPLICATE = "SKU_DUPLICATE", "同一规格只能设置一次拼团价"
    GROUP_PRICE_TOO_HIGH = "GROUP_PRICE_TOO_HIGH", "拼团价不能高于商品原价"
    LEADER_DISCOUNT_TOO_HIGH = "LEADER_DISCOUNT_TOO_HIGH", "团长优惠须低于每个规格的拼团价", 422
    STOCK_SPLIT_REQUIRED = "STOCK_SPLIT_REQUIRED", "活动有多个规格：请在每个规格上填写活动库存，总数等于活动库存", 422
    ACTIVITY_WINDOW_INVALID = "ACTIVITY_WINDOW_INVALID", "结束时间必须晚于开始时间"
    ACTIVITY_STOCK_RETURNED = "ACTIVITY_STOCK_RETURNED", "活动库存已退回商品，不能再调整", 409
    STOCK_CHANGED = "STOCK_CHANGED", "活动库存刚被修改，请刷新后重试", 409
    STOCK_BELOW_RESERVED = "STOCK_BELOW_RESERVED", "活动库存不能少于已被占用的数量", 409
    ACTIVITY_NOT_FOUND = "ACTIVITY_NOT_FOUND", "拼团活动不存在", 404
    # The shopper's side
    ACTIVITY_NOT_STARTED = "ACTIVITY_NOT_STARTED", "活动尚未开始", 409
    ACTIVITY_ENDED = "ACTIVITY_ENDED", "活动已结束", 409
    GROUP_NOT_FOUND = "GROUP_NOT_FOUND", "团不存在或已取消", 404
    GROUP_NOT_OPEN = "GROUP_NOT_OPEN", "团长支付确认中，拼团开启后即可参团", 409
    GROUP_FAILED = "GROUP_FAILED", "这个团已失败，款项已原路退回", 409
    GROUP_FULL = "GROUP_FULL", "这个团已经满员了，换一个团或自己开团吧", 409
    GROUP_EXPIRED = "GROUP_EXPIRED", "这个团已过期", 409
    GROUP_NEEDS_NEW_USER = "GROUP_NEEDS_NEW_USER", "最后一个名额留给新用户（老带新团）", 409
    GROUP_ONE_SKU = "GROUP_ONE_SKU", "拼团订单只能购买一个规格"
    GROUP_OWN = "GROUP_OWN", "这是你自己开的团，快分享给好友吧", 409
    GROUP_ALREADY_JOINED = "GROUP_ALREADY_JOINED", "你已经在这个团里了", 409
    SKU_NOT_IN_ACTIVITY = "SKU_NOT_IN_ACTIVITY", "该规格不参加拼团"
    QTY_LIMIT_EXCEEDED = "QTY_LIMIT_EXCEEDED", "超出每单限购数量"
    OPEN_LIMIT_REACHED = "OPEN_LIMIT_REACHED", "同时进行中的团已达上限", 409
    PURCHASE_LIMIT_REACHED = "PURCHASE_LIMIT_REACHED", "已达活动限购数量", 409
    NO_JOINABLE_GROUP = "NO_JOINABLE_GROUP", "暂时没有可参加的团，自己开一个吧", 409
    # The refusal the order source hooks return while a group forms: orders raises it on ship and refund.
    GROUP_FORMING = "GROUP_FORMING", "拼团还在进行中：成团后才能发货或退款，未成团将自动全额退款", 409
    GROUP_UNDER_REVIEW = "GROUP_UNDER_REVIEW", "这个团正在风控审核中：审核放行后才能发货", 409
