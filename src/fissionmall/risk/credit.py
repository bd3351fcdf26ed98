"""Credit: one score per shopper (0–100) shared by every tool. A bad act anywhere lowers it, it recovers by
itself over the days, an operator clears it or freezes the account. Below `FREEZE_BELOW`, or frozen, the
shopper's marketing acts (flash sales, groups, bargains, coupons, commissions) are refused; paid orders and
refunds are never touched.

Reads are served from this process's memory (a few seconds old at most); penalties are queued and written by
the engine's flush, and are counted in this process at once, so the very next act anywhere here sees them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock
from fissionmall.core.db import Database, is_postgres
from fissionmall.risk.decisions import Outcome
from fissionmall.risk.models import RiskCredit

log = logging.getLogger(__name__)

START = 100
FREEZE_BELOW = 60  # a score under this refuses marketing acts
RECOVER_PER_DAY = 10
TTL_SECONDS = 2.0
BAD_REFRESH_SECONDS = 3.0
# What a tool's own judgement costs (report(signal=…)); anything else costs DEFAULT_SIGNAL.
SIGNALS = {
    "seckill_scripting": 50,
    "forged_token": 20,
    "captcha_farm": 20,
    "refund_after_commission": 20,
    "fake_group": 30,
    "self_referral": 30,
}
DEFAULT_SIGNAL = 20


@dataclass(frozen=True)
class Standing:
    score: int  # as stored, at scored_at
    scored_at: datetime
    frozen: bool

    def now(self, at: datetime | None = None) -> int:
        """The score now: the stored one plus what it recovered since."""
        days = max(0.0, ((at or clock.now()) - self.scored_at).total_seconds() / 86400)
        return min(START, self.score + int(days * RECOVER_PER_DAY))


FRESH = Standing(START, datetime(2000, 1, 1, tzinfo=UTC), False)

_cache: dict[int, tuple[Standing, float]] = {}
_pending: dict[int, int] = {}  # penalties queued for the flush, counted here already
_bad: dict[int, Standing] = {}  # shoppers refused marketing as last loaded (the fast lane's set)
_bad_at = float("-inf")
_bad_task: asyncio.Task[None] | None = None
_db: Database | None = None


def forget() -> None:
    """Drop what this process holds (a new database)."""
    global _bad_at, _db, _bad_task
    _bad_task = None
    _cache.clear()
    _pending.clear()
    _bad.clear()
    _bad_at, _db = float("-inf"), None


def score_of(st: Standing, customer_id: int) -> int:
    """The score now: the stored standing, recovered since, less the penalties this process has not written."""
    return max(0, st.now() - _pending.get(customer_id, 0))


def refused(st: Standing, customer_id: int) -> bool:
    """Whether this standing refuses marketing acts (frozen, or under FREEZE_BELOW with queued penalties)."""
    return st.frozen or score_of(st, customer_id) < FREEZE_BELOW


async def standing(s: AsyncSession, *, customer_id: int) -> tuple[int, bool]:
    """(score now, frozen) of one shopper, from memory when it is a few seconds fresh."""
    hit = _cache.get(customer_id)
    if hit is None or time.monotonic() - hit[1] > TTL_SECONDS:
        row = await s.get(RiskCredit, customer_id)
        st = Standing(row.score, row.scored_at, row.frozen) if row else FRESH
        _cache[customer_id] = (st, time.monotonic())
        if len(_cache) > 200_000:
            _cache.clear()
    else:
        st = hit[0]
    return score_of(st, customer_id), st.frozen


def queue_penalty(customer_id: int, points: int) -> None:
    """Count a penalty here at once; the engine's flush writes it."""
    if points > 0:
        _pending[customer_id] = _pending.get(customer_id, 0) + points


def take_pending() -> dict[int, int]:
    """The queued penalties, handed to the flush (put back with `restore` if it fails)."""
    out = dict(_pending)
    return out


def settled(done: dict[int, int], stored: dict[int, Standing]) -> None:
    """The flush wrote these penalties: stop counting them on top, remember the rows."""
    now = time.monotonic()
    for cid, points in done.items():
        left = _pending.get(cid, 0) - points
        if left > 0:
            _pending[cid] = left
        else:
            _pending.pop(cid, None)
    for cid, st in stored.items():
        _cache[cid] = (st, now)
        if refused(st, cid):
            _bad[cid] = st
        else:
            _bad.pop(cid, None)


