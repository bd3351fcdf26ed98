"""Distribution (分销) refusals: binding, the merchant's commission rules, withdrawals."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class DistributionError(ErrorCode):
    DISTRIBUTION_DISABLED = "DISTRIBUTION_DISABLED", "本店暂未开放分销", 409
    DISTRIBUTOR_DISABLED = "DISTRIBUTOR_DISABLED", "你的分销员资格已被停用", 403
    NOT_DISTRIBUTOR = "NOT_DISTRIBUTOR", "请先成为分销员", 403
    DISTRIBUTOR_NOT_FOUND = "DISTRIBUTOR_NOT_FOUND", "分销员不存在", 404
    DISTRIBUTOR_STATE_INVALID = "DISTRIBUTOR_STATE_INVALID", "该分销员状态已变化，请刷新页面", 409
    SHARE_CODE_CONFLICT = "SHARE_CODE_CONFLICT", "分享码生成冲突，请重试", 409
    REF_UNKNOWN = "REF_UNKNOWN", "分享码无效"
    REF_SELF = "REF_SELF", "不能绑定自己的分享码"
    BIND_CYCLE = "BIND_CYCLE", "不能绑定由你邀请来的分销员", 409
    WITHDRAW_BELOW_MINIMUM = "WITHDRAW_BELOW_MINIMUM", "提现金额低于最低提现金额"
    WITHDRAW_EXCEEDS_AVAILABLE = "WITHDRAW_EXCEEDS_AVAILABLE", "提现金额超过可提现余额", 409
    WITHDRAWAL_NOT_FOUND = "WITHDRAWAL_NOT_FOUND", "提现单不存在", 404
    WITHDRAWAL_STATE_INVALID = "WITHDRAWAL_STATE_INVALID", "该提现单状态已变化，请刷新页面", 409
    WITHDRAWAL_UNDER_REVIEW = "WITHDRAWAL_UNDER_REVIEW", "该提现单在风控审核中，请在审核队列处理", 409
    # The merchant's commission settings
    LEVELS_NOT_ALLOWED = "LEVELS_NOT_ALLOWED", "最多两级分销：三级及以上涉嫌传销，系统不允许"
    CAP_TOO_HIGH = "CAP_TOO_HIGH", "单笔订单佣金上限不能超过 30%"
    RATE_ABOVE_CAP = "RATE_ABOVE_CAP", "一级与二级佣金比例之和不能超过单笔订单佣金上限"
    OVERRIDE_TARGET_INVALID = "OVERRIDE_TARGET_INVALID", "单独佣金设置须指定一个商品或一个规格"
    OVERRIDE_RATE_AND_FIXED = "OVERRIDE_RATE_AND_FIXED", "每一级佣金只能填比例或固定金额之一"
