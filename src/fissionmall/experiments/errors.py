"""Experiments' refusal codes (core/errors.py: one table for the shop and the console)."""

from fissionmall.core.errors import ErrorCode


class ExperimentsError(ErrorCode):
    EXPERIMENT_NOT_FOUND = "EXPERIMENT_NOT_FOUND", "实验不存在", 404
    EXPERIMENT_WINDOW_INVALID = "EXPERIMENT_WINDOW_INVALID", "结束时间必须晚于开始时间", 422
    ARMS_INVALID = "ARMS_INVALID", "实验须有 2 至 6 组，组名不能重复，对照组最多一个", 422
    PLAN_DUPLICATE = "PLAN_DUPLICATE", "同一个活动或优惠券只能出现在一个分组里", 422
    PLAN_PROMOTION_NOT_FOUND = "PLAN_PROMOTION_NOT_FOUND", "分组方案里的促销活动不存在", 422
    PLAN_TEMPLATE_NOT_FOUND = "PLAN_TEMPLATE_NOT_FOUND", "分组方案里的优惠券不存在", 422
    PLAN_IN_OTHER_EXPERIMENT = "PLAN_IN_OTHER_EXPERIMENT", "该活动或优惠券已在另一个进行中的实验里", 409
    EXPERIMENT_PRODUCT_NOT_FOUND = "EXPERIMENT_PRODUCT_NOT_FOUND", "实验的商品不存在", 422
    EXPERIMENT_STARTED = "EXPERIMENT_STARTED", "实验已有访客，分组和权重不能再改（扩大覆盖比例可以）", 409
    EXPERIMENT_ENDED = "EXPERIMENT_ENDED", "实验已结束", 409
    EXPERIMENT_IN_USE = "EXPERIMENT_IN_USE", "实验已有访客数据，不能删除，请结束实验", 409
    EXPERIMENT_ARM_NOT_FOUND = "EXPERIMENT_ARM_NOT_FOUND", "该分组不属于这个实验", 422
