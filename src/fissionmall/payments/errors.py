"""Payments' refusal codes (core/errors.py: one table for the shop and the console), WeChat Pay's included.

The 5xx codes are WeChat Pay not answering or not verifying, not the caller's fault; a `WECHATPAY_<code>`
is WeChat Pay's own code, and only the common ones are declared (the others read as their code)."""

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
    REAL_NAME_REQUIRED = "REAL_NAME_REQUIRED", "提现 2000 元及以上需要填写收款人真实姓名"  # a WeChat Pay transfer rule
    # WeChat Pay calls
    WECHATPAY_UNAVAILABLE = "WECHATPAY_UNAVAILABLE", "微信支付暂时无法访问，请稍后重试", 502
    WECHATPAY_RESPONSE_UNVERIFIED = "WECHATPAY_RESPONSE_UNVERIFIED", "微信支付应答验签失败，请稍后重试", 502
    WECHATPAY_SYSTEM_ERROR = "WECHATPAY_SYSTEM_ERROR", "微信支付系统繁忙，请稍后重试", 502
    WECHATPAY_NOT_ENOUGH = "WECHATPAY_NOT_ENOUGH", "商户号余额不足，请充值后重试", 409
    WECHATPAY_PARAM_ERROR = "WECHATPAY_PARAM_ERROR", "微信支付参数有误", 409
    WECHATPAY_INVALID_REQUEST = "WECHATPAY_INVALID_REQUEST", "微信支付拒绝了该请求", 409
    WECHATPAY_NO_AUTH = "WECHATPAY_NO_AUTH", "商户号未开通该功能或无权限", 409
    WECHATPAY_FREQUENCY_LIMITED = "WECHATPAY_FREQUENCY_LIMITED", "微信支付请求太频繁，请稍后再试", 409
    # Notifications WeChat Pay sends us: refused ones are answered to WeChat and kept for the console.
    SIGNATURE_MISSING = "SIGNATURE_MISSING", "通知缺少微信支付签名", 401
    SIGNATURE_PROBE = "SIGNATURE_PROBE", "签名探测请求，不予处理", 401
    SERIAL_UNKNOWN = "SERIAL_UNKNOWN", "证书序列号不符", 401
    TIMESTAMP_INVALID = "TIMESTAMP_INVALID", "通知时间戳无效"
    TIMESTAMP_STALE = "TIMESTAMP_STALE", "通知时间戳已过期", 401
    SIGNATURE_INVALID = "SIGNATURE_INVALID", "通知签名校验失败", 401
    DECRYPT_FAILED = "DECRYPT_FAILED", "通知报文解密失败"
    NOTIFICATION_MALFORMED = "NOTIFICATION_MALFORMED", "通知报文格式错误"
    NOTIFICATION_UNSUPPORTED = "NOTIFICATION_UNSUPPORTED", "不支持的通知类型"
