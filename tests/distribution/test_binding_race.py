"""Two distributors binding to each other at the same instant: one of them wins, never both (a cycle)."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import select

from fissionmall.distribution.models import Binding
from tests.distribution.helpers import configure, customer_id, distributor
from tests.helpers import admin

PAIRS = 20


async def test_20_pairs_binding_to_each_other_at_once_make_no_cycle(client, db):
    boss = await admin(client, db)
    await configure(client, boss, bind_mode="latest")
    people = [await distributor(client, db, f"d{i}") for i in range(2 * PAIRS)]
    pairs = [(people[2 * i], people[2 * i + 1]) for i in range(PAIRS)]

    async def bind(who: dict[str, str], code: str) -> int:
        r = await client.post("/api/v1/distribution/bind", json={"ref": code}, headers=who)
        assert r.status_code in (200, 409), r.text
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "BIND_CYCLE"
        return r.status_code

    results = await asyncio.gather(
        *(bind(a_h, b_code) for (a_h, _), (_, b_code) in pairs),
        *(bind(b_h, a_code) for (_, a_code), (b_h, _) in pairs),
    )

    ids = [await customer_id(client, h) for h, _ in people]
    async with db.read() as s:
        upline = dict((await s.execute(select(Binding.customer_id, Binding.distributor_customer_id))).all())
    for i in range(PAIRS):
        a, b = ids[2 * i], ids[2 * i + 1]
        assert not (upline.get(a) == b and upline.get(b) == a), f"pair {i} bound to each other"
        assert upline.get(a) == b or upline.get(b) == a  # one direction did bind
    assert Counter(results) == {200: PAIRS, 409: PAIRS}
