from __future__ import annotations

import pytest

from fissionmall.experiments import checkout


@pytest.fixture(autouse=True)
def _forget_exposures():
    """Tables are emptied between tests and ids start again: the process's memory of exposures must go too."""
    checkout.forget()
    yield
    checkout.forget()
