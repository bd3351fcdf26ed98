from __future__ import annotations

import pytest

from fissionmall.accounts.rules import allowed
from fissionmall.orders.rules import ORDER_TRANSITIONS, REFUND_TRANSITIONS, can_transition, sources_of


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("pending_payment", "paid"),
        ("pending_payment", "cancelled"),
        ("paid", "shipped"),
        ("paid", "closed"),
        ("shipped", "received"),
        ("received", "completed"),
    ],
)
def test_allowed_order_transitions(current, target):
    assert can_transition(ORDER_TRANSITIONS, current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("cancelled", "paid"),
        ("paid", "cancelled"),
        ("pending_payment", "shipped"),
        ("completed", "closed"),
        ("shipped", "paid"),
        ("closed", "paid"),
        ("received", "shipped"),
    ],
)
def test_refused_order_transitions(current, target):
    assert not can_transition(ORDER_TRANSITIONS, current, target)


def test_compare_and_set_sources_are_exactly_the_states_that_may_move():
    assert sources_of(ORDER_TRANSITIONS, "paid") == ["pending_payment"]
    assert sorted(sources_of(ORDER_TRANSITIONS, "closed")) == ["paid", "received", "shipped"]
    assert sorted(sources_of(REFUND_TRANSITIONS, "processing")) == ["failed", "pending", "return_shipped"]


def test_terminal_states_have_no_exit():
    for state in ("cancelled", "closed", "completed"):
        assert ORDER_TRANSITIONS[state] == frozenset()


@pytest.mark.parametrize(
    ("role", "permission", "ok"),
    [
        ("owner", "system", True),
        ("operator", "catalog", True),
        ("operator", "refunds", False),
        ("operator", "refunds.read", True),
        ("finance", "refunds", True),
        ("finance", "catalog", False),
        ("finance", "catalog.read", True),
        ("store_staff", "orders", False),
        ("store_staff", "orders.read", True),
        ("nobody", "catalog.read", False),
    ],
)
def test_role_permissions(role, permission, ok):
    assert allowed(role, permission) is ok
