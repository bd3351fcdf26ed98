"""Points (消费积分) refusals: the balance, checkout's points, sign-in, adjustments, the merchant's rules."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class PointsError(ErrorCode):
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS", "积分不足", 409
    POINTS_DISABLED = "POINTS_DISABLED", "本店暂未开放积分", 409
    POINTS_NOT_WHOLE_UNIT = "POINTS_NOT_WHOLE_UNIT", "抵扣积分须为最小抵扣单位的整数倍"
    POINTS_ABOVE_CAP = "POINTS_ABOVE_CAP", "抵扣积分超过本单可用上限"
    POINTS_ABOVE_BALANCE = "POINTS_ABOVE_BALANCE", "抵扣积分超过你的积分余额", 409
    POINTS_NEGATIVE = "POINTS_NEGATIVE", "积分数量不能为负数"
    REASON_REQUIRED = "REASON_REQUIRED", "请填写调整原因"
    DELTA_ZERO = "DELTA_ZERO", "调整积分不能为 0"
    ADJUSTMENT_BELOW_ZERO = "ADJUSTMENT_BELOW_ZERO", "扣减后积分余额不能小于 0", 409
    SIGN_IN_DISABLED = "SIGN_IN_DISABLED", "本店暂未开放签到", 409
    STREAK_BONUS_DECREASING = "STREAK_BONUS_DECREASING", "连续签到奖励须随天数递增：天数越多，每天奖励不能越少"
    STREAK_DAY_DUPLICATE = "STREAK_DAY_DUPLICATE", "连续签到奖励的天数不能重复"
    UNIT_INEXACT = "UNIT_INEXACT", "最小抵扣单位须能换算成整分钱（例如 100 积分 = 1 元时，单位为 1 的倍数即可）"
