"""Credit: one score per shopper shared by every tool. A bad act in one tool lowers eligibility in the
others, the score recovers over the days, an operator clears it; frozen stops marketing, never a paid order
or a refund. The fast lane's cached standing follows."""

from __future__ import annotations

from fissionmall.core import clock
from fissionmall.risk import decisions, engine
from fissionmall.risk.decisions import Action, Outcome, Subject
from tests.helpers import admin, shopper
from tests.risk.engine_helpers import act, flushed, only, rule

R = "/api/admin/v1/risk"
MARKETING = (Action.GROUP_OPEN, Action.COMMISSION_ACCRUE, Action.COUPON_CLAIM, Action.BARGAIN_HELP)
UNTOUCHED = (Action.ORDER, Action.REFUND, Action.WALLET_TOPUP)


async def _me(client) -> tuple[dict[str, str], int]:
    h = await shopper(client, "scripter")
    return h, (await client.get("/api/v1/me", headers=h)).json()["id"]


async def test_scripting_the_flash_sale_refuses_other_tools_until_the_score_recovers(app, client, db):
    await only(db)
    _, cid = await _me(client)
    assert decisions.cached_standing(cid) is None  # nothing known yet
    assert (await act(db, Action.GROUP_OPEN, customer_id=cid)).outcome is Outcome.ALLOW
    assert decisions.cached_standing(cid) is Outcome.ALLOW
    await decisions.report(
        db, subject=Subject(customer_id=cid), signal="seckill_scripting", action=Action.SECKILL_ATTEMPT
    )
    assert decisions.cached_standing(cid) is Outcome.DENY  # at once, before anything is written
    for a in MARKETING:
        v = await act(db, a, customer_id=cid)
        assert v.outcome is Outcome.DENY and v.reasons == ("low_credit",), a
    for a in UNTOUCHED:
        assert (await act(db, a, customer_id=cid)).outcome is Outcome.ALLOW, a
    # Written, and read back by a process that knew nothing (the stored score is what counts).
    await flushed(db)
    engine.forget()
    assert (await act(db, Action.GROUP_OPEN, customer_id=cid)).reasons == ("low_credit",)
    clock.advance(86400 - 60)  # 50 + 9.99: still under 60
    engine.forget()
    assert (await act(db, Action.GROUP_OPEN, customer_id=cid)).outcome is Outcome.DENY
    clock.advance(60)  # a day: 60, eligible again
    engine.forget()
    assert (await act(db, Action.GROUP_OPEN, customer_id=cid)).outcome is Outcome.ALLOW
    assert decisions.cached_standing(cid) is Outcome.ALLOW


async def test_an_operator_clears_the_score_and_freezes_marketing_only(app, client, db):
    await only(db)
    boss = await admin(client, db)
    _, cid = await _me(client)
    for _ in range(3):
        await decisions.report(db, subject=Subject(customer_id=cid), signal="forged_token")
    assert (await act(db, Action.COMMISSION_ACCRUE, customer_id=cid)).outcome is Outcome.DENY
    r = await client.get(f"{R}/credit/{cid}", headers=boss)
    assert r.status_code == 200 and r.json()["score"] == 40 and r.json()["frozen"] is False
    r = await client.put(f"{R}/credit/{cid}", json={"clear": True, "note": "误判"}, headers=boss)
    assert r.status_code == 200 and r.json()["score"] == 100
    assert (await act(db, Action.COMMISSION_ACCRUE, customer_id=cid)).outcome is Outcome.ALLOW
    r = await client.put(f"{R}/credit/{cid}", json={"frozen": True, "note": "刷单"}, headers=boss)
    assert r.json() == {"customer_id": cid, "score": 100, "frozen": True, "note": "刷单"}
    for a in MARKETING:
        assert (await act(db, a, customer_id=cid)).reasons == ("frozen",), a
    for a in UNTOUCHED:
        assert (await act(db, a, customer_id=cid)).outcome is Outcome.ALLOW, a
    assert decisions.cached_standing(cid) is Outcome.DENY
    r = await client.put(f"{R}/credit/{cid}", json={"frozen": False}, headers=boss)
    assert (await act(db, Action.GROUP_OPEN, customer_id=cid)).outcome is Outcome.ALLOW
    r = await client.put(f"{R}/credit/{10**12}", json={"clear": True}, headers=boss)
    assert r.status_code == 404 and r.json()["error"]["code"] == "CUSTOMER_NOT_FOUND"


async def test_a_rules_penalty_in_one_tool_is_felt_in_another(app, client, db):
    await only(db, rule("accounts_device_5m > 1", actions=["coupon_claim"], penalty=45))
    _, cid = await _me(client)
    await act(db, Action.COUPON_CLAIM, customer_id=cid + 1000, device_id="farm")
    v = await act(db, Action.COUPON_CLAIM, customer_id=cid, device_id="farm")
    assert v.outcome is Outcome.DENY and v.reasons == ("rule_0",)
    # 55 now: the group open on its own phone is refused for credit, a refund is not.
    v = await act(db, Action.GROUP_OPEN, customer_id=cid, device_id="own")
    assert v.outcome is Outcome.DENY and v.reasons == ("low_credit",)
    assert (await act(db, Action.REFUND, customer_id=cid)).outcome is Outcome.ALLOW


async def test_the_fast_lanes_standing_is_refreshed_from_the_database(app, client, db):
    """Another process froze the shopper: this one learns it from its periodic refresh, without a check."""
    await only(db)
    boss = await admin(client, db)
    _, cid = await _me(client)
    assert (await act(db, Action.GROUP_OPEN, customer_id=cid)).outcome is Outcome.ALLOW
    await client.put(f"{R}/credit/{cid}", json={"frozen": True}, headers=boss)
    from fissionmall.risk import credit

    credit._cache.clear()
    credit._bad.clear()  # as if the freeze had happened elsewhere
    credit._bad_at = float("-inf")
    assert decisions.cached_standing(cid) is None  # not known here; a refresh is under way
    task = credit._bad_task
    assert task is not None
    await task
    assert decisions.cached_standing(cid) is Outcome.DENY