async def _locked_rows(s: AsyncSession, customer_ids: list[int], now: datetime) -> dict[int, RiskCredit]:
    """The shoppers' credit rows, locked, made at full score where missing. Made by an insert that ignores a
    row already there: the engine's flush and an operator's act may both make a shopper's first row at once,
    and the loser must read the winner's row, not fail on the key."""
    ins = pg_insert(RiskCredit) if is_postgres(s) else sqlite_insert(RiskCredit)
    fresh = {"score": START, "scored_at": now, "frozen": False, "note": "", "updated_at": now}
    await s.execute(
        ins.on_conflict_do_nothing(index_elements=["customer_id"]),
        [{"customer_id": cid, **fresh} for cid in sorted(customer_ids)],
    )
    q = select(RiskCredit).where(RiskCredit.customer_id.in_(customer_ids)).execution_options(populate_existing=True)
    if is_postgres(s):
        q = q.with_for_update()
    return {r.customer_id: r for r in (await s.scalars(q)).all()}


async def apply(s: AsyncSession, *, penalties: dict[int, int]) -> dict[int, Standing]:
    """Lower the stored scores by these penalties (inside the flush's transaction); the new rows."""
    now = clock.now()
    out: dict[int, Standing] = {}
    if not penalties:
        return out
    rows = await _locked_rows(s, list(penalties), now)
    for cid, points in sorted(penalties.items()):
        row = rows[cid]
        current = Standing(row.score, row.scored_at, row.frozen).now(now)
        row.score, row.scored_at, row.updated_at = max(0, current - points), now, now
        out[cid] = Standing(row.score, row.scored_at, row.frozen)
    await s.flush()
    return out


async def set_credit(
    db: Database, *, customer_id: int, clear: bool = False, frozen: bool | None = None, note: str = ""
) -> Standing:
    """An operator's act: clear the score back to full, and/or freeze or unfreeze the account."""
    now = clock.now()
    async with db.tx() as s:
        row = (await _locked_rows(s, [customer_id], now))[customer_id]
        if clear:
            row.score, row.scored_at = START, now
        if frozen is not None:
            row.frozen = frozen
        row.note, row.updated_at = note[:200], now
        st = Standing(row.score, row.scored_at, row.frozen)
    if clear:
        _pending.pop(customer_id, None)
    settled({}, {customer_id: st})
    return st


async def read(db: Database, *, customer_id: int) -> tuple[int, bool, str]:
    """(score now, frozen, note) as stored, for the console and the API."""
    async with db.read() as s:
        row = await s.get(RiskCredit, customer_id)
    st = Standing(row.score, row.scored_at, row.frozen) if row else FRESH
    return max(0, st.now() - _pending.get(customer_id, 0)), st.frozen, row.note if row else ""


async def _refresh_bad(db: Database) -> None:
    try:
        await _load_bad(db)
    except Exception:  # a closed database (an app shutting down): the next call tries again
        log.warning("risk: could not refresh the refused shoppers", exc_info=True)


async def _load_bad(db: Database) -> None:
    global _bad_at
    async with db.read() as s:
        rows = (
            await s.scalars(
                select(RiskCredit).where(RiskCredit.frozen | (RiskCredit.score < FREEZE_BELOW)).limit(100_000)
            )
        ).all()
    fresh = {r.customer_id: Standing(r.score, r.scored_at, r.frozen) for r in rows}
    _bad.clear()
    _bad.update({cid: st for cid, st in fresh.items() if refused(st, cid)})
    for cid in _pending:  # penalties not written yet still count here
        st = _cache.get(cid, (FRESH, 0.0))[0]
        if refused(st, cid):
            _bad[cid] = st
    _bad_at = time.monotonic()


async def stop() -> None:
    """Stop a refresh in flight (app shutdown)."""
    global _bad_task
    task, _bad_task = _bad_task, None
    if task is not None and not task.done():
        task.cancel()
        try:
            await task
        except BaseException:
            pass


def remember_db(db: Database) -> None:
    """The database the fast lane's refresh reads."""
    global _db
    _db = db


def cached_standing(customer_id: int) -> Outcome | None:
    """DENY for a shopper this process knows is frozen or low; ALLOW for one it knows is fine; else None."""
    global _bad_task
    if _db is not None and time.monotonic() - _bad_at > BAD_REFRESH_SECONDS and (_bad_task is None or _bad_task.done()):
        try:
            _bad_task = asyncio.get_running_loop().create_task(_refresh_bad(_db))
        except RuntimeError:  # no loop (a sync caller): the next call refreshes
            pass
    st = _bad.get(customer_id)
    if st is not None:
        if refused(st, customer_id):
            return Outcome.DENY
        _bad.pop(customer_id, None)  # recovered since it was loaded
    hit = _cache.get(customer_id)
    if hit is not None:
        return Outcome.DENY if refused(hit[0], customer_id) else Outcome.ALLOW
    return None
