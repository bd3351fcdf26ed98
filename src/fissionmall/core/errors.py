"""Error codes and their HTTP mapping: every refusal is a 4xx with a stable code.

Each domain keeps its codes in one `StrEnum` (its `errors.py`), the Chinese text and the HTTP status
beside each code, the way Saleor keeps `error_codes.py`: a refusal is raised as `AppError(Code.X)`,
and `error_table()` is the one table the shop and the console read their texts from.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

_ENUMS: list[type[ErrorCode]] = []


class ErrorCode(StrEnum):
    """Base of a domain's error codes. A member is `NAME = "NAME", "中文说明", status` (status 400 when
    left out); the value is the code itself, so it compares and serialises as the plain string."""

    text: str
    status: int

    def __new__(cls, code: str, text: str = "", status: int = 400) -> ErrorCode:
        obj = str.__new__(cls, code)
        obj._value_ = code
        obj.text = text
        obj.status = status
        return obj

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _ENUMS.append(cls)


def error_enums() -> list[type[ErrorCode]]:
    return list(_ENUMS)


def error_table() -> dict[str, str]:
    """Every declared code with its Chinese text (the first declaration of a code wins)."""
    out: dict[str, str] = {}
    for enum in _ENUMS:
        for member in enum:
            out.setdefault(member.value, member.text)
    return out


class AppError(Exception):
    """A refusal the client can act on. `code` is UPPER_SNAKE and stable."""

    status = 400

    def __init__(self, code: str, message: str = "", *, status: int | None = None, **detail: Any) -> None:
        if isinstance(code, ErrorCode):
            message = message or code.text
            if status is None and code.status != 400:
                status = code.status
            code = code.value
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        if status is not None:
            if not isinstance(status, int) or not 400 <= status < 600:
                raise TypeError(f"status is the HTTP status, got {status!r}; put details in keyword arguments")
            self.status = status
        self.detail = detail

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail:
            err["detail"] = self.detail
        return {"error": err}


class NotFound(AppError):
    status = 404


class Unauthorized(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class Conflict(AppError):
    status = 409


class TooMany(AppError):
    status = 429


class CoreError(ErrorCode):
    """Codes any domain may raise, and those the app itself answers with (validation, HTTP, database)."""

    VALIDATION_ERROR = "VALIDATION_ERROR", "填写的信息有误，请检查", 422
    MALFORMED_JSON = "MALFORMED_JSON", "请求格式有误，请刷新后重试"
    FORM_INVALID = "FORM_INVALID", "表单填写有误，请检查"
    AUTH_REQUIRED = "AUTH_REQUIRED", "请先登录", 401
    TOKEN_INVALID = "TOKEN_INVALID", "登录已失效，请重新登录", 401
    TOKEN_EXPIRED = "TOKEN_EXPIRED", "登录已过期，请重新登录", 401
    SESSION_ENDED = "SESSION_ENDED", "登录已结束（已退出或密码已修改），请重新登录", 401
    ACCOUNT_BLOCKED = "ACCOUNT_BLOCKED", "账号已被限制使用", 403
    PERMISSION_DENIED = "PERMISSION_DENIED", "当前角色无权进行此操作", 403
    FORBIDDEN = "FORBIDDEN", "没有权限访问", 403
    METRICS_TOKEN_REQUIRED = "METRICS_TOKEN_REQUIRED", "监控指标需要访问令牌（Authorization: Bearer）", 401
    METRICS_TOKEN_INVALID = "METRICS_TOKEN_INVALID", "监控指标的访问令牌不正确", 401
    METRICS_FORBIDDEN = "METRICS_FORBIDDEN", "监控指标只允许本机或受信任的地址访问", 403
    NOT_FOUND = "NOT_FOUND", "找不到请求的内容", 404
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED", "不支持该请求方式", 405
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE", "无法按要求的格式返回内容", 406
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE", "提交的内容太大", 413
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE", "不支持该内容格式", 415
    HTTP_ERROR = "HTTP_ERROR", "请求未能完成，请稍后重试"
    RATE_LIMITED = "RATE_LIMITED", "操作太频繁，请稍后再试", 429
    VALUE_OUT_OF_RANGE = "VALUE_OUT_OF_RANGE", "填写的数字或时间超出范围"
    VALUE_TOO_LONG = "VALUE_TOO_LONG", "填写的文字太长"
    INVALID_VALUE = "INVALID_VALUE", "填写的内容无法保存，请检查"
    CONFLICT = "CONFLICT", "操作冲突，请重试", 409
    CURSOR_INVALID = "CURSOR_INVALID", "分页参数无效，请刷新后重试"
    LIMIT_INVALID = "LIMIT_INVALID", "每页数量超出范围"
    IDEMPOTENCY_KEY_INVALID = "IDEMPOTENCY_KEY_INVALID", "请求标识无效，请刷新后重试"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED", "请求已变化，请重新提交", 409


class NotFoundCode(ErrorCode):
    """The `<WHAT>_NOT_FOUND` codes `not_found(what)` builds, declared so the table has their texts."""

    PRODUCT_NOT_FOUND = "PRODUCT_NOT_FOUND", "商品不存在或已下架", 404
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND", "订单不存在", 404
    REFUND_NOT_FOUND = "REFUND_NOT_FOUND", "售后单不存在", 404
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND", "秒杀场次不存在", 404
    ITEM_NOT_FOUND = "ITEM_NOT_FOUND", "秒杀商品不存在或已下架", 404
    PROMOTION_NOT_FOUND = "PROMOTION_NOT_FOUND", "促销活动不存在", 404
    COUPON_TEMPLATE_NOT_FOUND = "COUPON_TEMPLATE_NOT_FOUND", "优惠券不存在", 404


def not_found(what: str) -> NotFound:
    code = f"{what.upper()}_NOT_FOUND"
    if code in NotFoundCode.__members__:
        return NotFound(NotFoundCode[code])
    # An undeclared one still refuses in Chinese; the table test names the `what` to declare.
    return NotFound(code, "找不到请求的内容")
