"""Prometheus metrics (`GET /metrics`) and the per-minute request figures of the console's 实时监控.

- **Requests**: `RequestMetrics`, a pure ASGI middleware, counts every answer by method, route *template*
  (`/api/v1/orders/{order_id}`, never the raw path: the label set stays bounded whatever clients send;
  an address no route matched is `unmatched`) and status, observes its latency in a histogram by method
  and route, and counts the 5xx apart. A request only adds to a per-process dict (~2 µs);
  a tick once a second, and every scrape, moves the totals into the counters (docs/monitor.md: hello
  with it on and off).
- **Payments**: `payment_outcome(s, gateway=…, outcome=…)` counts a confirmation's outcome once the
  session commits (a rolled-back confirmation counts nothing).
- **Read at scrape time**: `scrape("name")` registers an async reader `fn(db) -> [Sample]`; the outbox
  backlog and the timers' lag (below) and the flash-sale stream (seckill/consumer.py) are such readers,
  each one cheap indexed query or Redis call, run only when Prometheus scrapes.
- **Several processes**: `fissionmall serve --workers N` sets `PROMETHEUS_MULTIPROC_DIR` (a fresh
  directory under var/) before it starts the children, so each process writes its counters to files
  there and any process's `/metrics` answers the sum (prometheus-client's multiprocess mode).
- **The guard**: with `FISSIONMALL_METRICS_TOKEN` set, `/metrics` needs `Authorization: Bearer <token>`;
  without one, only callers from `FISSIONMALL_METRICS_ALLOW` (loopback by default) are answered.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import shutil
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from fissionmall.core import clock
from fissionmall.core.db import Database, get_db
from fissionmall.core.errors import CoreError
from fissionmall.core.security import client_ip_of
from fissionmall.settings import get_settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("fissionmall_http_requests", "HTTP answers by method, route template and status",
                   ["method", "route", "status"])  # fmt: skip
LATENCY = Histogram(
    "fissionmall_http_request_duration_seconds",
    "HTTP request latency by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),  # = BUCKETS below
)
ERRORS = Counter("fissionmall_http_errors", "HTTP 5xx answers by route template", ["route"])
PAYMENTS = Counter("fissionmall_payment_outcomes", "Payment confirmations by gateway and outcome",
                   ["gateway", "outcome"])  # fmt: skip

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


def route_template(scope: dict[str, Any]) -> str:
    """The matched route's template with its router's prefix (a mount's path + `/{path}`), or `unmatched`:
    never the raw path."""
    # FastAPI keeps an included router's routes unprefixed and puts the prefixed one beside the scope.
    ctx = (scope.get("fastapi") or {}).get("effective_route_context")
    fmt = getattr(ctx, "path_format", None)
    if isinstance(fmt, str):
        return fmt
    route = scope.get("route")
    fmt = getattr(route, "path_format", None)
    if isinstance(fmt, str):
        return fmt  # an app-level route
    # A mount (static files, media) leaves no route, only its app as the endpoint and its path in root_path:
    # one label for every file under it.
    if scope.get("endpoint") is not None and scope.get("root_path"):
        return str(scope["root_path"]) + "/{path}"
    return UNMATCHED


# ---- the middleware: a request costs a few dict operations; the counters take them once a second ----------

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # LATENCY's, the last is +Inf
TICK_SECONDS = 1.0
# (method, route, status) → [answers, seconds, per-bucket counts] since the last tick: a plain list the
# request updates without a lock (one event loop per process), moved into the prometheus-client objects
# by the tick (and by a scrape) in one go. A request pays no lock, no label lookup, no histogram walk.
_acc: dict[tuple[str, str, int], list[Any]] = {}
_children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}
_armed: Any = None  # the event loop whose tick is scheduled


def _child(key: tuple[str, str, int]) -> tuple[Any, Any, Any]:
    c = _children.get(key)
    if c is None:
        method, route, status = key
        c = _children[key] = (
            REQUESTS.labels(method, route, str(status)),
            LATENCY.labels(method, route),
            ERRORS.labels(route) if status >= 500 else None,
        )
    return c


def _observe(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answer (the middleware's whole per-request work, apart from timing it)."""
    key = (method, route, status)
    a = _acc.get(key)
    if a is None:
        a = _acc[key] = [0, 0.0, [0] * (len(BUCKETS) + 1)]
    a[0] += 1
    a[1] += seconds
    a[2][bisect_left(BUCKETS, seconds)] += 1


def flush_requests() -> None:
    """Move the counts since the last tick into the Prometheus counters and the per-minute figures."""
    if not _acc:
        return
    rows = list(_acc.items())
    _acc.clear()
    total = errors = 0
    for key, (n, seconds, buckets) in rows:
        counter, hist, err = _child(key)
        counter.inc(n)
        # Histogram.observe one by one, in bulk: its sum and its (non-cumulative) bucket values.
        hist._sum.inc(seconds)
        for i, c in enumerate(buckets):
            if c:
                hist._buckets[i].inc(c)
        total += n
        if err is not None:
            err.inc(n)
            errors += n
    _count_minute(time.time(), total, errors)


def _tick() -> None:
    global _armed
    _armed = None
    flush_requests()
    if time.monotonic() - _last_flush > FLUSH_SECONDS and not _flushing:
        task = asyncio.get_running_loop().create_task(flush_minutes())
        _flushing.add(task)
        task.add_done_callback(_flushing.discard)


class RequestMetrics:
    """Counts and times every HTTP answer (see the module docstring); pure ASGI, no body buffering."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # an exception that escapes becomes the server's 500

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"]
            _observe(method if method in _METHODS else "OTHER", route_template(scope), status,
                     time.perf_counter() - started)  # fmt: skip
            global _armed
            if _armed is None:
                _armed = asyncio.get_running_loop()
                _armed.call_later(TICK_SECONDS, _tick)


# ---- the per-minute figures the console shows (requests and 5xx per minute) ---------------------------------

MINUTES_KEPT = 61
_minutes: dict[int, list[int]] = {}  # minute number (unix time // 60) → [requests, errors], this process
_unflushed: dict[int, list[int]] = {}  # the same, not yet added to Redis's (several processes)
_last_flush = 0.0
FLUSH_SECONDS = 5.0
_flushing: set[asyncio.Task[None]] = set()


def _count_minute(now: float, n: int, errors: int) -> None:
    m = int(now // 60)
    for book in (_minutes, _unflushed):
        row = book.get(m)
        if row is None:
            row = book[m] = [0, 0]
            if book is _minutes and len(book) > MINUTES_KEPT:
                for old in sorted(book)[:-MINUTES_KEPT]:
                    del book[old]
        row[0] += n
        row[1] += errors


def _redis() -> Any:
    from fissionmall.core.kv import get_kv

    try:
        kv = get_kv()
    except RuntimeError:
        return None
    return getattr(kv, "redis", None), getattr(kv, "prefix", "")


async def flush_minutes() -> None:
    """Add this process's per-minute counts to Redis's (`mon:http:<minute>`), where several processes meet."""
    global _last_flush
    _last_flush = time.monotonic()
    got = _redis()
    if not got or got[0] is None or not _unflushed:
        _unflushed.clear()
        return
    redis, prefix = got
    rows = list(_unflushed.items())
    _unflushed.clear()
    pipe = redis.pipeline(transaction=False)
    for m, (n, err) in rows:
        key = f"{prefix}mon:http:{m}"
        pipe.hincrby(key, "n", n)
        if err:
            pipe.hincrby(key, "e", err)
        pipe.expire(key, 2 * 3600)
    try:
        await pipe.execute()
    except Exception:  # Redis away: the counts are lost for the console, Prometheus still has them
        return


async def minute_counts(*, minutes: int) -> dict[int, tuple[int, int]]:
    """Requests and 5xx per minute for the last `minutes` (this one included): every process's (Redis),
    else this process's own."""
    flush_requests()
    now_m = int(time.time() // 60)
    wanted = list(range(now_m - minutes + 1, now_m + 1))
    got = _redis()
    if got and got[0] is not None:
        await flush_minutes()
        redis, prefix = got
        pipe = redis.pipeline(transaction=False)
        for m in wanted:
            pipe.hmget(f"{prefix}mon:http:{m}", "n", "e")
        try:
            rows = await pipe.execute()
            return {m: (int(r[0] or 0), int(r[1] or 0)) for m, r in zip(wanted, rows, strict=True)}
        except Exception:
            pass
    return {m: (_minutes.get(m, [0, 0])[0], _minutes.get(m, [0, 0])[1]) for m in wanted}


def forget_minutes() -> None:
    """Drop this process's per-minute counts (tests; a new database)."""
    flush_requests()
    _minutes.clear()
    _unflushed.clear()


# ---- payments -----------------------------------------------------------------------------------------------

_PENDING_KEY = "fm_metrics_payments"


def payment_outcome(s: AsyncSession, *, gateway: str, outcome: str) -> None:
    """Count a payment confirmation's outcome when `s` commits (nothing if it rolls back)."""
    s.sync_session.info.setdefault(_PENDING_KEY, []).append((gateway[:16], outcome[:32]))


def _after_commit(session: Session) -> None:
    for gateway, outcome in session.info.pop(_PENDING_KEY, ()):
        PAYMENTS.labels(gateway, outcome).inc()


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def _install_session_hooks() -> None:
    from sqlalchemy import event

    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


_install_session_hooks()


# ---- read at scrape time -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    name: str
    help: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)


Reader = Callable[[Database], Awaitable[list[Sample]]]
_readers: dict[str, Reader] = {}


def scrape(name: str) -> Callable[[Reader], Reader]:
    """Register a reader run at each scrape (and by the console's monitor): one cheap query or Redis call."""

    def deco(fn: Reader) -> Reader:
        _readers[name] = fn
        return fn

    return deco


async def read_gauges(db: Database) -> list[Sample]:
    """Every registered reader's samples; a reader that fails is left out (a scrape must still answer)."""
    out: list[Sample] = []
    for name in sorted(_readers):
        try:
            out += await _readers[name](db)
        except Exception:
            out.append(Sample("fissionmall_scrape_reader_failed", "A gauge reader failed", 1, {"reader": name}))
    return out


# A backlog past this is reported as this: counting further would make the scrape the slow query.
BACKLOG_CAP = 100_000


async def job_figures(s: AsyncSession) -> dict[str, float]:
    """The queue at a glance: due outbox deliveries and timers (capped counts) and how late the oldest is."""
    from fissionmall.core.jobs import Job

    now = clock.now()
    due = (Job.status == "pending", Job.due_at <= now)
    out: dict[str, float] = {}
    for kind, cond in (("outbox", Job.event_id.is_not(None)), ("timer", Job.event_id.is_(None))):
        capped = select(Job.id).where(*due, cond).limit(BACKLOG_CAP).subquery()
        out[f"{kind}_backlog"] = int(await s.scalar(select(func.count()).select_from(capped)) or 0)
        oldest = await s.scalar(select(func.min(Job.due_at)).where(*due, cond))
        out[f"{kind}_lag_seconds"] = round(max(0.0, (now - oldest).total_seconds()), 3) if oldest else 0.0
    dead_q = select(Job.id).where(Job.status == "dead").limit(BACKLOG_CAP).subquery()
    out["dead"] = int(await s.scalar(select(func.count()).select_from(dead_q)) or 0)
    return out


@scrape("jobs")
async def _jobs_gauges(db: Database) -> list[Sample]:
    async with db.read() as s:
        f = await job_figures(s)
    return [
        Sample("fissionmall_outbox_backlog", "Event deliveries due and not yet run", f["outbox_backlog"]),
        Sample("fissionmall_outbox_lag_seconds", "How late the oldest due event delivery is", f["outbox_lag_seconds"]),
        Sample("fissionmall_timer_backlog", "Timers and keyed jobs due and not yet run", f["timer_backlog"]),
        Sample("fissionmall_timer_lag_seconds", "How late the oldest due timer is", f["timer_lag_seconds"]),
        Sample("fissionmall_jobs_dead", "Dead letters waiting for the operator", f["dead"]),
    ]


def _families(samples: list[Sample]) -> bytes:
    fams: dict[str, GaugeMetricFamily] = {}
    for smp in samples:
        keys = sorted(smp.labels)
        fam = fams.get(smp.name)
        if fam is None:
            fam = fams[smp.name] = GaugeMetricFamily(smp.name, smp.help, labels=keys)
        fam.add_metric([smp.labels[k] for k in keys], smp.value)

    class _Once:
        def collect(self) -> Any:
            return list(fams.values())

    reg = CollectorRegistry(auto_describe=False)
    reg.register(_Once())
    return generate_latest(reg)


def exposition() -> bytes:
    """The counters and histograms: this process's, or every process's in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        reg = CollectorRegistry()
        multiprocess.MultiProcessCollector(reg)
        return generate_latest(reg)
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY)


def prepare_multiprocess(var_dir: Path) -> Path:
    """Before starting several server processes: a fresh directory for their metric files, in the
    environment the children inherit (unless the operator named one)."""
    given = os.environ.get(MULTIPROC_ENV)
    path = Path(given) if given else (var_dir / "prometheus").resolve()
    if not given:
        shutil.rmtree(path, ignore_errors=True)
        os.environ[MULTIPROC_ENV] = str(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---- the guard and the route --------------------------------------------------------------------------------


def _allowed_peer(request: Request) -> bool:
    settings = get_settings()
    peer = request.client.host if request.client else ""
    who = client_ip_of(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)
    try:
        addr = ip_address(who)
    except ValueError:
        return False
    return any(addr in ip_network(n, strict=False) for n in settings.metrics_allow)


def _refuse(code: CoreError, status: int) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="metrics"'} if status == 401 else None
    return JSONResponse({"error": {"code": code.value, "message": code.text}}, status_code=status, headers=headers)


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format: with a token set, its bearer only; else loopback / allowed addresses only."""
    token = get_settings().metrics_token
    if token:
        auth = request.headers.get("authorization", "")
        scheme, _, given = auth.partition(" ")
        if scheme.lower() != "bearer" or not given:
            return _refuse(CoreError.METRICS_TOKEN_REQUIRED, 401)
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            return _refuse(CoreError.METRICS_TOKEN_INVALID, 401)
    elif not _allowed_peer(request):
        return _refuse(CoreError.METRICS_FORBIDDEN, 403)
    flush_requests()  # this process's last second; the others' come with their next tick
    body = exposition() + _families(await read_gauges(get_db()))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def mount(app: FastAPI) -> None:
    """`GET /metrics` on the app, and the request middleware (outermost: refusals are counted too)."""
    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    app.add_middleware(RequestMetrics)
