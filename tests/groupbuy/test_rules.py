"""Pure group-buying decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fissionmall.groupbuy import rules

T0 = datetime(2026, 11, 22, tzinfo=UTC)


def test_a_group_moves_only_along_its_table():
    assert rules.can_transition("pending", "forming")
    assert rules.can_transition("forming", "succeeded") and rules.can_transition("forming", "failed")
    assert not rules.can_transition("succeeded", "failed")  # a refund after success never un-succeeds it
    assert not rules.can_transition("failed", "forming")
    assert rules.sources_of("failed") == ["forming"]


def test_the_window_refuses_before_the_start_and_after_the_end():
    w = rules.Window(T0, T0 + timedelta(days=1))
    assert rules.window_refusal(w, T0 - timedelta(seconds=1)) == "ACTIVITY_NOT_STARTED"
    assert rules.window_refusal(w, T0) is None
    assert rules.window_refusal(w, T0 + timedelta(days=1)) == "ACTIVITY_ENDED"


def test_the_leader_discount_comes_off_each_unit_and_never_below_zero():
    assert rules.unit_price(990, leader=True, leader_discount_fen=100) == 890
    assert rules.unit_price(990, leader=False, leader_discount_fen=100) == 990
    assert rules.unit_price(50, leader=True, leader_discount_fen=100) == 0


def test_the_last_seat_of_a_new_user_group_waits_for_a_new_shopper():
    kw = {"new_user_required": True, "size": 3, "has_new_user": False}
    assert rules.last_seat_needs_new_user(seats_taken=2, **kw)
    assert not rules.last_seat_needs_new_user(seats_taken=1, **kw)
    assert not rules.last_seat_needs_new_user(seats_taken=2, new_user_required=True, size=3, has_new_user=True)


def test_joinable_groups_are_nearly_full_first_then_soonest_to_expire():
    groups = [(1, 5, 1, T0), (2, 3, 2, T0 + timedelta(hours=2)), (3, 3, 2, T0 + timedelta(hours=1)), (4, 2, 2, T0)]
    assert rules.joinable_order(groups) == [3, 2, 1]  # 4 is full


def test_success_rate_is_over_settled_groups():
    assert rules.success_rate_bp(0, 0) == 0
    assert rules.success_rate_bp(2, 3) == 6666


def test_a_time_limit_reads_in_hours_and_days_not_1440_minutes():
    texts = [rules.duration_text(m) for m in (5, 90, 60, 1440, 2160, 2880, 1530)]
    assert texts == ["5 分钟", "90 分钟", "1 小时", "24 小时", "1 天 12 小时", "2 天", "1 天 1 小时 30 分钟"]
