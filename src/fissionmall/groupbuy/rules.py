"""Group buying (拼团) decisions: pure, no I/O.

A group is `pending` while its leader's payment is not confirmed (only the leader sees it; others
are told GROUP_NOT_OPEN), `forming` from the transaction that confirms it, then `succeeded` (last
seat paid) or `failed` (short at expiry); `cancelled` when the leader never paid. Members are
`reserved` (order created, seat held), `paid`, `released` (order cancelled unpaid: the seat is free
again) or `refunded` (the group failed and the money went back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fissionmall.groupbuy.errors import GroupbuyError

GROUP_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"forming", "cancelled"}),
    "forming": frozenset({"succeeded", "failed"}),
    "succeeded": frozenset(),
    "failed": frozenset(),
    "cancelled": frozenset(),
}
GROUP_STATUSES = tuple(GROUP_TRANSITIONS)
OPEN_STATES = frozenset({"pending", "forming"})  # counted against max_open_per_user

MEMBER_STATUSES = ("reserved", "paid", "released", "refunded")
HOLDING = frozenset({"reserved", "paid"})  # a member in one of these holds a seat

GROUP_STATUS_ZH = {
    "pending": "待团长支付",
    "forming": "拼团中",
    "succeeded": "拼团成功",
    "failed": "拼团失败",
    "cancelled": "已取消",
}
MEMBER_STATUS_ZH = {"reserved": "待支付", "paid": "已支付", "released": "已释放", "refunded": "已退款"}

FAILED_REFUND_REASON = "拼团失败，已原路退款"


def can_transition(current: str, target: str) -> bool:
    return target in GROUP_TRANSITIONS.get(current, frozenset())


def sources_of(target: str) -> list[str]:
    return [s for s, targets in GROUP_TRANSITIONS.items() if target in targets]


@dataclass(frozen=True)
class Window:
    starts_at: datetime
    ends_at: datetime


def window_refusal(w: Window, now: datetime) -> GroupbuyError | None:
    """Why an activity cannot be bought from now (an error code), or None."""
    if now < w.starts_at:
        return GroupbuyError.ACTIVITY_NOT_STARTED
    if now >= w.ends_at:
        return GroupbuyError.ACTIVITY_ENDED
    return None


def unit_price(group_price_fen: int, *, leader: bool, leader_discount_fen: int) -> int:
    """The leader's extra discount comes off each unit, never below zero."""
    if not leader:
        return group_price_fen
    return max(0, group_price_fen - leader_discount_fen)


def duration_text(minutes: int) -> str:
    """A group's time limit as a merchant reads it: 90 分钟, 24 小时, 1 天 12 小时 (never "1440 分钟")."""
    if minutes % 60:
        if minutes < 1440:
            return f"{minutes} 分钟"
        d, rest = divmod(minutes, 1440)
        h, m = divmod(rest, 60)
        return " ".join(x for x in (f"{d} 天", f"{h} 小时" if h else "", f"{m} 分钟") if x)
    hours = minutes // 60
    if hours <= 24:
        return f"{hours} 小时"
    d, h = divmod(hours, 24)
    return f"{d} 天" + (f" {h} 小时" if h else "")


def seats_left(size: int, seats_taken: int) -> int:
    return max(0, size - seats_taken)


def last_seat_needs_new_user(*, new_user_required: bool, size: int, seats_taken: int, has_new_user: bool) -> bool:
    """老带新: the last free seat is kept for a new shopper while the group has none yet."""
    return new_user_required and not has_new_user and size - seats_taken == 1


def joinable_order(groups: list[tuple[int, int, int, datetime]]) -> list[int]:
    """Ids of (id, size, seats_taken, expires_at) rows, nearly full first, then soonest to expire."""
    open_ = [g for g in groups if g[2] < g[1]]
    return [g[0] for g in sorted(open_, key=lambda g: (g[1] - g[2], g[3], g[0]))]


def success_rate_bp(succeeded: int, settled: int) -> int:
    """Succeeded over settled (succeeded + failed), in basis points, rounded down."""
    return 0 if settled == 0 else succeeded * 10_000 // settled
