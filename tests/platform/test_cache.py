"""core.cache: a version bumped in the writer's transaction, polled by readers at most every POLL_SECONDS;
and checkout's cached catalogue and promotions seeing an edit at once in the process that made it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select, text, update

from fissionmall.catalog.models import Category
from fissionmall.core import cache, clock
from fissionmall.core.cache import CacheVersion
from tests.helpers import admin, order, product, run_jobs, shopper
from tests.pricing.helpers import ADMIN, iso, preview, promotion

NAME = "test-categories"


class FakeMonotonic:
    """Stands in for time.monotonic inside core.cache, so the poll interval is the test's to move."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def tick(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMonotonic]:
    fake = FakeMonotonic()
    monkeypatch.setattr(cache.time, "monotonic", fake)
    cache.forget_all()
    yield fake
    cache.forget_all()


class Names:
    """A cache of category names by id, and the key sets its loader was asked for."""

    def __init__(self) -> None:
        self.keyed: cache.Keyed[int, str] = cache.Keyed(NAME)
        self.loads: list[set[int]] = []

    async def load(self, s, ids: set[int]) -> dict[int, str]:
        self.loads.append(set(ids))
        rows = await s.execute(select(Category.id, Category.name).where(Category.id.in_(ids)))
        return {i: n for i, n in rows.all()}

    async def get(self, db, cid: int) -> str | None:
        async with db.read() as s:
            return (await self.keyed.get_many(s, [cid], self.load)).get(cid)


@pytest.fixture
def names() -> Iterator[Names]:
    yield Names()
    cache._named.pop(NAME, None)


async def _category(db, name: str) -> int:
    async with db.tx() as s:
        c = Category(name=name)
        s.add(c)
        await s.flush()
        return c.id


async def _version(db) -> int | None:
    async with db.read() as s:
        return await s.scalar(select(CacheVersion.version).where(CacheVersion.name == NAME))


async def test_another_process_bump_is_seen_after_the_poll_interval_and_not_before(db, tick, names):
    cid = await _category(db, "茶")
    async with db.tx() as s:
        await cache.bump(s, NAME)
    assert await names.get(db, cid) == "茶" and len(names.loads) == 1
    assert await names.get(db, cid) == "茶" and len(names.loads) == 1  # from memory
    # Another process's edit: the same statements, but nothing tells this process's memory.
    async with db.tx() as s:
        await s.execute(update(Category).where(Category.id == cid).values(name="新茶"))
        await s.execute(text("UPDATE cache_versions SET version = version + 1 WHERE name = :n"), {"n": NAME})
    polls: list[str] = []

    def _seen(conn, cursor, statement, *_):
        if "cache_versions" in statement:
            polls.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", _seen)
    try:
        tick.now += cache.POLL_SECONDS * 0.9
        for _ in range(5):
            assert await names.get(db, cid) == "茶" and len(names.loads) == 1
        assert polls == []  # not one SELECT of the versions inside the interval
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", _seen)
    tick.now += cache.POLL_SECONDS * 0.2
    assert await names.get(db, cid) == "新茶" and len(names.loads) == 2


async def test_a_bump_is_seen_only_once_its_transaction_commits(db, tick, names):
    cid = await _category(db, "茶")
    assert await names.get(db, cid) == "茶"
    async with db.tx() as s:
        await s.execute(update(Category).where(Category.id == cid).values(name="新茶"))
        await cache.bump(s, NAME)
        # Another reader meanwhile, past the poll interval: the version it reads has not moved.
        tick.now += 10 * cache.POLL_SECONDS
        assert await asyncio.wait_for(names.get(db, cid), 30) == "茶"
        assert len(names.loads) == 1
    # Committed: the writing process forgot its copy, so it reads the edit at once, without the interval.
    assert await names.get(db, cid) == "新茶" and len(names.loads) == 2


async def test_a_rolled_back_bump_moves_nothing(db, tick, names):
    cid = await _category(db, "茶")
    async with db.tx() as s:
        await cache.bump(s, NAME)
    before = await _version(db)
    assert before is not None and await names.get(db, cid) == "茶"
    with pytest.raises(RuntimeError):
        async with db.tx() as s:
            await s.execute(update(Category).where(Category.id == cid).values(name="新茶"))
            await cache.bump(s, NAME)
            raise RuntimeError("the edit fails")
    assert await _version(db) == before
    tick.now += 10 * cache.POLL_SECONDS
    assert await names.get(db, cid) == "茶" and len(names.loads) == 1  # polled, same version: kept


async def test_a_missing_key_is_remembered_until_a_bump(db, tick, names):
    assert await names.get(db, 424242) is None
    assert await names.get(db, 424242) is None and len(names.loads) == 1
    async with db.tx() as s:
        s.add(Category(id=424242, name="新类目"))
        await s.flush()
        await cache.bump(s, NAME)
    assert await names.get(db, 424242) == "新类目"


