"""Bargaining (砍价) refusals, each with its code, the shopper's or merchant's words and the status."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class BargainError(ErrorCode):
    # The console's activity editor
    TARGET_NOT_BELOW_START = "TARGET_NOT_BELOW_START", "底价必须低于起始价（起始价默认为商品原价）"
    START_ABOVE_PRICE = "START_ABOVE_PRICE", "起始价不能高于商品原价"
    CUT_BOUNDS_INVALID = "CUT_BOUNDS_INVALID", "每刀金额须大于 0，且最小值不能大于最大值"
    CUT_BOUNDS_UNREACHABLE = (
        "CUT_BOUNDS_UNREACHABLE",
        "按每刀金额上限，助力人数砍不到底价：请调高每刀上限或增加助力人数",
    )
    CUT_BOUNDS_TOO_LARGE = (
        "CUT_BOUNDS_TOO_LARGE",
        "按每刀金额下限，不到助力人数就会砍到底价：请调低每刀下限或减少助力人数",
    )
    HELPERS_OUT_OF_RANGE = "HELPERS_OUT_OF_RANGE", "助力人数须在 1 到 100 之间"
    ACTIVITY_WINDOW_INVALID = "ACTIVITY_WINDOW_INVALID", "结束时间必须晚于开始时间"
    BARGAIN_ACTIVITY_NOT_FOUND = "BARGAIN_ACTIVITY_NOT_FOUND", "砍价活动不存在", 404
    ACTIVITY_STOCK_RETURNED = "ACTIVITY_STOCK_RETURNED", "活动库存已退回商品，不能再调整", 409
    STOCK_BELOW_HELD = "STOCK_BELOW_HELD", "活动库存不能少于已下单占用的数量", 409
    # The shopper's side
    ACTIVITY_NOT_STARTED = "ACTIVITY_NOT_STARTED", "活动尚未开始", 409
    ACTIVITY_ENDED = "ACTIVITY_ENDED", "活动已结束", 409
    START_LIMIT_REACHED = "START_LIMIT_REACHED", "你在本活动发起的砍价已达上限", 409
    BARGAIN_NOT_FOUND = "BARGAIN_NOT_FOUND", "砍价不存在", 404
    BARGAIN_EXPIRED = "BARGAIN_EXPIRED", "这个砍价已过期", 409
    BARGAIN_BOUGHT = "BARGAIN_BOUGHT", "TA 已经买到啦，不用再砍了", 409
    BARGAIN_ORDERED = "BARGAIN_ORDERED", "已下单，待支付：不能再砍或重复下单", 409
    BARGAIN_REACHED = "BARGAIN_REACHED", "已经砍到底价了，谢谢你的助力", 409
    SELF_HELP = "SELF_HELP", "不能给自己砍价，快分享给好友吧", 409
    ALREADY_HELPED = "ALREADY_HELPED", "你已经帮 TA 砍过了", 409
    HELPER_NOT_NEW = "HELPER_NOT_NEW", "本活动仅限新用户助力", 409
    DAILY_HELP_LIMIT = "DAILY_HELP_LIMIT", "今天的助力次数已用完，明天再来吧", 409
    NOT_YOUR_BARGAIN = "NOT_YOUR_BARGAIN", "只有发起人可以下单", 403
    TARGET_NOT_REACHED = "TARGET_NOT_REACHED", "还没砍到底价，继续邀请好友助力吧", 409
    QTY_MUST_BE_ONE = "QTY_MUST_BE_ONE", "砍价商品每单限购 1 件"
    HELP_BUSY = "HELP_BUSY", "助力的人太多了，请稍后再试", 409
