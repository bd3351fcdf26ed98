"""Transactional outbox, durable timers and once-per-period jobs: one table.

`publish()` writes an event and, in the same transaction, one `jobs` row per
subscribed handler, so each handler's delivery is retried, and dies, on its
own. A timer is a job with a future `due_at`; a once-per-period job is a job
with a unique `key` (inserting it twice is a no-op).

A worker claims due jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write
lock on SQLite), runs each handler in a savepoint of the claiming transaction
and marks it done in that same transaction. A handler's database work and its
"done" mark therefore commit together or not at all: a worker killed mid-batch
leaves the jobs pending for the next worker, and no handler's effect is ever
committed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ForeignKey, Index, String, Table, Text, delete, event, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from fissionmall.core import clock
from fissionmall.core.db import Base, BigId, Database, is_postgres

log = logging.getLogger("fissionmall.jobs")


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "status", "due_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    handler: Mapped[str] = mapped_column(String(100))
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), index=True)
    payload: Mapped[dict[str, Any]]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | dead
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


_events = cast(Table, Event.__table__)
_jobs = cast(Table, Job.__table__)
# Every row of an executemany names the same columns.
_JOB_DEFAULTS: dict[str, Any] = {"key": None, "event_id": None, "status": "pending", "attempts": 0}

Handler = Callable[[AsyncSession, Job], Awaitable[None]]
Loop = Callable[[Database, asyncio.Event], Awaitable[None]]

_handlers: dict[str, Handler] = {}
_subscribers: dict[str, list[str]] = {}
# A subscription may say, at publish time, that it wants nothing of this event (no job row then).
_conditions: dict[str, Callable[[dict[str, Any]], bool]] = {}
_wake = asyncio.Event()
_queued = 0  # due-now jobs queued by this process (run_due: did a batch's handlers queue more?)
_loops: dict[str, Loop] = {}


def background(name: str) -> Callable[[Loop], Loop]:
    """Register a long-running loop `fn(db, stop)` (e.g. a Redis stream consumer) that runs wherever the
    worker runs: inside `serve` in embedded mode, in every `fissionmall worker` process in production.
    It must return soon after `stop` is set."""

    def deco(fn: Loop) -> Loop:
        _loops[name] = fn
        return fn

    return deco


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register a job handler (timers and periodic jobs name it directly)."""

    def deco(fn: Handler) -> Handler:
        if name in _handlers and _handlers[name] is not fn:
            raise RuntimeError(f"job handler {name!r} registered twice")
        _handlers[name] = fn
        return fn

    return deco


def on(
    event_type: str, name: str, *, when: Callable[[dict[str, Any]], bool] | None = None
) -> Callable[[Handler], Handler]:
    """Subscribe a handler to an event type; `name` must stay stable across releases. With `when`, a
    delivery is queued only for payloads it accepts (e.g. only when the feature is configured)."""

    def deco(fn: Handler) -> Handler:
        handler(name)(fn)
        if when is not None:
            _conditions[name] = when
        subs = _subscribers.setdefault(event_type, [])
        if name not in subs:
            subs.append(name)
        return fn

    return deco


def subscribers(event_type: str) -> list[str]:
    return list(_subscribers.get(event_type, []))


async def publish(s: AsyncSession, type_: str, payload: dict[str, Any]) -> Event:
    """Record an event and queue its handlers, inside the caller's transaction."""
    now = clock.now()
    # Core inserts, not ORM objects: no unit-of-work bookkeeping, and the jobs go out as one executemany
    # (an event with subscribers costs two statements, one without them one).
    event_id = await s.scalar(
        insert(_events).values(type=type_, payload=payload, created_at=now).returning(_events.c.id)
    )
    rows = [
        {**_JOB_DEFAULTS, "handler": name, "event_id": event_id, "payload": payload, "due_at": now, "created_at": now}
        for name in _subscribers.get(type_, [])
        if (cond := _conditions.get(name)) is None or cond(payload)
    ]
    if rows:
        await s.execute(insert(_jobs), rows)
        _queued_now(s)
    return Event(id=event_id, type=type_, payload=payload, created_at=now)


async def schedule(
    s: AsyncSession, handler_name: str, payload: dict[str, Any], *, due_at: datetime, key: str | None = None
) -> None:
    """Queue a job for `due_at`. With a `key`, a second schedule of that key does nothing."""
    values = {
        **_JOB_DEFAULTS,
        "handler": handler_name,
        "key": key,
        "payload": payload,
        "due_at": due_at,
        "created_at": clock.now(),
    }
    if key is None:
        s.add(Job(**values))  # an ORM add: several in one transaction go out as one INSERT at the flush
    else:
        ins = pg_insert(_jobs) if is_postgres(s) else sqlite_insert(_jobs)
        await s.execute(ins.values(**values).on_conflict_do_nothing(index_elements=["key"]))
    if due_at <= values["created_at"]:
        _queued_now(s)


