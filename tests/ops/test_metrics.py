"""GET /metrics: the series after real traffic, bounded labels, scrape-time gauges, the guard, multiprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from fissionmall.core import clock, jobs, metrics
from fissionmall.core.jobs import Job
from fissionmall.payments import service as payments
from tests.helpers import admin, order, pay, product, shopper

REPO = Path(__file__).resolve().parents[2]


def _client(app, host: str = "127.0.0.1", **kw) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 4000), **kw)
    return httpx.AsyncClient(transport=transport, base_url="http://shop.test", timeout=60)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for smp in fam.samples:
            out[(smp.name, tuple(sorted(smp.labels.items())))] = smp.value
    return out


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _scrape(app, **headers: str) -> dict:
    async with _client(app) as c:
        r = await c.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return _samples(r.text)


async def test_requests_latency_errors_and_payments_appear_after_traffic(app, client, db):
    before = await _scrape(app)
    boss = await admin(client, db)
    p = await product(client, boss)
    me = await shopper(client)
    r = await order(client, me, [{"sku_id": p["skus"][0]["id"], "qty": 1}])
    assert r.status_code == 201
    oid = r.json()["id"]
    await pay(client, me, oid)
    for _ in range(3):
        assert (await client.get(f"/api/v1/orders/{oid}", headers=me)).status_code == 200
    assert (await client.get("/api/v1/orders/999999", headers=me)).status_code == 404
    assert (await client.get("/no/such/address/12345")).status_code == 404
    assert (await client.get("/static/admin.css")).status_code == 200  # a mount: one label for its files

    # a route that fails: the server's 500 is counted as a request and as an error of its template
    async def boom(item_id: int) -> None:
        raise RuntimeError("boom")

    app.add_api_route("/test-boom/{item_id}", boom, methods=["GET"])
    async with _client(app, raise_app_exceptions=False) as c:
        assert (await c.get("/test-boom/7")).status_code == 500

    after = await _scrape(app)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    tpl = "/api/v1/orders/{order_id}"
    assert delta("fissionmall_http_requests_total", method="GET", route=tpl, status="200") == 3
    assert delta("fissionmall_http_requests_total", method="GET", route=tpl, status="404") == 1
    assert delta("fissionmall_http_requests_total", method="POST", route="/api/v1/orders", status="201") == 1
    assert delta("fissionmall_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert delta("fissionmall_http_request_duration_seconds_count", method="GET", route=tpl) == 4
    assert delta("fissionmall_http_request_duration_seconds_bucket", method="GET", route=tpl, le="+Inf") == 4
    assert delta("fissionmall_http_requests_total", method="GET", route="/test-boom/{item_id}", status="500") == 1
    assert delta("fissionmall_http_errors_total", route="/test-boom/{item_id}") == 1
    assert delta("fissionmall_http_errors_total", route=tpl) == 0
    assert delta("fissionmall_http_requests_total", method="GET", route="/static/{path}", status="200") == 1
    assert delta("fissionmall_payment_outcomes_total", gateway="sandbox", outcome="applied") == 1
    # no raw path ever becomes a label: the ids live only in templates
    routes = {dict(k[1]).get("route") for k in after if k[0] == "fissionmall_http_requests_total"}
    assert not any(r and ("999999" in r or "12345" in r or f"/{oid}" in r) for r in routes)


async def test_the_queue_gauges_are_read_from_the_jobs_table_at_scrape_time(app, client, db):
    now = clock.now()
    async with db.tx() as s:
        await jobs.schedule(s, "test.timer", {}, due_at=now - timedelta(seconds=90), key="test-late-timer")
        await jobs.schedule(s, "test.timer", {}, due_at=now + timedelta(hours=1), key="test-future-timer")
        await jobs.publish(s, "TestEvent", {"x": 1})  # no subscriber: no delivery row
    jobs._subscribers["MonitorTestEvent"] = ["test.handler"]
    try:
        async with db.tx() as s:
            for _ in range(3):
                await jobs.publish(s, "MonitorTestEvent", {"x": 1})
    finally:
        jobs._subscribers.pop("MonitorTestEvent")
    got = await _scrape(app)
    async with db.read() as s:
        due = (Job.status == "pending", Job.due_at <= clock.now())
        outbox = await s.scalar(select(func.count()).where(*due, Job.event_id.is_not(None)))
        timers = await s.scalar(select(func.count()).where(*due, Job.event_id.is_(None)))
    assert outbox == 3 and timers == 1
    assert _value(got, "fissionmall_outbox_backlog") == outbox
    assert _value(got, "fissionmall_timer_backlog") == timers
    assert 90 <= _value(got, "fissionmall_timer_lag_seconds") < 150
    assert _value(got, "fissionmall_outbox_lag_seconds") < 60
    assert ("fissionmall_jobs_dead", ()) in got


async def test_a_payment_outcome_counts_only_when_its_transaction_commits(app, client, db):
    boss = await admin(client, db)
    p = await product(client, boss)
    me = await shopper(client)
    oid = (await order(client, me, [{"sku_id": p["skus"][0]["id"], "qty": 1}])).json()["id"]
    r = await client.post(f"/api/v1/orders/{oid}/pay", json={"method": "gateway"}, headers=me)
    pid = r.json()["payment_id"]
    from fissionmall.payments.gateway import get_gateway

    gw = get_gateway("sandbox")
    headers, body = gw.notification(  # type: ignore[attr-defined]
        {"kind": "payment", "reference": pid, "amount_fen": r.json()["amount_fen"], "external_id": "X1",
         "status": "SUCCESS"}
    )  # fmt: skip
    note = gw.parse_notification(headers, body)
    child = metrics.PAYMENTS.labels("sandbox", "applied")
    start = child._value.get()
    try:
        async with db.tx() as s:
            assert await payments.apply_notification(s, gateway="sandbox", note=note) == "applied"
            raise RuntimeError("the transaction fails after the confirmation")
    except RuntimeError:
        pass
    assert child._value.get() == start  # rolled back: not counted
    async with db.tx() as s:
        assert await payments.apply_notification(s, gateway="sandbox", note=note) == "applied"
    assert child._value.get() == start + 1
    async with db.tx() as s:
        assert await payments.apply_notification(s, gateway="sandbox", note=note) == "duplicate"
    assert metrics.PAYMENTS.labels("sandbox", "duplicate")._value.get() >= 1
    # a forged notification is counted as rejected
    rejected = metrics.PAYMENTS.labels("sandbox", "rejected")._value.get()
    r = await client.post("/api/v1/payments/sandbox/notify", content=b"{}", headers={"x-sandbox-signature": "x"})
    assert r.status_code == 401
    assert metrics.PAYMENTS.labels("sandbox", "rejected")._value.get() == rejected + 1


async def test_metrics_are_refused_to_other_addresses_without_a_token(app, settings):
    async with _client(app, host="10.1.2.3") as c:
        r = await c.get("/metrics")
    assert r.status_code == 403 and r.json()["error"]["code"] == "METRICS_FORBIDDEN"
    async with _client(app, host="::1") as c:
        assert (await c.get("/metrics")).status_code == 200
    # behind a trusted proxy the forwarded client decides, not the proxy's loopback address
    settings.trusted_proxies = ["127.0.0.1/32"]
    async with _client(app) as c:
        r = await c.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert r.status_code == 403
        assert (await c.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})).status_code == 200
    settings.trusted_proxies = []
    # an allowed network (the Prometheus server's)
    settings.metrics_allow = ["10.1.0.0/16"]
    async with _client(app, host="10.1.2.3") as c:
        assert (await c.get("/metrics")).status_code == 200
    async with _client(app) as c:
        assert (await c.get("/metrics")).status_code == 403


async def test_with_a_token_only_its_bearer_is_answered_from_any_address(app, settings):
    settings.metrics_token = "s3cret-scrape-token"
    for host in ("127.0.0.1", "198.51.100.7"):
        async with _client(app, host=host) as c:
            r = await c.get("/metrics")
            assert r.status_code == 401 and r.json()["error"]["code"] == "METRICS_TOKEN_REQUIRED"
            assert r.headers["www-authenticate"].startswith("Bearer")
            r = await c.get("/metrics", headers={"Authorization": "Bearer wrong"})
            assert r.status_code == 401 and r.json()["error"]["code"] == "METRICS_TOKEN_INVALID"
            r = await c.get("/metrics", headers={"Authorization": "Basic czNjcmV0"})
            assert r.status_code == 401
            r = await c.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"})
            assert r.status_code == 200 and "fissionmall_http_requests_total" in r.text


def test_metrics_settings_take_comma_lists_and_refuse_typos():
    from pydantic import ValidationError

    from fissionmall.settings import Settings

    s = Settings(metrics_allow="10.0.0.0/8, 192.168.1.5")  # type: ignore[arg-type]
    assert s.metrics_allow == ["10.0.0.0/8", "192.168.1.5"]
    try:
        Settings(metrics_allow="10.0.0.0/33")  # type: ignore[arg-type]
    except ValidationError:
        pass
    else:
        raise AssertionError("a bad network must be refused at start-up")


_CHILD = """
import sys
from fissionmall.core import metrics
for _ in range(int(sys.argv[1])):
    metrics._observe("GET", "/api/v1/products", 200, 0.01)
