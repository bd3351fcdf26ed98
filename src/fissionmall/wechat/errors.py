"""WeChat's refusals and failures: mini-program login and APIs, WeChat Pay calls and notifications.

The 5xx codes are WeChat not answering or not verifying, not the caller's fault; a `WECHATPAY_<code>` is
WeChat Pay's own code, and only the common ones are declared (the others read as their code)."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class WechatError(ErrorCode):
    WECHAT_NOT_CONFIGURED = "WECHAT_NOT_CONFIGURED", "微信登录暂未开放", 503
    WECHAT_UNAVAILABLE = "WECHAT_UNAVAILABLE", "微信服务暂时无法访问，请稍后重试", 502
    REAL_NAME_REQUIRED = "REAL_NAME_REQUIRED", "提现 2000 元及以上需要填写收款人真实姓名"  # a WeChat Pay transfer rule
    WECHAT_CODE_USED = "WECHAT_CODE_USED", "微信登录码已使用，请重新登录"
    WECHAT_RATE_LIMITED = "WECHAT_RATE_LIMITED", "微信登录太频繁，请一分钟后再试", 429
    WECHAT_USER_HIGH_RISK = (
        "WECHAT_USER_HIGH_RISK",
        "微信判定该账号存在安全风险，暂时无法登录，请稍后再试或联系客服",
        403,
    )
    WECHAT_LOGIN_FAILED = "WECHAT_LOGIN_FAILED", "微信登录失败，请稍后重试", 502
    WECHAT_PHONE_CODE_INVALID = "WECHAT_PHONE_CODE_INVALID", "手机号授权已失效或已使用，请重新授权"
    WECHAT_PHONE_FAILED = "WECHAT_PHONE_FAILED", "未能获取微信手机号，请稍后重试", 502
    WECHAT_TOKEN_FAILED = "WECHAT_TOKEN_FAILED", "微信接口凭证获取失败，请稍后重试", 502
    WECHAT_SCENE_INVALID = "WECHAT_SCENE_INVALID", "小程序码参数无效：最多 32 个字母、数字或允许的符号"
    WECHAT_ENV_VERSION_INVALID = "WECHAT_ENV_VERSION_INVALID", "小程序版本无效：须为正式版、体验版或开发版"
    WECHAT_CODE_IMAGE_FAILED = "WECHAT_CODE_IMAGE_FAILED", "微信未能生成小程序码，请稍后重试", 502
    WECHAT_CHECK_FAILED = "WECHAT_CHECK_FAILED", "微信内容安全检测失败，请稍后重试", 502
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
