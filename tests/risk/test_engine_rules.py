"""The engine's rule kinds: each fires exactly at its threshold and not one below, windows slide exactly,
lists, graph signals, and a decision is recorded with what the rules saw."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from fissionmall.core import clock
from fissionmall.risk.decisions import Action, Outcome
from tests.helpers import admin, shopper
from tests.risk.engine_helpers import act, flushed, only, rule

Make = Callable[[int], dict[str, Any]]

# (condition, threshold n, act, the i-th act's subject and facts): acts 1..n pass, act n+1 is refused.
CASES: list[tuple[str, int, Action, Make]] = [
    ("acts_customer_10m > 3", 3, Action.COUPON_CLAIM, lambda i: {"customer_id": 7}),
    ("acts_device_10m > 2", 2, Action.GROUP_OPEN, lambda i: {"customer_id": i, "device_id": "dev-a"}),
    ("acts_ip_10m > 4", 4, Action.GROUP_JOIN, lambda i: {"customer_id": i, "ip": "10.1.2.3"}),
    ("acts_ip24_10m > 3", 3, Action.BARGAIN_START, lambda i: {"customer_id": i, "ip": f"10.1.2.{i + 10}"}),
    ("acts_phone_1h > 2", 2, Action.NEW_USER_GIFT, lambda i: {"customer_id": i, "phone_hash": "ph-1"}),
    ("acts_address_1d > 2", 2, Action.ORDER, lambda i: {"customer_id": i, "address_hash": "ad-1"}),
    ("acts_distributor_1h > 3", 3, Action.COMMISSION_ACCRUE, lambda i: {"customer_id": i, "distributor_id": 9}),
    ("accounts_device_5m > 2", 2, Action.COUPON_CLAIM, lambda i: {"customer_id": i, "device_id": "dev-b"}),
    ("accounts_ip_5m > 3", 3, Action.GROUP_OPEN, lambda i: {"customer_id": i, "ip": "10.9.9.9"}),
    ("accounts_ip24_5m > 2", 2, Action.GROUP_OPEN, lambda i: {"customer_id": i, "ip": f"10.9.8.{i}"}),
    ("accounts_phone_1d > 1", 1, Action.SIGNUP, lambda i: {"customer_id": i, "phone_hash": "ph-2"}),
    (
        "joins_same_leader_1d > 3",
        3,
        Action.GROUP_JOIN,
        lambda i: {"customer_id": 3, "facts": {"leader_id": 5, "group_id": 100 + i}},
    ),
    (
        "helps_without_purchase > 2",
        2,
        Action.BARGAIN_HELP,
        lambda i: {"customer_id": 4, "facts": {"has_paid": False}},
    ),
    ("amount_fen > 500000", 500000, Action.WITHDRAWAL, lambda i: {"customer_id": 5, "facts": {"amount_fen": i}}),
]


def _ids() -> list[str]:
    return [c[0].split(" ")[0] for c in CASES]


@pytest.mark.parametrize(("condition", "n", "action", "make"), CASES, ids=_ids())
async def test_each_rule_kind_fires_exactly_at_its_threshold_and_not_one_below(app, db, condition, n, action, make):
    await only(db, rule(condition, name="under_test"))
    steps = [n, n + 1] if condition.startswith("amount") else list(range(1, n + 2))
    for i in steps[:-1]:
        kw = make(i)
        v = await act(db, action, facts=kw.pop("facts", None), **kw)
        assert v.outcome is Outcome.ALLOW, (condition, i, v)
    kw = make(steps[-1])
    v = await act(db, action, facts=kw.pop("facts", None), **kw)
    assert v.outcome is Outcome.DENY and v.reasons == ("under_test",), (condition, v)


async def test_retrying_one_group_is_not_joining_a_leaders_groups(app, db):
    await only(db, rule("joins_same_leader_1d > 1"))
    for _ in range(4):  # the same group, again and again (a refused join retried)
        v = await act(db, Action.GROUP_JOIN, customer_id=3, facts={"leader_id": 5, "group_id": 7})
        assert v.outcome is Outcome.ALLOW
    v = await act(db, Action.GROUP_JOIN, customer_id=3, facts={"leader_id": 5, "group_id": 8})
    assert v.outcome is Outcome.DENY


async def test_a_distinct_count_counts_accounts_not_acts(app, db):
    await only(db, rule("accounts_device_5m > 2"))
    for _ in range(5):
        assert (await act(db, Action.COUPON_CLAIM, customer_id=1, device_id="d")).outcome is Outcome.ALLOW
    assert (await act(db, Action.COUPON_CLAIM, customer_id=2, device_id="d")).outcome is Outcome.ALLOW
    assert (await act(db, Action.COUPON_CLAIM, customer_id=3, device_id="d")).outcome is Outcome.DENY
    # Another device is another count.
    assert (await act(db, Action.COUPON_CLAIM, customer_id=3, device_id="e")).outcome is Outcome.ALLOW


async def test_a_count_of_another_act_and_of_every_act(app, db):
    await only(db, rule("order_customer_30m > 1", actions=["group_open"]), rule("any_device_1h > 3", name="any"))
    await act(db, Action.ORDER, customer_id=1)
    assert (await act(db, Action.GROUP_OPEN, customer_id=1)).outcome is Outcome.ALLOW
    await act(db, Action.ORDER, customer_id=1)
    v = await act(db, Action.GROUP_OPEN, customer_id=1)
    assert v.outcome is Outcome.DENY and v.reasons == ("rule_0",)
    for a in (Action.COUPON_CLAIM, Action.BARGAIN_START, Action.ORDER):
        assert (await act(db, a, customer_id=2, device_id="x")).outcome is Outcome.ALLOW
    assert (await act(db, Action.REFUND, customer_id=2, device_id="x")).reasons == ("any",)


async def test_the_window_slides_exactly(app, db):
    await only(db, rule("acts_customer_1m > 2"))
    assert (await act(db)).outcome is Outcome.ALLOW
    clock.advance(30)
    assert (await act(db)).outcome is Outcome.ALLOW
    assert (await act(db)).outcome is Outcome.DENY  # 3 in the last minute
    clock.advance(30.5)  # the first act is now older than a minute: 3 in the window again with this one
    assert (await act(db)).outcome is Outcome.DENY
    clock.advance(31)  # only the last one is in the window
    assert (await act(db)).outcome is Outcome.ALLOW


async def test_account_age_fires_below_its_threshold_only(app, client, db):
    await only(db, rule("account_age_minutes < 60"))
    me = await shopper(client, "young")
    r = await client.get("/api/v1/me", headers=me)
    cid = r.json()["id"]
    clock.advance(59 * 60 + 50)
    assert (await act(db, customer_id=cid)).outcome is Outcome.DENY
    clock.advance(11)
    assert (await act(db, customer_id=cid)).outcome is Outcome.ALLOW
    assert (await act(db, customer_id=10**9)).outcome is Outcome.ALLOW  # unknown shopper: the rule cannot say


async def test_outcomes_take_the_strictest_and_reasons_name_every_rule(app, db):
    await only(
        db,
        rule("amount_fen > 10", name="big", outcome="review"),
        rule("amount_fen > 100", name="huge", outcome="deny"),
        rule("amount_fen > 1", name="small", outcome="degrade"),
    )
    v = await act(db, Action.WITHDRAWAL, facts={"amount_fen": 50})
    assert v.outcome is Outcome.REVIEW and set(v.reasons) == {"big", "small"} and v.allowed
    v = await act(db, Action.WITHDRAWAL, facts={"amount_fen": 500})
    assert v.outcome is Outcome.DENY and not v.allowed


async def test_a_rule_for_other_acts_does_not_judge_this_one(app, db):
    await only(db, rule("acts_customer_1h > 0", actions=["coupon_claim"]))
    assert (await act(db, Action.GROUP_OPEN)).outcome is Outcome.ALLOW
    assert (await act(db, Action.COUPON_CLAIM)).outcome is Outcome.DENY


async def test_graph_signals(app, db):
    await only(
        db,
        rule("distributor_same_device", name="same_device", actions=["commission_accrue"]),
        rule("circular_referral", name="loop", actions=["distributor_bind"]),
        rule("refund_after_commission", name="refund_fast", actions=["refund"], outcome="allow", penalty=20),
    )
    # The distributor (customer 50) used this phone; the buyer (51) buys on it.
    await act(db, Action.GROUP_OPEN, customer_id=50, device_id="phone-1")
    facts = {"distributor_customer_id": 50}
    assert (await act(db, Action.COMMISSION_ACCRUE, facts=facts, customer_id=52, device_id="phone-2")).allowed
    v = await act(db, Action.COMMISSION_ACCRUE, facts=facts, customer_id=51, device_id="phone-1")
    assert v.outcome is Outcome.DENY and v.reasons == ("same_device",)
    # 61 binds under 60, 62 under 61; 60 binding under 62 closes a loop.
    assert (await act(db, Action.DISTRIBUTOR_BIND, facts={"distributor_customer_id": 60}, customer_id=61)).allowed
    assert (await act(db, Action.DISTRIBUTOR_BIND, facts={"distributor_customer_id": 61}, customer_id=62)).allowed
    v = await act(db, Action.DISTRIBUTOR_BIND, facts={"distributor_customer_id": 62}, customer_id=60)
    assert v.outcome is Outcome.DENY and v.reasons == ("loop",)
    # A refund right after a commission on the same shopper: allowed (refunds are never refused), credit lowered.
    assert (await act(db, Action.REFUND, customer_id=70)).reasons == ()
    await act(db, Action.COMMISSION_ACCRUE, customer_id=70)
    v = await act(db, Action.REFUND, customer_id=70)
    assert v.outcome is Outcome.ALLOW and v.reasons == ("refund_fast",)
    await flushed(db)
    assert (await act(db, Action.WITHDRAWAL, customer_id=70)).extra["credit"] == 80


async def test_lists_block_and_allow(app, client, db):
    boss = await admin(client, db)
    await only(db, rule("acts_customer_1h > 1"))
    r = await client.post(
        "/api/admin/v1/risk/lists", json={"kind": "block", "dim": "device", "value": "bad-phone"}, headers=boss
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/admin/v1/risk/lists", json={"kind": "allow", "dim": "customer", "value": "8"}, headers=boss
    )
    assert r.status_code == 201
    r = await client.post(
        "/api/admin/v1/risk/lists", json={"kind": "block", "dim": "ip24", "value": "10.7.7.7"}, headers=boss
    )
    assert r.status_code == 201 and r.json()["value"] == "10.7.7.0/24"
    v = await act(db, Action.COUPON_CLAIM, customer_id=2, device_id="bad-phone")
    assert v.outcome is Outcome.DENY and v.reasons == ("block_list",)
    assert (await act(db, Action.COUPON_CLAIM, customer_id=3, ip="10.7.7.200")).reasons == ("block_list",)
    assert (await act(db, Action.REFUND, customer_id=2, device_id="bad-phone")).outcome is Outcome.ALLOW
    for _ in range(3):
        assert (await act(db, Action.COUPON_CLAIM, customer_id=8)).outcome is Outcome.ALLOW
    assert (await act(db, Action.COUPON_CLAIM, customer_id=9)).outcome is Outcome.ALLOW
    assert (await act(db, Action.COUPON_CLAIM, customer_id=9)).outcome is Outcome.DENY


async def test_decisions_are_recorded_with_reasons_and_facts(app, client, db):
    boss = await admin(client, db)
    await only(db, rule("acts_device_10m > 1", name="one_per_device"))
    await act(db, Action.COUPON_CLAIM, customer_id=11, device_id="dd")
    v = await act(db, Action.COUPON_CLAIM, customer_id=12, device_id="dd", ip="10.0.0.1")
    r = await client.get("/api/admin/v1/risk/decisions", params={"customer_id": 12}, headers=boss)
    assert r.status_code == 200, r.text
    (d,) = r.json()["items"]
    assert d["id"] == v.decision_id and d["outcome"] == "deny" and d["reasons"] == ["one_per_device"]
    assert d["facts"]["acts_device_10m"] == 2 and d["device_id"] == "dd" and d["ip"] == "10.0.0.1"
    r = await client.get("/api/admin/v1/risk/decisions", params={"outcome": "allow"}, headers=boss)
    assert [x["customer_id"] for x in r.json()["items"]] == [11]


async def test_a_check_inside_the_callers_write_transaction_does_not_wait_on_it(app, db):
    """Nothing is written on the caller's path, so a tool may ask from inside its own transaction (on SQLite
    a second writer would wait for the first: a deadlock)."""
    await only(db, rule("acts_customer_1h > 0", penalty=10))
    async with db.tx() as s:
        from fissionmall.risk.models import RiskListEntry

        s.add(RiskListEntry(kind="allow", dim="phone", value="x", note="", created_at=clock.now()))
        await s.flush()
        v = await asyncio.wait_for(act(db, Action.COUPON_CLAIM), timeout=5)
    assert v.outcome is Outcome.DENY


async def test_the_seeded_defaults_judge_a_fresh_shop(app, db):
    """No rulebook stored yet: the defaults apply (more than 2 accounts on one device in 5 minutes) and are
    stored for the merchant to edit."""
    for cid in (1, 2):
        assert (await act(db, Action.COUPON_CLAIM, customer_id=cid, device_id="farm")).outcome is Outcome.ALLOW
    v = await act(db, Action.COUPON_CLAIM, customer_id=3, device_id="farm")
    assert v.outcome is Outcome.DENY and v.reasons == ("device_many_accounts",)
    await flushed(db)
    from fissionmall.risk import rulestore

    names = {r.name for r in await rulestore.list_rules(db)}
    assert {"device_many_accounts", "unpaid_orders_burst", "circular_referral"} <= names