async def test_an_emptied_table_gives_no_version_back_that_a_process_holds(db, tick):
    """The first bump of a name starts it at a random value: a table emptied (as the tests do) or restored
    cannot make version 1 mean other data twice."""
    starts = set()
    for _ in range(3):
        async with db.tx() as s:
            await s.execute(text("DELETE FROM cache_versions WHERE name = :n"), {"n": NAME})
            await cache.bump(s, NAME)
        starts.add(await _version(db))
    assert len(starts) == 3


# ---- checkout, in one process: an edit is priced in by the very next request ---------------------------


@pytest.fixture
async def shop(client, db):
    boss = await admin(client, db)
    tea = await product(client, boss, prices=(5000,), stock=3, title="茶叶")
    cup = await product(client, boss, prices=(1000,), stock=100, title="茶杯")
    me = await shopper(client, "alice")
    return {"boss": boss, "me": me, "tea": tea, "cup": cup}


async def _quote(client, me, items):
    r = await preview(client, me, items)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_price_edit_and_a_promotion_are_priced_in_at_once(client, shop):
    boss, me, tea = shop["boss"], shop["me"], shop["tea"]
    items = [{"sku_id": tea["skus"][0]["id"], "qty": 1}]
    assert (await _quote(client, me, items))["goods_fen"] == 5000
    sku = tea["skus"][0]
    body = {"title": "茶叶", "skus": [{"id": sku["id"], "name": sku["name"], "price_fen": 4200, "stock": 3}]}
    r = await client.put(f"{ADMIN}/products/{tea['id']}", json=body, headers=boss)
    assert r.status_code == 200, r.text
    assert (await _quote(client, me, items))["goods_fen"] == 4200
    p = await promotion(
        client, boss, kind="full_reduction", name="满40减5", tiers=[{"threshold": 4000, "amount_fen": 500}]
    )
    assert (await _quote(client, me, items))["discount_fen"] == 500
    r = await client.put(f"{ADMIN}/promotions/{p['id']}", json={"status": "paused"}, headers=boss)
    assert r.status_code == 200, r.text
    assert (await _quote(client, me, items))["discount_fen"] == 0
    r = await client.delete(f"{ADMIN}/products/{tea['id']}", headers=boss)
    assert r.status_code == 204, r.text
    r = await preview(client, me, items)
    assert r.status_code == 404 and r.json()["error"]["code"] == "SKU_NOT_FOUND"


async def test_the_cached_catalogue_never_hides_the_stock_an_order_took(client, shop):
    me, sku = shop["me"], shop["tea"]["skus"][0]["id"]
    assert (await _quote(client, me, [{"sku_id": sku, "qty": 3}]))["goods_fen"] == 15000
    r = await order(client, me, [{"sku_id": sku, "qty": 2}])
    assert r.status_code == 201, r.text
    r = await preview(client, me, [{"sku_id": sku, "qty": 2}])
    assert r.status_code == 409 and r.json()["error"]["code"] == "OUT_OF_STOCK", r.text
    assert r.json()["error"]["detail"]["stock"] == 1


async def test_a_gift_that_runs_out_leaves_the_cached_rules_at_once_and_comes_back_on_cancel(client, db, shop):
    boss, me, cup = shop["boss"], shop["me"], shop["cup"]["skus"][0]["id"]
    tea = (await product(client, boss, prices=(5000,), stock=100, title="红茶"))["skus"][0]["id"]
    await promotion(client, boss, kind="gift", name="满100赠茶杯", threshold=10000, gift_sku_id=cup, gift_stock=1)
    items = [{"sku_id": tea, "qty": 2}]

    async def gifted() -> bool:
        return any(ln["sku_id"] == cup for ln in (await _quote(client, me, items))["lines"])

    assert await gifted()
    r = await order(client, me, items)
    assert r.status_code == 201, r.text
    assert not await gifted()  # the order took the last one: nobody is shown a gift the order would refuse
    r = await client.post(f"/api/v1/orders/{r.json()['id']}/cancel", headers=me)
    assert r.status_code == 200, r.text
    await run_jobs(db)
    assert await gifted()


async def test_the_cached_promotions_are_judged_by_the_clock_at_each_read(client, shop):
    boss, me = shop["boss"], shop["me"]
    items = [{"sku_id": shop["tea"]["skus"][0]["id"], "qty": 1}]
    await promotion(
        client,
        boss,
        kind="full_reduction",
        name="满40减5",
        ends_at=iso(0.01),
        tiers=[{"threshold": 4000, "amount_fen": 500}],
    )
    assert (await _quote(client, me, items))["discount_fen"] == 500
    clock.advance(0.02 * 86400)  # no write: the held list itself must drop the ended promotion
    assert (await _quote(client, me, items))["discount_fen"] == 0
    # Loaded again now (another edit), the list holds only what has not ended by now ...
    await promotion(client, boss, kind="free_shipping", name="满1000包邮", threshold=100_000)
    assert (await _quote(client, me, items))["discount_fen"] == 0
    # ... so a clock moved back before that load (the dev clock) loads it again rather than miss one.
    clock.reset()
    assert (await _quote(client, me, items))["discount_fen"] == 500
