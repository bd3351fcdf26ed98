"""Refunds of an order paid partly by the wallet and partly by the gateway: each part back exactly, the
wallet's share to 本金 and 赠送 in the proportion they were spent, to the fen, whatever the refund order."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from fissionmall.orders.models import Order, Refund
from fissionmall.orders.tenders import split_refund
from fissionmall.payments.gateway import SandboxGateway
from fissionmall.wallet import rules
from fissionmall.wallet.models import WalletEntry
from tests.helpers import admin, order, product, run_jobs, shopper
from tests.wallet.helpers import A, C, assert_ledger_balances, customer_id, wallet

FEN = st.integers(min_value=0, max_value=10**8)


@st.composite
def spent_and_refunds(draw: st.DrawFn) -> tuple[int, int, int, list[int]]:
    p, b, g = draw(FEN), draw(FEN), draw(FEN)
    total = p + b + g
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=total), max_size=10)))
    return p, b, g, [y - x for x, y in itertools.pairwise([0, *cuts, total])]


@settings(max_examples=400, deadline=None)
@given(spent_and_refunds())
def test_the_wallet_share_of_every_refund_goes_back_to_principal_and_bonus_exactly(case) -> None:
    principal, bonus, gateway, refunds = case
    left = {"wallet": principal + bonus, "gateway": gateway}
    back = {"principal": 0, "bonus": 0, "gateway": 0}
    for amount in refunds:
        parts = dict(split_refund(amount, list(left.items())))
        p, b = rules.give_back_split(
            parts["wallet"],
            spent_principal=principal,
            spent_bonus=bonus,
            back_principal=back["principal"],
            back_bonus=back["bonus"],
        )
        assert p >= 0 and b >= 0 and p + b == parts["wallet"]
        back["principal"] += p
        back["bonus"] += b
        back["gateway"] += parts["gateway"]
        assert back["principal"] <= principal and back["bonus"] <= bonus
        for k, v in parts.items():
            left[k] -= v
    assert back == {"principal": principal, "bonus": bonus, "gateway": gateway}


def test_the_debit_split_follows_the_merchants_order() -> None:
    assert rules.debit_split(700, principal_fen=500, bonus_fen=300, bonus_first=False) == (500, 200)
    assert rules.debit_split(700, principal_fen=500, bonus_fen=300, bonus_first=True) == (400, 300)
    assert rules.debit_split(801, principal_fen=500, bonus_fen=300, bonus_first=False) is None


examples: list[int] = []


async def _refund_units(client, db, sh, ah, order_id: int, units: list[int]) -> list[int]:
    ids = []
    for line_id in units:
        body = {"lines": [{"line_id": line_id, "qty": 1}], "reason": "不想要了"}
        r = await client.post(f"{C}/orders/{order_id}/refunds", json=body, headers=sh)
        assert r.status_code == 201, r.text
        assert (await client.post(f"{A}/refunds/{r.json()['id']}/approve", headers=ah)).status_code == 200
        await run_jobs(db)
        ids.append(r.json()["id"])
    return ids


async def _check_split_order(client, db, monkeypatch, *, principal: int, bonus: int, wallet_bp: int, qty, shuffle):
    asked: list[tuple[int, int]] = []

    async def refund(self, *, refund_id: int, payment_id: int, amount_fen: int, total_fen: int) -> None:
        asked.append((refund_id, amount_fen))

    monkeypatch.setattr(SandboxGateway, "refund", refund)
    n = len(asked)
    examples.append(1)
    ah = await admin(client, db, username=f"owner-{len(examples)}")
    p = await product(client, ah, prices=(1990, 2990, 333), stock=1000)
    code = f"w{len(examples)}"
    sh = await shopper(client, code)
    cid = await customer_id(db, code)
    for bucket, fen in (("principal", principal), ("bonus", bonus)):
        if fen:
            body = {"delta": fen, "reason": "测试", "bucket": bucket}
            assert (
                await client.post(f"{A}/customers/{cid}/wallet-adjustments", json=body, headers=ah)
            ).status_code == 201
    items = [{"sku_id": k["id"], "qty": q} for k, q in zip(p["skus"], qty, strict=False)]
    r = await order(client, sh, items)
    assert r.status_code == 201, r.text
    oid, payable = r.json()["id"], r.json()["payable_fen"]
    wallet_fen = max(1, min(principal + bonus, payable * wallet_bp // 10_000))
    r = await client.post(f"{C}/orders/{oid}/pay", json={"method": "split", "wallet_fen": wallet_fen}, headers=sh)
    assert r.status_code == 200, r.text
    if r.json()["payment_id"] is not None:
        r = await client.post(f"{C}/payments/sandbox/{r.json()['payment_id']}/succeed", headers=sh)
        assert r.json()["outcome"] == "applied"
    async with db.read() as s:
        pay_entry = await s.scalar(select(WalletEntry).where(WalletEntry.key == f"pay:{oid}"))
    assert pay_entry is not None
    spent_p, spent_b = -pay_entry.principal_delta, -pay_entry.bonus_delta
    assert spent_p + spent_b == wallet_fen
    lines = (await client.get(f"{C}/orders/{oid}", headers=sh)).json()["lines"]
    units = [ln["id"] for ln in lines for _ in range(ln["qty"])]
    shuffle(units)
    refund_ids = await _refund_units(client, db, sh, ah, oid, units)
    async with db.read() as s:
        refunds = list((await s.scalars(select(Refund).where(Refund.id.in_(refund_ids)))).all())
        backs = list(
            (
                await s.scalars(
                    select(WalletEntry).where(WalletEntry.ref == f"order:{oid}", WalletEntry.kind == "refund")
                )
            ).all()
        )
        o = await s.get(Order, oid)
    assert o is not None and o.refunded_fen == payable
    assert all(x.status == "succeeded" for x in refunds)
    gateway_by_refund = dict(asked[n:])
    for x in refunds:
        parts = {q["tender"]: q["amount_fen"] for q in x.tender_parts or []}
        assert sum(parts.values()) == x.amount_fen
        assert gateway_by_refund.get(x.id, 0) == parts.get("gateway", 0)
    assert sum(gateway_by_refund.values()) == payable - wallet_fen  # the gateway: exactly what it took
    assert sum(e.principal_delta for e in backs) == spent_p  # the wallet: exactly what it spent, each part
    assert sum(e.bonus_delta for e in backs) == spent_b
    assert len({e.key for e in backs}) == len(backs)
    assert await wallet(client, sh) == (principal, bonus)
    await assert_ledger_balances(db, cid)


async def test_a_split_order_refunded_unit_by_unit_returns_each_part_exactly(client, db, monkeypatch) -> None:
    await _check_split_order(
        client,
        db,
        monkeypatch,
        principal=2345,
        bonus=1237,
        wallet_bp=4321,
        qty=[3, 2, 1],
        shuffle=lambda u: u.reverse(),
    )


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(
    principal=st.integers(min_value=0, max_value=20_000),
    bonus=st.integers(min_value=1, max_value=5_000),
    wallet_bp=st.integers(min_value=1, max_value=10_000),
    qty=st.lists(st.integers(min_value=1, max_value=3), min_size=2, max_size=3),
    order_of_units=st.randoms(use_true_random=False),
)
async def test_any_amounts_and_refund_orders_return_each_part_exactly(
    client, db, monkeypatch, principal, bonus, wallet_bp, qty, order_of_units
) -> None:
    # Function-scoped fixtures are shared by the examples: each example has its own shopper and order.
    await _check_split_order(
        client,
        db,
        monkeypatch,
        principal=principal,
        bonus=bonus,
        wallet_bp=wallet_bp,
        qty=qty,
        shuffle=order_of_units.shuffle,
    )
