"""储值's refusals."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class WalletError(ErrorCode):
    PACKAGE_NOT_FOUND = "PACKAGE_NOT_FOUND", "该储值套餐不存在或已下架", 404
    PACKAGE_AMOUNT_INVALID = "PACKAGE_AMOUNT_INVALID", "储值金额须大于 0 元", 422
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE", "余额不足", 409
    WALLET_AMOUNT_INVALID = "WALLET_AMOUNT_INVALID", "请填写使用的余额金额（大于 0）", 422
    WALLET_EXCEEDS_PAYABLE = "WALLET_EXCEEDS_PAYABLE", "使用的余额不能超过订单应付金额", 400
    WALLET_ALREADY_APPLIED = "WALLET_ALREADY_APPLIED", "该订单已使用过余额，请继续支付剩余金额", 409
    WALLET_NOT_FOR_TOPUP = "WALLET_NOT_FOR_TOPUP", "储值订单不能用余额支付", 409
    TOPUP_NOT_FOUND = "TOPUP_NOT_FOUND", "该储值记录不存在", 404
    TOPUP_NOT_REFUNDABLE = "TOPUP_NOT_REFUNDABLE", "该笔储值未到账或已退款，不能退款", 409
    TOPUP_NOTHING_TO_REFUND = "TOPUP_NOTHING_TO_REFUND", "该笔储值的本金已用完，没有可退的金额", 409
    TOPUP_REFUND_IN_CONSOLE = "TOPUP_REFUND_IN_CONSOLE", "储值订单请联系商家办理退款", 409
    ADJUSTMENT_REASON_REQUIRED = "ADJUSTMENT_REASON_REQUIRED", "请填写调整原因", 422
    ADJUSTMENT_DELTA_INVALID = "ADJUSTMENT_DELTA_INVALID", "调整金额不能为 0", 422
