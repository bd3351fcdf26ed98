"""The job worker: exactly-once under a crash, and under several workers at once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from fissionmall.core import clock, jobs
from fissionmall.core.jobs import Event, Job
from tests.platform import fault_worker  # registers the probe handler in this process too

ROOT = Path(__file__).resolve().parents[2]


async def _count(db, type_: str) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(Event).where(Event.type == type_)) or 0)


async def test_worker_killed_mid_job_leaves_it_to_the_next_worker_which_runs_it_once(db, tmp_path):
    async with db.tx() as s:
        await jobs.schedule(s, "test.fault_probe", {}, due_at=clock.now(), key="fault-probe")
    marker = tmp_path / "claimed"
    proc = subprocess.Popen(  # noqa: ASYNC220 - a real OS process to kill is the point
        [sys.executable, "-m", "tests.platform.fault_worker", db.url, str(marker)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None, "the worker died before claiming the job"
            assert time.monotonic() < deadline, "the worker never claimed the job"
            await asyncio.sleep(0.05)
        # The doomed worker has run the handler inside its claiming transaction and now hangs.
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert await _count(db, "FaultProbeHandled") == 0  # its uncommitted effect died with it

    os.environ.pop(fault_worker.MARKER_ENV, None)
    assert await jobs.run_due(db) == 1
    assert await jobs.run_due(db) == 0
    assert await _count(db, "FaultProbeHandled") == 1
    async with db.read() as s:
        job = await s.scalar(select(Job).where(Job.key == "fault-probe"))
        assert job is not None and job.status == "done"


@jobs.handler("test.count_once")
async def _count_once(s, job: Job) -> None:
    s.add(Event(type="Counted", payload={"n": job.payload["n"]}, created_at=job.created_at))


async def test_four_workers_draining_one_queue_run_each_job_exactly_once(db):
    async with db.tx() as s:
        for n in range(200):
            await jobs.schedule(s, "test.count_once", {"n": n}, due_at=clock.now())
    ran = await asyncio.gather(*(jobs.run_due(db, batch=7) for _ in range(4)))
    assert sum(ran) == 200
    async with db.read() as s:
        ns = (await s.scalars(select(Event.payload).where(Event.type == "Counted"))).all()
    assert sorted(p["n"] for p in ns) == list(range(200))


@jobs.handler("test.always_fails")
async def _always_fails(s, job: Job) -> None:
    s.add(Event(type="ShouldNotPersist", payload={}, created_at=job.created_at))
    await s.flush()
    raise RuntimeError("boom")


async def test_a_failing_handler_retries_with_backoff_then_dies_visibly_and_its_writes_roll_back(db):
    async with db.tx() as s:
        await jobs.schedule(s, "test.always_fails", {}, due_at=clock.now(), key="fails")
    for _ in range(3):
        await jobs.run_due(db, max_attempts=3)
        clock.advance(3600)
    async with db.read() as s:
        job = await s.scalar(select(Job).where(Job.key == "fails"))
        assert job is not None and job.status == "dead" and job.attempts == 3
        assert "boom" in (job.last_error or "")
    assert await _count(db, "ShouldNotPersist") == 0
    async with db.tx() as s:
        assert await jobs.retry_dead(s, job.id)
    async with db.read() as s:
        assert (await s.get(Job, job.id)).status == "pending"


async def test_a_keyed_job_scheduled_twice_exists_once(db):
    async with db.tx() as s:
        await jobs.schedule(s, "test.count_once", {"n": 1}, due_at=clock.now(), key="settle:2026-11")
    async with db.tx() as s:
        await jobs.schedule(s, "test.count_once", {"n": 2}, due_at=clock.now(), key="settle:2026-11")
    assert await jobs.run_due(db) == 1
    assert await _count(db, "Counted") == 1


async def test_background_loops_run_beside_the_job_loop_and_restart_after_a_crash(db):
    runs: list[str] = []

    @jobs.background("test.flaky_consumer")
    async def flaky(db_, stop):
        runs.append("start")
        if len(runs) == 1:
            raise RuntimeError("lost the stream")
        await stop.wait()
        runs.append("stopped")

    stop = asyncio.Event()
    task = asyncio.create_task(jobs.run_worker(db, stop, poll_seconds=0.05, max_attempts=3))
    try:
        for _ in range(100):
            if len(runs) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        jobs._loops.pop("test.flaky_consumer", None)
    assert runs == ["start", "start", "stopped"]
