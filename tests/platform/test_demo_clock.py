"""The demo's evening flash sale is later *today* on the shop's clock, whatever time `make demo` runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fissionmall.demo.campaigns import later_today

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("at", "start", "end"),
    [
        ((10, 20), (13, 0), (15, 0)),  # on the hour, 2-3 hours ahead, for 2 hours
        ((20, 40), (23, 0), (23, 59, 59)),  # cut at midnight
        ((22, 0), (23, 0), (23, 59, 59)),  # the late evening: halfway to midnight
        ((23, 50), (23, 55), (23, 59, 59)),
    ],
)
def test_the_evening_session_starts_later_and_ends_before_the_shops_midnight(at, start, end):
    now = datetime(2026, 3, 5, *at, tzinfo=SHANGHAI)
    s, e = later_today(now)
    assert (s.hour, s.minute) == start and (e.hour, e.minute, e.second)[: len(end)] == end
    assert now < s < e and e.date() == now.date()


def test_the_window_follows_the_shops_zone_not_utc():
    now = datetime(2026, 3, 5, 14, 30, tzinfo=ZoneInfo("UTC"))  # 22:30 in Shanghai
    s, e = later_today(now)
    assert s.utcoffset() == timedelta(hours=8) and s.date() == e.date() == datetime(2026, 3, 5).date()
    assert (s.hour, s.minute) == (23, 15)
