"""Risk control's refusals on the flash-sale path (RATE_LIMITED is core's)."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class RiskError(ErrorCode):
    BAD_TOKEN = "BAD_TOKEN", "页面已过期，请重试", 403
    CAPTCHA_REQUIRED = "CAPTCHA_REQUIRED", "请先完成验证", 429