async def unschedule(s: AsyncSession, key: str) -> None:
    """Drop a pending timer that has nothing left to do (an unpaid-cancel timer once the order is paid),
    so it never costs a worker's claim. A timer a worker holds right now is skipped, not waited for:
    its handler may be waiting on a lock the caller holds, and it finds nothing to do anyway."""
    pending = select(Job.id).where(Job.key == key, Job.status == "pending")
    if is_postgres(s):
        pending = pending.with_for_update(skip_locked=True)
    await s.execute(delete(Job).where(Job.id.in_(pending)).execution_options(synchronize_session=False))


def _queued_now(s: AsyncSession) -> None:
    """A job due now was queued in `s`: wake this process's worker once `s` commits (see _after_commit)."""
    global _queued
    _queued += 1
    s.sync_session.info["fm_wake_worker"] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # Woken before the commit, the worker's claim would not see the new rows yet and it would sleep
    # a whole poll interval with them waiting.
    if session.info.pop("fm_wake_worker", False):
        _wake.set()


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, 3600))


async def run_due(db: Database, *, batch: int = 5, max_attempts: int = 8, limit: int | None = None) -> int:
    """Run due jobs until none is left (or `limit` ran). Returns how many ran.

    A batch commits as one transaction, so every row its handlers touch stays locked until the last
    handler ends: small batches keep a hot row (one group, one SKU) from waiting on twenty handlers.
    """
    ran = 0
    while limit is None or ran < limit:
        queued = _queued
        n = await _run_batch(db, batch=batch, max_attempts=max_attempts)
        ran += n
        # A short batch took every due job there was, unless its handlers (or this process meanwhile)
        # queued more: then look again. Skipping the empty claim saves a transaction per round; a job
        # another process queues meanwhile wakes its own worker, or ours at the next poll.
        if n < batch and _queued == queued:
            break
    return ran


async def _run_batch(db: Database, *, batch: int, max_attempts: int) -> int:
    async with db.tx() as s:
        now = clock.now()
        q = select(Job).where(Job.status == "pending", Job.due_at <= now).order_by(Job.due_at, Job.id).limit(batch)
        if is_postgres(s):
            q = q.with_for_update(skip_locked=True)
        jobs = list((await s.scalars(q)).all())
        done: list[int] = []
        for job in jobs:
            fn = _handlers.get(job.handler)
            try:
                if fn is None:
                    raise LookupError(f"no handler registered for {job.handler!r}")
                async with s.begin_nested():
                    await fn(s, job)
            except Exception as exc:  # a handler's failure must not stop the others
                job.attempts += 1
                job.last_error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
                if job.attempts >= max_attempts:
                    job.status = "dead"
                    log.error("job %s (%s) dead after %s attempts: %s", job.id, job.handler, job.attempts, exc)
                else:
                    job.due_at = clock.now() + _backoff(job.attempts)
                    log.warning("job %s (%s) failed, retry %s: %s", job.id, job.handler, job.attempts, exc)
            else:
                done.append(job.id)
        if done:
            # One statement marks the whole batch done, in the claiming transaction: each handler's
            # effects and its done mark still commit together, or not at all.
            done_at = clock.now()
            await s.execute(update(_jobs).where(_jobs.c.id.in_(done)).values(status="done", done_at=done_at))
            for job in jobs:
                if job.id in done:  # the loaded copies say so too (Core bypassed them)
                    set_committed_value(job, "status", "done")
                    set_committed_value(job, "done_at", done_at)
        return len(jobs)


async def retry_dead(s: AsyncSession, job_id: int) -> bool:
    job = await s.get(Job, job_id, with_for_update=True)
    if job is None or job.status != "dead":
        return False
    job.status, job.attempts, job.due_at = "pending", 0, clock.now()
    return True


async def run_worker(db: Database, stop: asyncio.Event, *, poll_seconds: float, max_attempts: int) -> None:
    """The whole worker: the job loop plus every registered background loop, until `stop` is set."""
    tasks = [asyncio.create_task(worker_loop(db, stop, poll_seconds=poll_seconds, max_attempts=max_attempts))]
    tasks += [asyncio.create_task(_guarded(name, fn, db, stop)) for name, fn in sorted(_loops.items())]
    await asyncio.gather(*tasks)


async def _guarded(name: str, fn: Loop, db: Database, stop: asyncio.Event) -> None:
    """Restart a background loop that crashed (after a pause), so one bad batch cannot stop it for good."""
    while not stop.is_set():
        try:
            await fn(db, stop)
            return
        except Exception:
            log.exception("background loop %s crashed; restarting in 1 s", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1)


async def worker_loop(db: Database, stop: asyncio.Event, *, poll_seconds: float, max_attempts: int) -> None:
    """Run jobs until `stop` is set: wake on local publishes, poll for everything else."""
    log.info("worker started")
    while not stop.is_set():
        # Cleared before the run, not after: a job committed while it runs must wake the next round.
        _wake.clear()
        try:
            await run_due(db, max_attempts=max_attempts)
        except Exception:  # the database may be briefly away; keep the loop alive
            log.exception("worker batch failed")
        waiters = [asyncio.ensure_future(_wake.wait()), asyncio.ensure_future(stop.wait())]
        await asyncio.wait(waiters, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        for w in waiters:
            w.cancel()
    log.info("worker stopped")
