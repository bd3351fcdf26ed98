"""Orders' refusal codes (core/errors.py: one table for the shop and the console)."""

from fissionmall.core.errors import ErrorCode


class OrdersError(ErrorCode):
    ORDER_STATE_INVALID = "ORDER_STATE_INVALID", "订单当前状态不允许此操作，请刷新后查看最新状态", 409
    ORDER_SOURCE_UNKNOWN = "ORDER_SOURCE_UNKNOWN", "订单来源不存在"
    LINE_NOT_IN_ORDER = "LINE_NOT_IN_ORDER", "该商品不在此订单中", 404
    REFUND_NOT_ALLOWED = "REFUND_NOT_ALLOWED", "该订单当前不能申请退款", 409
    REFUND_PENDING = "REFUND_PENDING", "该订单已有售后申请在处理中，请先处理售后", 409
    REFUND_QTY_EXCEEDED = "REFUND_QTY_EXCEEDED", "退款数量超出可退数量", 409
    REFUND_EXCEEDS_PAID = "REFUND_EXCEEDS_PAID", "退款金额超出实付金额", 409
    NOTHING_TO_REFUND = "NOTHING_TO_REFUND", "没有可退款的商品", 409
    REFUND_STATE_INVALID = "REFUND_STATE_INVALID", "该售后单的状态已变化，无法再执行此操作", 409
    RETURN_NOT_SHIPPED = "RETURN_NOT_SHIPPED", "订单尚未发货，请申请仅退款", 409
    NOT_A_RETURN = "NOT_A_RETURN", "仅退款的售后单无需寄回商品", 409
    RETURN_ADDRESS_MISSING = "RETURN_ADDRESS_MISSING", "请填写退货地址", 422
    UPLOAD_NOT_IMAGE = "UPLOAD_NOT_IMAGE", "请上传 JPG、PNG 或 WEBP 格式的图片", 422
    UPLOAD_TOO_LARGE = "UPLOAD_TOO_LARGE", "图片不能超过 5MB", 413
