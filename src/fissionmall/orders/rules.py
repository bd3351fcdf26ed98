"""Order and refund state machines as tables; pure decisions only."""

from __future__ import annotations

ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending_payment": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"shipped", "closed", "completed"}),  # completed: a virtual order (orders/virtual.py)
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
    # waiting for the merchant; a return (退货退款) is approved first, a refund_only goes straight to the gateway
    "pending": frozenset({"processing", "approved", "rejected", "cancelled"}),
    "approved": frozenset({"return_shipped", "cancelled", "closed"}),  # the shopper sends the goods back
    "return_shipped": frozenset({"processing"}),  # the merchant confirms receipt (确认收货): the refund goes out
    "processing": frozenset({"succeeded", "failed"}),  # sent to the gateway
    "cancelled": frozenset(),  # withdrawn by the shopper
    "closed": frozenset(),  # the return was not sent in time
    "succeeded": frozenset(),
    "rejected": frozenset(),
    "failed": frozenset({"processing"}),  # the operator may retry a failed gateway refund
}


# The reasons a shopper picks from (code → label); the shopper's own reasons never refund a return's shipping.
REFUND_REASONS: dict[str, str] = {
    "unwanted": "拍错/不想要了",
    "quality": "质量问题",
    "missing": "少件/漏发",
    "not_as_described": "与描述不符",
    "other": "其他",
}
SHOPPER_REASONS = frozenset({"unwanted"})
# States in which a refund still holds units of its lines (reserved at the request).
REFUND_OPEN = frozenset({"pending", "approved", "return_shipped", "processing"})


def refunds_shipping(*, service: str, reason_code: str, returns_all_left: bool) -> bool:
    """The shipping rule: the order's unrefunded shipping goes back only with the refund that returns
    everything left on the order, and never with a return for the shopper's own reason (拍错/不想要了)."""
    return returns_all_left and not (service == "return" and reason_code in SHOPPER_REASONS)


def can_transition(table: dict[str, frozenset[str]], current: str, target: str) -> bool:
    return target in table.get(current, frozenset())


def sources_of(table: dict[str, frozenset[str]], target: str) -> list[str]:
    """The states a transition to `target` may start from, for compare-and-set updates."""
    return [s for s, targets in table.items() if target in targets]


def refund_transition_sources(target: str) -> list[str]:
    return sources_of(REFUND_TRANSITIONS, target)
