"""The daily rollups equal a recomputation from the raw events, whatever the stream: events inserted in
random rounds (the worker catching up between them), some sent twice (the second is dropped by its key),
some late (an old `at`, a new id: they land in their own day), anonymous ones counted by device."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from fissionmall.analytics import rollups
from fissionmall.analytics.kinds import PARTICIPATION_KINDS
from fissionmall.analytics.models import AnalyticsEvent
from fissionmall.analytics.rollup_models import (
    STEP_CODES,
    AnalyticsDevice,
    DailyPerson,
    DailyRollup,
    LastDayCount,
    PersonLast,
    RollupState,
)
from fissionmall.core import clock
from fissionmall.core.db import get_db
from tests.conftest import running_app

KINDS = (
    "page_view",
    "share_open",
    "group_open",
    "group_join",
    "seckill_attempt",
    "order_created",
    "order_paid",
    "order_refund",
)
STEP_OF = {"page_view": "viewed", "order_created": "ordered", "order_paid": "paid"}
TOOLS = (None, "groupbuy", "seckill")
BASE = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

event = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(KINDS),
        "tool": st.sampled_from(TOOLS),
        "customer": st.one_of(st.none(), st.integers(1, 4)),
        "device": st.sampled_from(("dev-a", "dev-b")),
        "distributor": st.one_of(st.none(), st.integers(1, 2)),
        "hours": st.integers(-72, 72),  # around BASE: days apart in the shop's zone
        "amount": st.integers(0, 50_000),
        "dup": st.booleans(),  # sent again in a later round
    }
)
rounds = st.lists(st.lists(event, max_size=12), min_size=1, max_size=4)


def _row(e: dict[str, Any], n: int, *, late_by: int = 0) -> dict[str, Any]:
    at = BASE + timedelta(hours=e["hours"] - late_by)
    return {
        "key": f"t:{n}",
        "kind": e["kind"],
        "origin": "server",
        "at": at,
        "day": rollups.shop_day(at),
        "received_at": BASE,
        "customer_id": e["customer"],
        "device_id": None if e["customer"] else e["device"],
        "product_id": None,
        "tool": e["tool"],
        "campaign": None,
        "distributor_id": e["distributor"],
        "variant": None,
        "order_id": None,
        "ref": None,
        "amount_fen": e["amount"],
    }


async def _insert(db, row: dict[str, Any]) -> bool:
    try:
        async with db.tx() as s:
            await s.execute(insert(AnalyticsEvent).values(**row))
        return True
    except IntegrityError:
        return False  # the same key again: the raw table keeps one


async def _recompute(db) -> tuple[Any, ...]:
    counts: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    people: set[tuple[Any, ...]] = set()
    async with db.read() as s:
        for e in (await s.scalars(select(AnalyticsEvent))).all():
            k = (e.day, e.tool or "", e.kind, e.distributor_id or 0)
            counts[k][0] += 1
            counts[k][1] += e.amount_fen
            step = STEP_OF.get(e.kind) or ("participated" if e.kind in PARTICIPATION_KINDS else None)
            if step is not None and (e.customer_id is not None or e.device_id is not None):
                who = f"c{e.customer_id}" if e.customer_id is not None else f"d{e.device_id}"
                people.add((e.day, e.tool or "", step, who))
                if step == "participated":  # a participant saw the tool, wherever they saw it
                    people.add((e.day, e.tool or "", "viewed", who))
    last: dict[tuple[Any, ...], Any] = {}
    for day, tool, step, who in people:  # each person's last day per tool and step
        last[(tool, step, who)] = max(day, last.get((tool, step, who), day))
    days = Counter((tool, step, day) for (tool, step, _), day in last.items())
    return {k: (n, a) for k, (n, a) in counts.items()}, people, last, dict(days)


async def _rolled(db) -> tuple[Any, ...]:
    async with db.read() as s:
        r = {
            (x.day, x.tool, x.kind, x.distributor_id): (x.events, x.amount_fen)
            for x in (await s.scalars(select(DailyRollup))).all()
        }
        devices = {d.id: d.device_id for d in (await s.scalars(select(AnalyticsDevice))).all()}
        steps = {code: st for st, code in STEP_CODES.items()}
        p = {
            (x.day, x.tool, steps[x.step], f"c{x.person}" if x.person > 0 else f"d{devices[-x.person]}")
            for x in (await s.scalars(select(DailyPerson))).all()
        }
        last = {
            (x.tool, steps[x.step], f"c{x.person}" if x.person > 0 else f"d{devices[-x.person]}"): x.last_day
            for x in (await s.scalars(select(PersonLast))).all()
        }
        days = {
            (x.tool, steps[x.step], x.last_day): x.persons
            for x in (await s.scalars(select(LastDayCount))).all()
            if x.persons
        }
    return r, p, last, days


def _run(app_settings: Any, body: Any) -> None:
    """One Hypothesis example on a fresh app and emptied tables (fixtures are per test, examples are not)."""

    async def go() -> None:
        async with running_app(app_settings):
            await body(get_db())

    asyncio.run(go())


@hsettings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(stream=rounds)
def test_rollups_equal_a_recomputation_from_the_raw_events(settings, stream):
    async def body(db) -> None:
        n, sent_again = 0, []
        for i, batch in enumerate(stream):
            for e in batch:
                n += 1
                assert await _insert(db, _row(e, n, late_by=24 * i))  # later rounds carry older events too
                if e["dup"]:
                    sent_again.append(_row(e, n))
            for row in sent_again:
                assert not await _insert(db, row)
            async with db.tx() as s:
                await rollups.catch_up(s, settle_seconds=0, window=5)  # small windows: several statements a round
            assert await _rolled(db) == await _recompute(db)
            async with db.tx() as s:  # a second pass over nothing new adds nothing
                await rollups.catch_up(s, settle_seconds=0)
            assert await _rolled(db) == await _recompute(db)

    _run(settings, body)


async def test_late_events_land_in_their_own_day_and_settling_events_wait(db):
    now = clock.now()
    old = {
        **_row(
            {
                "kind": "group_join",
                "tool": "groupbuy",
                "customer": 1,
                "device": "x",
                "distributor": None,
                "hours": 0,
                "amount": 0,
                "dup": False,
            },
            1,
        ),
        "at": now - timedelta(days=5),
        "received_at": now - timedelta(minutes=5),
    }
    old["day"] = rollups.shop_day(old["at"])
    assert await _insert(db, old)
    fresh = {**old, "key": "t:2", "at": now, "day": rollups.shop_day(now), "received_at": now}
    assert await _insert(db, fresh)
    async with db.tx() as s:
        await rollups.catch_up(s)  # the fresh one is still settling: left for the next round
    rolled, *_ = await _rolled(db)
    assert rolled == {(old["day"], "groupbuy", "group_join", 0): (1, 0)}
    assert old["day"] == rollups.shop_day(now) - timedelta(days=5)
    async with db.tx() as s:
        await rollups.catch_up(s, settle_seconds=0)
    rolled, people, *_ = await _rolled(db)
    assert rolled[(fresh["day"], "groupbuy", "group_join", 0)] == (1, 0)
    assert len(people) == 4  # two days, each a join and the view it implies
    async with db.read() as s:
        assert await s.scalar(select(func.max(RollupState.last_id))) == await s.scalar(
            select(func.max(AnalyticsEvent.id))
        )
