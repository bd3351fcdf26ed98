"""Deterministic assignment (pure): a shopper's place in an experiment follows from two hashes.

- **Coverage**: `unit(experiment, shopper, "coverage") * 10000 < coverage_bp` says whether the shopper is
  in the test at all. Widening the coverage only adds shoppers (their unit is fixed), narrowing only drops
  them; nobody moves between arms because of it.
- **Arm**: an independent `unit(experiment, shopper, "arm")` falls into the arms' cumulative weight
  buckets (arm 1 takes [0, w1), arm 2 [w1, w1 + w2) …, scaled to the total weight). It does not depend on
  coverage, so a shopper who is in the test keeps their arm whatever the coverage becomes.

SHA-256 of text, not Python's `hash()`: the answer is the same in every process and on every machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

SCALE = 2**64


def unit(experiment_id: int, customer_id: int, salt: str) -> float:
    """A uniform number in [0, 1) fixed by (experiment, shopper, salt)."""
    digest = hashlib.sha256(f"fissionmall:{experiment_id}:{customer_id}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / SCALE


def covered(experiment_id: int, customer_id: int, coverage_bp: int) -> bool:
    """Whether the shopper is in the test at this coverage (basis points of all shoppers)."""
    return unit(experiment_id, customer_id, "coverage") * 10_000 < coverage_bp


def pick(weights: Sequence[int], u: float) -> int:
    """The index of the arm whose cumulative bucket holds `u` (weights positive integers)."""
    total = sum(weights)
    point = u * total
    upper = 0
    for i, w in enumerate(weights):
        upper += w
        if point < upper:
            return i
    return len(weights) - 1


def assign(experiment_id: int, customer_id: int, *, weights: Sequence[int], coverage_bp: int) -> int | None:
    """The shopper's arm index, or None when the shopper is outside the test (the coverage)."""
    if not covered(experiment_id, customer_id, coverage_bp):
        return None
    return pick(weights, unit(experiment_id, customer_id, "arm"))
