"""The dashboard's refusals (kept apart from the events' errors.py so the two can grow independently)."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class DashboardError(ErrorCode):
    DASHBOARD_RANGE_INVALID = "DASHBOARD_RANGE_INVALID", "开始日期不能晚于结束日期", 422
    DASHBOARD_RANGE_TOO_LONG = "DASHBOARD_RANGE_TOO_LONG", "查询区间最长 366 天", 422
    DASHBOARD_TABLE_UNKNOWN = "DASHBOARD_TABLE_UNKNOWN", "没有这张报表", 422
