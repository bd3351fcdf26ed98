"""The risk layer's admin API: rules CRUD and bad input, preview, the review queue decided once under
concurrent calls, credit through the API, and who may call what."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from fissionmall.core import clock
from fissionmall.risk import reviews
from fissionmall.risk.decisions import Action, Outcome
from fissionmall.risk.models import RiskListEntry, RiskReview
from tests.authz import check_admin_matrix
from tests.helpers import admin, shopper
from tests.risk.engine_helpers import act, only, rule

R = "/api/admin/v1/risk"
GOOD = {
    "name": "many_devices",
    "label": "一台设备多账号",
    "actions": ["coupon_claim"],
    "condition": "accounts_device_5m > 3",
    "outcome": "deny",
}

ADMIN_ROUTES = [
    ("GET", f"{R}/rules", None, "marketing.read", "store_staff"),
    ("POST", f"{R}/rules", GOOD, "marketing", "finance"),
    ("POST", f"{R}/rules/preview", {"condition": "acts_customer_1h > 5"}, "marketing.read", "store_staff"),
    ("GET", f"{R}/rules/{{rule_id}}", None, "marketing.read", "store_staff"),
    ("PUT", f"{R}/rules/{{rule_id}}", GOOD, "marketing", "finance"),
    ("DELETE", f"{R}/rules/{{rule_id}}", None, "marketing", "finance"),
    ("GET", f"{R}/decisions", None, "marketing.read", "store_staff"),
    ("GET", f"{R}/reviews", None, "marketing", "store_staff"),
    ("POST", f"{R}/reviews/{{review_id}}/decide", {"decision": "release"}, "marketing", "store_staff"),
    ("GET", f"{R}/credit/{{customer_id}}", None, "marketing.read", "store_staff"),
    ("PUT", f"{R}/credit/{{customer_id}}", {"clear": True}, "marketing", "finance"),
    ("GET", f"{R}/lists", None, "marketing.read", "store_staff"),
    ("POST", f"{R}/lists", {"kind": "block", "dim": "device", "value": "x"}, "marketing", "finance"),
    ("DELETE", f"{R}/lists/{{entry_id}}", None, "marketing", "finance"),
]

PAID: list[tuple[str, int]] = []


async def _release(s: Any, ref_id: int) -> None:
    PAID.append(("release", ref_id))
    # A write in the deciding transaction: it commits with the decision or not at all.
    s.add(RiskListEntry(kind="allow", dim="customer", value=f"paid-{ref_id}", note="", created_at=clock.now()))


async def _void(s: Any, ref_id: int) -> None:
    PAID.append(("void", ref_id))
    s.add(RiskListEntry(kind="allow", dim="customer", value=f"void-{ref_id}", note="", created_at=clock.now()))


async def _explode(s: Any, ref_id: int) -> None:
    raise RuntimeError("payout down")


reviews.register(reviews.Kind("test_payout", "测试提现", release=_release, void=_void))
reviews.register(reviews.Kind("test_broken", "测试", release=_explode, void=_explode))


async def _hold(db: Any, kind: str = "test_payout", ref_id: int = 1, customer_id: int | None = 5) -> int:
    async with db.tx() as s:
        rid = await reviews.hold(s, kind=kind, ref_id=ref_id, customer_id=customer_id, reasons=["large_withdrawal"])
    assert rid is not None
    return rid


async def test_rules_crud_and_the_defaults_listed(app, client, db):
    boss = await admin(client, db)
    r = await client.get(f"{R}/rules", headers=boss)
    assert r.status_code == 200 and "device_many_accounts" in {x["name"] for x in r.json()}
    r = await client.post(f"{R}/rules", json=GOOD, headers=boss)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = await client.put(f"{R}/rules/{rid}", json={**GOOD, "condition": "accounts_device_5m > 1"}, headers=boss)
    assert r.status_code == 200 and r.json()["condition"] == "accounts_device_5m > 1"
    # In force at once in this process: the second account on a device is refused a coupon.
    await only(db)  # nothing else judges
    r = await client.post(f"{R}/rules", json={**GOOD, "condition": "accounts_device_5m > 1"}, headers=boss)
    assert r.status_code == 201
    assert (await act(db, Action.COUPON_CLAIM, customer_id=1, device_id="d")).outcome is Outcome.ALLOW
    assert (await act(db, Action.COUPON_CLAIM, customer_id=2, device_id="d")).outcome is Outcome.DENY
    rid = r.json()["id"]
    assert (await client.get(f"{R}/rules/{rid}", headers=boss)).json()["name"] == "many_devices"
    r = await client.post(f"{R}/rules", json=GOOD, headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "RULE_NAME_TAKEN"
    assert (await client.delete(f"{R}/rules/{rid}", headers=boss)).status_code == 204
    assert (await client.get(f"{R}/rules/{rid}", headers=boss)).status_code == 404
    assert (await act(db, Action.COUPON_CLAIM, customer_id=3, device_id="d")).outcome is Outcome.ALLOW


@pytest.mark.parametrize(
    ("condition", "position"),
    [
        ("accounts_device_5m >", 20),
        ("accounts_device_5m > 2 and", 26),
        ("acts_device_5m > 2 and nonsense > 1", 23),
        ("acts_device_99999d > 1", 0),
        ("(acts_customer_1h > 2", 21),
    ],
)
async def test_a_malformed_rule_is_refused_with_the_position_of_the_error(app, client, db, condition, position):
    boss = await admin(client, db)
    r = await client.post(f"{R}/rules", json={**GOOD, "condition": condition}, headers=boss)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "RULE_INVALID" and err["detail"]["position"] == position
    assert f"第 {position + 1} 个字符处" in err["message"]
    r = await client.post(f"{R}/rules/preview", json={"condition": condition}, headers=boss)
    assert r.status_code == 422 and r.json()["error"]["detail"]["position"] == position


async def test_a_condition_that_is_not_yes_or_no_is_refused(app, client, db):
    boss = await admin(client, db)
    r = await client.post(f"{R}/rules", json={**GOOD, "condition": "acts_device_5m + 1"}, headers=boss)
    assert r.status_code == 422 and r.json()["error"]["code"] == "RULE_INVALID"


@pytest.mark.parametrize("condition", ["acts_customer_1h > 0", "true", "credit <= 100", "accounts_device_5m >= 1"])
async def test_a_rule_that_denies_everyone_needs_confirm(app, client, db, condition):
    boss = await admin(client, db)
    body = {**GOOD, "condition": condition}
    r = await client.post(f"{R}/rules", json=body, headers=boss)
    assert r.status_code == 422 and r.json()["error"]["code"] == "RULE_DENIES_EVERYONE", r.text
    r = await client.post(f"{R}/rules", json={**body, "confirm": True}, headers=boss)
    assert r.status_code == 201, r.text
    # One above the threshold is an ordinary rule.
    r = await client.post(
        f"{R}/rules", json={**GOOD, "name": "fine", "condition": "acts_customer_1h > 1"}, headers=boss
    )
    assert r.status_code == 201


async def test_unknown_actions_and_outcomes_are_4xx(app, client, db):
    boss = await admin(client, db)
    r = await client.post(f"{R}/rules", json={**GOOD, "actions": ["coupon_claim", "teleport"]}, headers=boss)
    assert r.status_code == 422 and r.json()["error"]["code"] == "RISK_ACTION_UNKNOWN"
    r = await client.post(f"{R}/rules", json={**GOOD, "outcome": "shrug"}, headers=boss)
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = await client.post(f"{R}/rules", json={**GOOD, "name": "Has Spaces"}, headers=boss)
    assert r.status_code == 422
    r = await client.post(f"{R}/rules", json={**GOOD, "penalty": 101}, headers=boss)
    assert r.status_code == 422
    r = await client.get(f"{R}/decisions", params={"outcome": "maybe"}, headers=boss)
    assert r.status_code == 422
    r = await client.get(f"{R}/decisions", params={"cursor": "abc"}, headers=boss)
    assert r.status_code == 400 and r.json()["error"]["code"] == "CURSOR_INVALID"
    with pytest.raises(ValueError):
        await act(db, "teleport")  # type: ignore[arg-type]


async def test_preview_against_the_last_day_of_decisions(app, client, db):
    boss = await admin(client, db)
    await only(db, rule("acts_device_1h > 100", name="loose"))  # records acts_device_1h, refuses nothing
    for cid in range(1, 6):
        await act(db, Action.COUPON_CLAIM, customer_id=cid, device_id="shared")
    await act(db, Action.GROUP_OPEN, customer_id=9, device_id="shared")
    body = {"actions": ["coupon_claim"], "condition": "acts_device_1h > 3", "outcome": "deny"}
    r = await client.post(f"{R}/rules/preview", json=body, headers=boss)
    assert r.status_code == 200, r.text
    p = r.json()
    assert (p["decisions"], p["applies"], p["fired"], p["stricter"], p["unknown"]) == (6, 5, 2, 2, 0)
    assert p["customers"] == 2 and {s["customer_id"] for s in p["samples"]} == {4, 5}
    r = await client.post(f"{R}/rules/preview", json={**body, "condition": "acts_phone_1h > 3"}, headers=boss)
    assert r.json()["unknown"] == 5  # no decision recorded a phone count: the preview says it cannot tell
    clock.advance(25 * 3600)
    boss = await admin(client, db, username="next-day")  # yesterday's login has expired
    r = await client.post(f"{R}/rules/preview", json=body, headers=boss)
    assert r.json()["decisions"] == 0


async def test_a_review_is_released_once_under_concurrent_decide_calls(app, client, db):
    PAID.clear()
    boss = await admin(client, db)
    rid = await _hold(db, ref_id=41)
    assert await _hold(db, ref_id=41) == rid  # holding the same benefit again is the same review
    calls = [
        client.post(f"{R}/reviews/{rid}/decide", json={"decision": d}, headers=boss) for d in ["release", "void"] * 5
    ]
    got = await asyncio.gather(*calls)
    codes = sorted(r.status_code for r in got)
    assert codes == [200] + [409] * 9, [r.text for r in got]
    assert all(r.json()["error"]["code"] == "REVIEW_ALREADY_DECIDED" for r in got if r.status_code == 409)
    assert len(PAID) == 1 and PAID[0][1] == 41
    async with db.read() as s:
        effects = await s.scalar(
            select(func.count()).select_from(RiskListEntry).where(RiskListEntry.value.like("%-41"))
        )
        row = await s.get(RiskReview, rid)
    assert effects == 1 and row is not None and row.status == ("released" if PAID[0][0] == "release" else "voided")
    assert row.decided_by_name == "owner-user" and row.decided_at is not None
    r = await client.get(f"{R}/reviews", params={"status": row.status}, headers=boss)
    (item,) = r.json()["items"]
    assert item["kind_label"] == "测试提现" and item["reasons"] == ["large_withdrawal"]


async def test_voiding_runs_the_void_callback_and_a_failing_callback_leaves_the_review_pending(app, client, db):
    PAID.clear()
    boss = await admin(client, db, "finance")  # finance decides held withdrawals
    rid = await _hold(db, ref_id=7)
    r = await client.post(f"{R}/reviews/{rid}/decide", json={"decision": "void", "note": "刷单"}, headers=boss)
    assert r.status_code == 200 and r.json()["status"] == "voided" and r.json()["note"] == "刷单"
    assert PAID == [("void", 7)]
    bad = await _hold(db, kind="test_broken", ref_id=8)
    with pytest.raises(RuntimeError):
        await reviews.decide(db, review_id=bad, decision="release", admin_id=None)
    async with db.read() as s:
        assert (await s.get(RiskReview, bad)).status == "pending"  # type: ignore[union-attr]
    r = await client.post(f"{R}/reviews/999999/decide", json={"decision": "void"}, headers=boss)
    assert r.status_code == 404 and r.json()["error"]["code"] == "REVIEW_NOT_FOUND"
    r = await client.post(f"{R}/reviews/{rid}/decide", json={"decision": "maybe"}, headers=boss)
    assert r.status_code == 422


async def test_authorization(app, client, db):
    me = await shopper(client)
    cid = (await client.get("/api/v1/me", headers=me)).json()["id"]
    boss = await admin(client, db)
    rule_id = (await client.get(f"{R}/rules", headers=boss)).json()[0]["id"]
    review_id = await _hold(db, ref_id=77)
    entry = await client.post(f"{R}/lists", json={"kind": "block", "dim": "ip", "value": "1.2.3.4"}, headers=boss)
    ids = {"rule_id": rule_id, "review_id": review_id, "customer_id": cid, "entry_id": entry.json()["id"]}
    await check_admin_matrix(client, db, ADMIN_ROUTES, ids, me)
    async with db.read() as s:
        assert (await s.get(RiskReview, review_id)).status == "pending"  # type: ignore[union-attr]
    # The operator runs the rulebook; finance reads the queue but not the rules.
    ops = await admin(client, db, "operator")
    fin = await admin(client, db, "finance")
    assert (await client.get(f"{R}/rules", headers=ops)).status_code == 200
    assert (await client.get(f"{R}/reviews", headers=fin)).status_code == 200
    assert (await client.get(f"{R}/rules", headers=fin)).status_code == 403
