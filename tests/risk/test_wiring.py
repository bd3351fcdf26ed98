"""Every tool asks the one risk layer, with who acts and from where, and obeys its verdict: a deny reaches the
shopper in plain Chinese and writes nothing, a review holds the withdrawal, the job-side acts (new-user gift,
registration binding, commission accrual) give nothing when refused, and `risk_enabled` off asks nobody.

The verdicts come from a stand-in engine (monkeypatched `decisions.check`), so these run with or without the
engine of issue 19; tests/risk/test_bot_farm.py and friends judge with the engine's own rules."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import func, select

from fissionmall.coupons.models import Coupon
from fissionmall.distribution.models import Binding, Commission, Withdrawal
from fissionmall.groupbuy.models import Group
from fissionmall.risk import ask, decisions, reviews
from fissionmall.risk.decisions import ALLOW, Action, Outcome, Subject, Verdict
from fissionmall.settings import get_settings
from tests.helpers import pay, run_jobs
from tests.risk.helpers import (
    Mall,
    bind,
    build,
    claim,
    customer_id,
    give_available,
    join_group,
    login,
    open_group,
    refused_by_risk,
    seckill,
    seckill_token,
    trust_proxy,
)
from tests.wallet.helpers import package, top_up

_seq = itertools.count()


class Engine:
    """Records every question; answers DENY / REVIEW for the actions it is told to."""

    def __init__(self) -> None:
        self.calls: list[tuple[Action, Subject, dict[str, Any]]] = []
        self.reports: list[tuple[Subject, str]] = []
        self.deny: set[Action] = set()
        self.review: set[Action] = set()
        self.standing: dict[int, Outcome] = {}

    async def check(self, db: Any, *, action: Action, subject: Subject, facts: Mapping[str, Any] | None = None):
        self.calls.append((action, subject, dict(facts or {})))
        if action in self.deny:
            return Verdict(Outcome.DENY, ("test_rule",))
        if action in self.review:
            return Verdict(Outcome.REVIEW, ("test_review",))
        return ALLOW

    async def report(self, db: Any, *, subject: Subject, signal: str, action: Action | None = None) -> None:
        self.reports.append((subject, signal))

    def asked(self, action: Action) -> list[tuple[Subject, dict[str, Any]]]:
        return [(s, f) for a, s, f in self.calls if a == action]


@pytest.fixture
def engine(monkeypatch):
    e = Engine()
    monkeypatch.setattr(decisions, "check", e.check)
    monkeypatch.setattr(decisions, "report", e.report)
    monkeypatch.setattr(decisions, "cached_standing", lambda cid: e.standing.get(cid))
    trust_proxy(monkeypatch)
    ask.forget()
    return e


async def _group_of_another(client, db, m: Mall) -> int:
    n = next(_seq)
    leader = await login(client, f"leader-{n}", f"leader-phone-{n}", "192.0.2.50")
    r = await open_group(client, leader, m)
    assert r.status_code == 201, r.text
    await pay(client, leader, r.json()["order"]["id"])
    await run_jobs(db)
    return int(r.json()["group_id"])


async def _bargain_of_another(client, m: Mall) -> int:
    n = next(_seq)
    starter = await login(client, f"starter-{n}", f"starter-phone-{n}", "192.0.2.60")
    r = await client.post(f"/api/v1/bargain/activities/{m.bargain_activity['id']}/start", headers=starter)
    assert r.status_code == 201, r.text
    return int(r.json()["bargain_id"])


async def _act(client, db, m: Mall, action: Action, me: dict[str, str]):
    """One shopper-facing act of `action`, as the shop makes it."""
    if action is Action.SECKILL_ATTEMPT:
        return await seckill(client, me, m)
    if action is Action.GROUP_OPEN:
        return await open_group(client, me, m)
    if action is Action.GROUP_JOIN:
        return await join_group(client, me, m, await _group_of_another(client, db, m))
    if action is Action.BARGAIN_START:
        return await client.post(f"/api/v1/bargain/activities/{m.bargain_activity['id']}/start", headers=me)
    if action is Action.BARGAIN_HELP:
        return await client.post(f"/api/v1/bargain/{await _bargain_of_another(client, m)}/help", headers=me)
    if action is Action.COUPON_CLAIM:
        return await claim(client, me, m)
    if action is Action.DISTRIBUTOR_BIND:
        return await bind(client, me, m)
    if action is Action.WALLET_TOPUP:
        pk = await package(client, m.boss, 10_000, 1000)
        return await client.post("/api/v1/wallet/top-ups", json={"package_id": pk["id"]}, headers=me)
    if action is Action.WITHDRAWAL:
        return await client.post("/api/v1/distribution/withdrawals", json={"amount_fen": 1000}, headers=m.distributor)
    raise AssertionError(action)


SHOP_ACTS = [
    Action.SECKILL_ATTEMPT,
    Action.GROUP_OPEN,
    Action.GROUP_JOIN,
    Action.BARGAIN_START,
    Action.BARGAIN_HELP,
    Action.COUPON_CLAIM,
    Action.DISTRIBUTOR_BIND,
    Action.WALLET_TOPUP,
    Action.WITHDRAWAL,
]


async def _written(db) -> tuple[int, ...]:
    async with db.read() as s:
        return tuple(
            [
                int(await s.scalar(select(func.count()).select_from(m)) or 0)
                for m in (Coupon, Binding, Commission, Withdrawal, Group)
            ]
        )


@pytest.mark.parametrize("action", SHOP_ACTS, ids=[a.value for a in SHOP_ACTS])
async def test_each_tool_asks_with_who_and_where_and_a_deny_refuses_in_chinese_writing_nothing(
    client, db, engine, action
):
    m = await build(client, db)
    me = await login(client, "shopper", "phone-1", "203.0.113.9")
    my_id = await customer_id(client, me)
    engine.deny = {action}
    if action is Action.WITHDRAWAL:
        me = m.distributor
        await give_available(db, customer_id=m.distributor_id, amount_fen=5000)
    before = await _written(db) if action not in (Action.GROUP_JOIN, Action.BARGAIN_HELP) else None
    r = await _act(client, db, m, action, me)
    assert r.status_code == 403 and r.json()["error"]["code"] == "RISK_DENIED", r.text
    assert refused_by_risk(r)
    if before is not None:
        assert await _written(db) == before
    asked = engine.asked(action)
    assert asked, f"{action} never asked the risk layer"
    subject, facts = asked[-1]
    if action is Action.WITHDRAWAL:
        assert (subject.customer_id, subject.device_id, subject.ip) == (
            m.distributor_id,
            "distributor-phone",
            "192.0.2.10",
        )
        assert facts["amount_fen"] == 1000
    else:
        assert (subject.customer_id, subject.device_id, subject.ip) == (my_id, "phone-1", "203.0.113.9")
    if action is Action.DISTRIBUTOR_BIND:
        assert subject.distributor_id == m.distributor_id and facts["distributor_customer_id"] == m.distributor_id
    if action is Action.GROUP_JOIN:
        assert "leader_id" in facts and "group_id" in facts
    if action is Action.BARGAIN_HELP:
        assert facts["has_paid"] is False and "starter_id" in facts
    # the same act allowed goes through: the refusal was the risk layer's
    engine.deny = set()
    again = await _act(client, db, m, action, me)
    assert again.status_code in (200, 201, 202), again.text


async def test_the_acts_judged_in_jobs_give_nothing_when_refused(client, db, engine):
    """New-user gift and the registration binding (CustomerRegistered), commission accrual (OrderPaid)."""
    m = await build(client, db)
    engine.deny = {Action.NEW_USER_GIFT, Action.DISTRIBUTOR_BIND}
    bot = await login(client, "farm-1", "farm-phone", "198.51.100.7", ref=m.share_code)
    await run_jobs(db)
    bot_id = await customer_id(client, bot)
    engine.deny = set()
    person = await login(client, "person-1", "own-phone", "203.0.113.20", ref=m.share_code)
    await run_jobs(db)
    person_id = await customer_id(client, person)
    async with db.read() as s:
        bound = set((await s.scalars(select(Binding.customer_id))).all())
        gifted = set((await s.scalars(select(Coupon.customer_id).where(Coupon.source == "new_user"))).all())
    assert (bot_id in bound, bot_id in gifted) == (False, False)
    assert (person_id in bound, person_id in gifted) == (True, True)
    gifts = {(s.customer_id, s.device_id, s.ip) for s, _ in engine.asked(Action.NEW_USER_GIFT)}
    assert (bot_id, "farm-phone", "198.51.100.7") in gifts
    signup = [s for s, _ in engine.asked(Action.SIGNUP)]
    assert {(s.customer_id, s.device_id, s.ip) for s in signup} >= {(bot_id, "farm-phone", "198.51.100.7")}

    # commission: refused for the order's buyer → nobody earns on it; allowed → the distributor earns
    async def paid_order() -> int:
        r = await open_group(client, person, m)
        assert r.status_code == 201, r.text
        await pay(client, person, r.json()["order"]["id"])
        await run_jobs(db)
        return int(r.json()["order"]["id"])

    async def earned(order_id: int) -> int:
        async with db.read() as s:
            q = select(func.coalesce(func.sum(Commission.amount_fen), 0)).where(Commission.order_id == order_id)
            return int(await s.scalar(q) or 0)

    engine.deny = {Action.COMMISSION_ACCRUE}
    refused = await paid_order()
    engine.deny = set()
    allowed = await paid_order()
    assert (await earned(refused), await earned(allowed) > 0) == (0, True)
    subjects = [s for s, f in engine.asked(Action.COMMISSION_ACCRUE) if f["order_id"] == allowed]
    assert {s.customer_id for s in subjects} == {person_id, m.distributor_id}  # the buyer, then the earner
    buyer = next(s for s in subjects if s.customer_id == person_id)
    assert (buyer.device_id, buyer.ip) == ("own-phone", "203.0.113.20")


async def test_risk_enabled_off_asks_nobody_and_refuses_nothing(client, db, engine, monkeypatch):
    m = await build(client, db)
    monkeypatch.setattr(get_settings(), "risk_enabled", False)
    engine.calls.clear()
    engine.deny = set(Action)
    engine.standing = {i: Outcome.DENY for i in range(1, 200)}
    me = await login(client, "shopper", "phone-1", "203.0.113.9")
    await give_available(db, customer_id=m.distributor_id, amount_fen=5000)
    for action in SHOP_ACTS:
        r = await _act(client, db, m, action, m.distributor if action is Action.WITHDRAWAL else me)
        assert r.status_code in (200, 201, 202), (action, r.text)
    bot = await login(client, "farm-1", "farm-phone", "198.51.100.7", ref=m.share_code)
    await run_jobs(db)
    assert (await client.get("/api/v1/me/coupons", headers=bot)).json()["items"]
    assert engine.calls == [] and engine.reports == []


async def test_the_flash_sale_attempt_asks_only_the_cached_standing_and_reports_forged_tokens(client, db, engine):
    m = await build(client, db)
    me = await login(client, "shopper", "phone-1", "203.0.113.9")
    my_id = await customer_id(client, me)
    tok = (await seckill_token(client, me, m)).json()["token"]
    assert len(engine.asked(Action.SECKILL_ATTEMPT)) == 1  # judged with the token, off the hot path
    engine.standing[my_id] = Outcome.DENY
    url = f"/api/v1/seckill/items/{m.seckill_item}/attempts"
    r = await client.post(url, json={"qty": 1, "token": tok}, headers=me)
    assert refused_by_risk(r) and r.json()["error"]["code"] == "RISK_DENIED"
    assert len(engine.asked(Action.SECKILL_ATTEMPT)) == 1  # the attempt itself asked nothing with I/O
    engine.standing.clear()
    r = await client.post(url, json={"qty": 1, "token": tok[:-4] + "0000"}, headers=me)
    assert r.json()["error"]["code"] == "BAD_TOKEN"
    assert [(s.customer_id, sig) for s, sig in engine.reports] == [(my_id, "forged_token")]
    r = await client.post(url, json={"qty": 1, "token": "1.2.3.4.5"}, headers=me)  # within the second: once
    assert len(engine.reports) == 1


async def test_a_reviewed_withdrawal_is_held_and_released_or_voided_once(client, db, engine):
    m = await build(client, db)
    await give_available(db, customer_id=m.distributor_id, amount_fen=10_000)
    engine.review = {Action.WITHDRAWAL}
    url = "/api/v1/distribution/withdrawals"
    w1 = await client.post(url, json={"amount_fen": 3000}, headers=m.distributor)
    w2 = await client.post(url, json={"amount_fen": 2000}, headers=m.distributor)
    assert (w1.status_code, w1.json()["status"], w2.json()["status"]) == (201, "held", "held"), w1.text
    me = (await client.get("/api/v1/distribution/me", headers=m.distributor)).json()
    assert (me["available_fen"], me["withdrawing_fen"]) == (5000, 5000)
    # the withdrawals console cannot pay or reject it behind the review queue's back
    r = await client.post(f"/api/admin/v1/withdrawals/{w1.json()['id']}/approve", headers=m.boss)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "WITHDRAWAL_UNDER_REVIEW")
    kind = reviews.KINDS["withdrawal"]

    async def decide(fn, ref: int) -> None:
        async with db.tx() as s:
            await fn(s, ref)

    await asyncio.gather(*(decide(kind.release, w1.json()["id"]) for _ in range(4)))
    await asyncio.gather(*(decide(kind.void, w2.json()["id"]) for _ in range(4)))
    await asyncio.gather(*(decide(kind.void, w1.json()["id"]) for _ in range(2)))  # too late: paid stays paid
    await run_jobs(db)
    mine = {w["id"]: w["status"] for w in (await client.get(url, headers=m.distributor)).json()["items"]}
    assert (mine[w1.json()["id"]], mine[w2.json()["id"]]) == ("paid", "rejected")
    me = (await client.get("/api/v1/distribution/me", headers=m.distributor)).json()
    assert (me["available_fen"], me["withdrawing_fen"], me["withdrawn_fen"]) == (7000, 0, 3000)


async def test_a_wallet_top_up_refund_is_heard_but_never_stopped(client, db, engine):
    m = await build(client, db)
    me = await login(client, "shopper", "phone-1", "203.0.113.9")
    pk = await package(client, m.boss, 10_000, 0)
    t = await top_up(client, me, pk["id"])
    engine.deny = {Action.REFUND}
    r = await client.post(f"/api/admin/v1/wallet/top-ups/{t['top_up_id']}/refund", headers=m.boss)
    assert r.status_code == 200, r.text
    (subject, facts), *_ = engine.asked(Action.REFUND)
    assert subject.customer_id == await customer_id(client, me) and facts["top_up_id"] == t["top_up_id"]
