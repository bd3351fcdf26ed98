"""Error codes and their HTTP mapping: every refusal is a 4xx with a stable code."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A refusal the client can act on. `code` is UPPER_SNAKE and stable."""

    status = 400

    def __init__(self, code: str, message: str = "", *, status: int | None = None, **detail: Any) -> None:
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
