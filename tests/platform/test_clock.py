from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fissionmall.core import clock


def test_clock_is_aware_utc_and_moves_only_forward():
    clock.reset()
    try:
        t0 = clock.now()
        assert t0.tzinfo is UTC
        assert abs(t0 - datetime.now(UTC)) < timedelta(seconds=2)
        clock.advance(3600)
        assert clock.now() - t0 >= timedelta(hours=1)
        assert clock.offset_seconds() == 3600
        with pytest.raises(ValueError):
            clock.advance(-1)
    finally:
        clock.reset()
    assert clock.offset_seconds() == 0
