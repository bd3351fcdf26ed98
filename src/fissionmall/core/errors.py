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


def not_found(what: str) -> NotFound:
    return NotFound(f"{what.upper()}_NOT_FOUND", f"{what} not found")
