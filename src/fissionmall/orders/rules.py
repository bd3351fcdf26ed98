"""Order and refund state machines as tables; pure decisions only."""

from __future__ import annotations

ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending_payment": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"shipped", "closed"}),
    "shipped": frozenset({"received", "closed"}),
    "received": frozenset({"completed", "closed"}),
    "completed": frozenset(),  # the after-sales window has closed
    "cancelled": frozenset(),
    "closed": frozenset(),  # every line refunded
}
ORDER_STATUSES = tuple(ORDER_TRANSITIONS)

# After-sales (refund requests) is open from payment until completion.
REFUNDABLE = frozenset({"paid", "shipped", "received"})

REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"processing", "rejected"}),  # waiting for the merchant
    "processing": frozenset({"succeeded", "failed"}),  # sent to the gateway
    "succeeded": frozenset(),
    "rejected": frozenset(),
    "failed": frozenset({"processing"}),  # the operator may retry a failed gateway refund
}


def can_transition(table: dict[str, frozenset[str]], current: str, target: str) -> bool:
    return target in table.get(current, frozenset())


def sources_of(table: dict[str, frozenset[str]], target: str) -> list[str]:
    """The states a transition to `target` may start from, for compare-and-set updates."""
    return [s for s, targets in table.items() if target in targets]


def refund_transition_sources(target: str) -> list[str]:
    return sources_of(REFUND_TRANSITIONS, target)