metrics.flush_requests()  # what the middleware's tick does every second
metrics.PAYMENTS.labels("sandbox", "applied").inc()
"""
_READER = """
import sys
from fissionmall.core import metrics
sys.stdout.write(metrics.exposition().decode())
"""


def test_several_processes_sum_their_counters_through_the_multiprocess_directory(tmp_path):
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k != metrics.MULTIPROC_ENV}
    env["PYTHONPATH"] = str(REPO / "src")
    # what `fissionmall serve --workers N` does before it starts the children
    code = (
        "import os, sys; from pathlib import Path; from fissionmall.core import metrics; "
        f"p = metrics.prepare_multiprocess(Path({str(var)!r})); print(os.environ[metrics.MULTIPROC_ENV])"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    directory = out.stdout.strip()
    assert Path(directory).is_dir() and directory.startswith(str(var))
    env[metrics.MULTIPROC_ENV] = directory
    for n in (2, 3):
        subprocess.run([sys.executable, "-c", _CHILD, str(n)], env=env, check=True)
    text = subprocess.run([sys.executable, "-c", _READER], env=env, capture_output=True, text=True, check=True).stdout
    got = _samples(text)
    labels = {"method": "GET", "route": "/api/v1/products", "status": "200"}
    assert _value(got, "fissionmall_http_requests_total", **labels) == 5
    assert _value(got, "fissionmall_http_request_duration_seconds_count", method="GET", route="/api/v1/products") == 5
    assert _value(got, "fissionmall_payment_outcomes_total", gateway="sandbox", outcome="applied") == 2
    # a fresh start wipes the last run's files
    subprocess.run([sys.executable, "-c", code], env={**env, metrics.MULTIPROC_ENV: ""}, check=True)
    assert not list(Path(directory).glob("*.db"))
