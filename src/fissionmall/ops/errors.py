"""The operations API's refusals."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class OpsError(ErrorCode):
    JOB_NOT_DEAD = "JOB_NOT_DEAD", "该任务已不是死信，无需重试", 409
