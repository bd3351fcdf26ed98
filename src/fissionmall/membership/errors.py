"""会员等级's refusals."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class MembershipError(ErrorCode):
    LEVEL_NOT_FOUND = "LEVEL_NOT_FOUND", "该会员等级不存在", 404
    LEVEL_NAME_TAKEN = "LEVEL_NAME_TAKEN", "已有同名的会员等级", 409
    LEVEL_RANK_TAKEN = "LEVEL_RANK_TAKEN", "已有同一排序的会员等级", 409
    LEVEL_THRESHOLD_TAKEN = "LEVEL_THRESHOLD_TAKEN", "已有同一成长值门槛的会员等级", 409
    LEVEL_ORDER_INVALID = "LEVEL_ORDER_INVALID", "等级越高，成长值门槛须越高", 422
    LEVEL_LIMIT_REACHED = "LEVEL_LIMIT_REACHED", "最多设置 10 个会员等级", 409
    LEVEL_DISCOUNT_OUT_OF_RANGE = "LEVEL_DISCOUNT_OUT_OF_RANGE", "会员折扣须在 1 折到不打折之间", 422
    LEVEL_MULTIPLIER_OUT_OF_RANGE = "LEVEL_MULTIPLIER_OUT_OF_RANGE", "积分倍数须在 1 倍到 10 倍之间", 422
    LEVEL_THRESHOLD_OUT_OF_RANGE = "LEVEL_THRESHOLD_OUT_OF_RANGE", "非基础等级的成长值门槛须大于 0", 422
    BASE_LEVEL_UNDELETABLE = "BASE_LEVEL_UNDELETABLE", "基础等级不能删除", 409
    BASE_LEVEL_FIXED = "BASE_LEVEL_FIXED", "基础等级的门槛固定为 0、排序固定为最低，也不能设置会员折扣或包邮", 422
    BIRTHDAY_TEMPLATE_NOT_FOUND = "BIRTHDAY_TEMPLATE_NOT_FOUND", "所选生日礼券不存在", 404
    BIRTHDAY_ALREADY_SET = "BIRTHDAY_ALREADY_SET", "生日已填写，不能修改", 409
    BIRTHDAY_INVALID = "BIRTHDAY_INVALID", "请填写正确的生日", 422
    MEMBER_DAY_INVALID = "MEMBER_DAY_INVALID", "会员日须为每月 1 到 28 日或月末最后一天", 422
    MEMBER_DAY_RATE_OUT_OF_RANGE = "MEMBER_DAY_RATE_OUT_OF_RANGE", "会员日折扣须在 1 折到不打折之间", 422
    WINDOW_OUT_OF_RANGE = "WINDOW_OUT_OF_RANGE", "成长值统计周期须为 1 到 36 个月", 422
