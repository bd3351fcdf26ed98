"""The merchant's data: refusals of the shop's `POST /events`."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class AnalyticsError(ErrorCode):
    EVENT_TYPE_UNKNOWN = "EVENT_TYPE_UNKNOWN", "不支持的事件类型", 422
    EVENT_KIND_SERVER_ONLY = "EVENT_KIND_SERVER_ONLY", "该事件由系统记录，不能由客户端上报", 403
    EVENT_BATCH_TOO_LARGE = "EVENT_BATCH_TOO_LARGE", "一次上报的事件太多", 413
    EVENT_BATCH_EMPTY = "EVENT_BATCH_EMPTY", "没有要上报的事件", 422
    WINDOW_DAYS_INVALID = "WINDOW_DAYS_INVALID", "归因窗口须在 1 到 90 天之间", 422
