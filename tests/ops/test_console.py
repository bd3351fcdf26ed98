"""Console pages for the system: dead jobs and their retry, gateway notifications."""

from __future__ import annotations

import re
from typing import Any

from fissionmall.core import clock, jobs
from fissionmall.core.jobs import Job
from fissionmall.payments.models import GatewayNotification
from tests.console_helpers import (
    _count,
    _paid_order,
    console,
    htmx,
)
from tests.helpers import run_jobs


async def test_a_dead_job_is_listed_and_retried(client, db):
    async with db.tx() as s:
        job = Job(
            handler="demo.broken",
            payload={"order_id": 7},
            due_at=clock.now(),
            status="dead",
            attempts=8,
            last_error="RuntimeError: gateway down",
            created_at=clock.now(),
        )
        s.add(job)
        await s.flush()
        job_id = job.id
    csrf = await console(client, db, "owner")
    page = await client.get("/admin/jobs")
    assert (
        "demo.broken" in page.text
        and "RuntimeError: gateway down" in page.text
        and "&#34;order_id&#34;: 7" in page.text
    )
    r = await client.post(f"/admin/jobs/{job_id}/retry", headers=htmx(csrf))
    assert r.status_code == 200 and "已重新排队" in r.text
    async with db.read() as s:
        row = await s.get(Job, job_id)
        assert row is not None and (row.status, row.attempts) == ("pending", 0)
    r = await client.post(f"/admin/jobs/{job_id}/retry", headers=htmx(csrf))
    assert r.status_code == 409 and "该任务已不是死信" in r.text


async def test_failed_gateway_notifications_are_highlighted(client, db):
    await _paid_order(client, db)  # one applied payment notification
    r = await client.post(
        "/api/v1/payments/sandbox/notify",
        content=b'{"kind":"payment"}',
        headers={"x-sandbox-signature": "forged", "content-type": "application/json"},
    )
    assert r.status_code == 401
    await console(client, db, "owner")
    page = await client.get("/admin/notifications")
    rows = re.findall(r'<tr class="([^"]*)" data-outcome="([a-z_]+)">', page.text)
    assert rows == [("row-failed", "signature_invalid"), ("", "applied")]
    assert "签名错误" in page.text and "已处理" in page.text
    only = await client.get("/admin/notifications?failed=1")
    assert re.findall(r'data-outcome="([a-z_]+)"', only.text) == ["signature_invalid"]
    assert await _count(db, GatewayNotification) == 2


async def test_the_worker_does_the_rest_after_a_retry(client, db):
    """A retried dead letter runs again through the normal worker path."""
    calls: list[int] = []

    @jobs.handler("test.console_retry")
    async def _h(s: Any, job: Job) -> None:
        calls.append(job.payload["n"])

    async with db.tx() as s:
        job = Job(
            handler="test.console_retry",
            payload={"n": 3},
            due_at=clock.now(),
            status="dead",
            attempts=8,
            created_at=clock.now(),
        )
        s.add(job)
        await s.flush()
        job_id = job.id
    csrf = await console(client, db, "owner")
    await client.post(f"/admin/jobs/{job_id}/retry", data={"csrf_token": csrf})
    await run_jobs(db)
    assert calls == [3]
