"""Payments' refusal codes (core/errors.py: one table for the shop and the console)."""

from fissionmall.core.errors import ErrorCode


class PaymentsError(ErrorCode):
    PAYMENT_NOT_FOUND = "PAYMENT_NOT_FOUND", "支付单不存在", 404
    PAYMENT_METHOD_UNAVAILABLE = "PAYMENT_METHOD_UNAVAILABLE", "暂不支持该支付方式"
    ORDER_NOT_PAYABLE = "ORDER_NOT_PAYABLE", "该订单当前无法支付", 409
    ORDER_PAY_EXPIRED = "ORDER_PAY_EXPIRED", "订单已超过支付时间", 409
    PAYMENT_CLOSED = "PAYMENT_CLOSED", "这笔支付已关闭（订单已取消或金额已变），请重新发起支付", 409
    SANDBOX_DISABLED = "SANDBOX_DISABLED", "沙箱收银台未开启", 404
    PAYMENT_NOT_SANDBOX = "PAYMENT_NOT_SANDBOX", "该支付单不是沙箱支付"
    GATEWAY_UNKNOWN = "GATEWAY_UNKNOWN", "支付渠道不存在", 404
    WECHAT_OPENID_UNKNOWN = "WECHAT_OPENID_UNKNOWN", "该买家没有绑定微信，无法使用微信支付", 409
