"""WeChat's refusals and failures on the mini-program side: login, phone numbers, share codes, messages.

The 5xx codes are WeChat not answering, not the caller's fault. WeChat Pay's codes (calls, notifications,
transfers) are payments' (payments/errors.py)."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class WechatError(ErrorCode):
    WECHAT_NOT_CONFIGURED = "WECHAT_NOT_CONFIGURED", "微信登录暂未开放", 503
    WECHAT_UNAVAILABLE = "WECHAT_UNAVAILABLE", "微信服务暂时无法访问，请稍后重试", 502
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
