"""The accounts domain's refusals: admin logins and passwords, customers.

Generic codes (AUTH_REQUIRED, TOKEN_*, ACCOUNT_BLOCKED, RATE_LIMITED) are core's; WeChat login codes are wechat's."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class AccountsError(ErrorCode):
    LOGIN_FAILED = "LOGIN_FAILED", "用户名或密码错误", 401
    LOGIN_LOCKED = "LOGIN_LOCKED", "登录失败次数过多，账号已临时锁定，请稍后再试", 429
    LOGIN_CONFLICT = "LOGIN_CONFLICT", "登录繁忙，请重试", 409
    ROLE_UNKNOWN = "ROLE_UNKNOWN", "角色不存在，请从列表中选择"
    USERNAME_TAKEN = "USERNAME_TAKEN", "该用户名已被使用", 409
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT", "密码至少需要 8 个字符"
    PASSWORD_TOO_LONG = "PASSWORD_TOO_LONG", "密码最多 200 个字符"
    PASSWORD_UNCHANGED = "PASSWORD_UNCHANGED", "新密码不能与原密码相同"
    PASSWORD_WRONG = "PASSWORD_WRONG", "原密码不正确"
    USERNAME_INVALID = "USERNAME_INVALID", "用户名须为 3-32 位字母、数字或 _ . -"
    STAFF_SELF = "STAFF_SELF", "不能停用自己、修改自己的角色或在这里重置自己的密码", 409
    LAST_OWNER = "LAST_OWNER", "店里至少要保留一位可登录的店主", 409
    ADMIN_NOT_FOUND = "ADMIN_NOT_FOUND", "没有这个后台账号", 404
    CUSTOMER_NOT_FOUND = "CUSTOMER_NOT_FOUND", "找不到该买家", 404
    WECHAT_CODE_INVALID = "WECHAT_CODE_INVALID", "微信登录码无效，请重新登录"
