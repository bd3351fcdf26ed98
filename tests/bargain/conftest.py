"""Every test client call comes from one address (10.1.2.3), so the risk gate's same-network rule would
refuse every friend: it is off here, except in the test that proves it (test_risk.py turns it on)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fissionmall.risk import service as risk
from fissionmall.risk.rules import HelpLimits


@pytest.fixture(autouse=True)
async def _one_network(db) -> AsyncIterator[None]:
    await risk.save_help_limits(db, new=HelpLimits(same_network=False))
    yield
    risk.forget()
