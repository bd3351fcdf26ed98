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


class OrderToolsError(ErrorCode):
    """The merchant's order tools (orders/tools.py, orders/export.py, orders/batch.py)."""

    EXPORT_TOO_LARGE = "EXPORT_TOO_LARGE", "导出的订单太多，请缩小筛选范围后再导出", 400
    BATCH_FILE_INVALID = (
        "BATCH_FILE_INVALID",
        "文件格式不正确：请上传含表头「订单号、物流公司、运单号」的 CSV 或 Excel 文件",
        400,
    )
    BATCH_TOO_LARGE = "BATCH_TOO_LARGE", "一次最多批量发货 5000 行，请分批上传", 400
    ORDER_NOT_FOUND_BY_NO = "ORDER_NOT_FOUND_BY_NO", "没有这个订单号的订单", 404
    SHIPMENT_INVALID = "SHIPMENT_INVALID", "物流公司或运单号不正确（运单号为 4 到 40 位字母、数字或短横线）", 400
    PRICE_CHANGE_NOT_ALLOWED = "PRICE_CHANGE_NOT_ALLOWED", "只有待付款的订单可以改价", 409
    PRICE_CHANGE_TENDERS = "PRICE_CHANGE_TENDERS", "该订单使用了余额等组合支付，不能改价", 409
    PRICE_INVALID = "PRICE_INVALID", "改价后的金额须大于 0 元且不超过商品原价加运费", 400
    ADDRESS_CHANGE_NOT_ALLOWED = "ADDRESS_CHANGE_NOT_ALLOWED", "订单已发货或已结束，不能修改收货地址", 409
