"""付费会员's refusals."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class VipError(ErrorCode):
    VIP_PLAN_NOT_FOUND = "VIP_PLAN_NOT_FOUND", "该会员方案不存在", 404
    VIP_PLAN_INACTIVE = "VIP_PLAN_INACTIVE", "该会员方案已停售", 409
    VIP_PLAN_IN_USE = "VIP_PLAN_IN_USE", "该方案已有人购买，不能删除，可改为停售", 409
    VIP_TEMPLATE_NOT_FOUND = "VIP_TEMPLATE_NOT_FOUND", "所选优惠券不存在", 404
    VIP_GRANT_INVALID = "VIP_GRANT_INVALID", "每月赠券须同时选择优惠券和张数", 422
    VIP_NOT_MEMBER = "VIP_NOT_MEMBER", "您还不是付费会员", 404
    VIP_PURCHASE_NOT_FOUND = "VIP_PURCHASE_NOT_FOUND", "该会员购买记录不存在", 404
    VIP_REFUND_WINDOW_CLOSED = "VIP_REFUND_WINDOW_CLOSED", "已超过无理由退款期，不能退款", 409
    VIP_REFUND_NOT_LATEST = "VIP_REFUND_NOT_LATEST", "请先退最近一次购买的会员", 409
    VIP_MEMBER_PRICE_TOO_HIGH = "VIP_MEMBER_PRICE_TOO_HIGH", "会员价须低于规格售价", 422
    VIP_SKU_NOT_FOUND = "VIP_SKU_NOT_FOUND", "所选规格不存在或已下架", 404
    VIP_PRODUCT_NOT_FOUND = "VIP_PRODUCT_NOT_FOUND", "所选商品不存在或已删除", 404
    MEMBER_ONLY = "MEMBER_ONLY", "该商品为付费会员专享，开通会员后可购买", 403
