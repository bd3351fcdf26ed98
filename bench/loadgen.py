"""The load generator, run as its own process: `python -m bench.loadgen '<json config>'`.

It opens one keep-alive HTTP/1.1 connection per simulated client, runs a
warm-up, then a measured window, lets in-flight cycles finish (so the database
invariant can be checked against what the client saw), and prints one JSON
result on stdout.

Two HTTP clients: `raw` (asyncio streams on uvloop, a few lines of HTTP/1.1;
the default, because it costs far less CPU per request) and `httpx` (to
compare: it is the usual choice and can become the limit on 2 shared cores).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.common import machine_cpu_seconds, ms, percentile, sql_counts
from bench.wrk import tree_cpu_seconds, tree_pids

ADDRESS = {"name": "张三", "phone": "13800138000", "region": "上海市 浦东新区", "detail": "世纪大道 100 号"}
REQUEST_TIMEOUT = 30.0
MAX_ERROR_SAMPLES = 8


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class HttpError(Exception):
    pass


class RawConn:
    """One keep-alive HTTP/1.1 connection; requests on it are sequential."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.hostport = f"{host}:{port}"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self._request(method, path, body, headers), REQUEST_TIMEOUT)
        except BaseException:
            self.close()  # a half-read response would poison the next request on this connection
            raise

    async def _request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            await self._connect()
        assert self.reader is not None and self.writer is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.hostport}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        elif method in ("POST", "PUT", "PATCH"):
            head += "Content-Length: 0\r\n"
        if headers:
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(head.encode("latin-1") + b"\r\n" + (body or b""))
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise HttpError(f"bad status line {lines[0]!r}")
        status = int(parts[1])
        length: int | None = None
        chunked = close = False
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            k = k.strip().lower()
            if k == "content-length":
                length = int(v)
            elif k == "transfer-encoding":
                chunked = "chunked" in v.lower()
            elif k == "connection":
                close = "close" in v.lower()
        if chunked:
            data = bytearray()
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")  # no trailers expected
                    break
                data += await self.reader.readexactly(size + 2)
                del data[-2:]
            content = bytes(data)
        elif length is not None:
            content = await self.reader.readexactly(length)
        else:
            content, close = await self.reader.read(), True
        if close:
            self.close()
        return status, content


class HttpxConn:
    """The same interface over one shared httpx.AsyncClient."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        h = dict(headers or {})
        if body is not None:
            h["Content-Type"] = "application/json"
        r = await self.client.request(method, path, content=body, headers=h)
        return r.status_code, r.content

    def close(self) -> None:
        return None


Conn = RawConn | HttpxConn


@dataclass
class Stats:
    warm_end: float = 0.0
    end: float = 0.0
    requests_in_window: int = 0
    cycles_in_window: int = 0
    cycles_total: int = 0  # every fully completed cycle, warm-up and tail included
    orders_created: int = 0  # every 201 on POST /orders
    qty_ordered: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    cycle_lat: list[float] = field(default_factory=list)
    step_lat: dict[str, list[float]] = field(default_factory=dict)

    def in_window(self, t: float) -> bool:
        return self.warm_end <= t < self.end

    def request_done(self, step: str, started: float, finished: float) -> None:
        if self.in_window(finished):
            self.requests_in_window += 1
            self.step_lat.setdefault(step, []).append(finished - started)

    def error(self, step: str, detail: str) -> None:
        self.errors += 1
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(f"{step}: {detail}"[:400])
            print(f"[loadgen] error {step}: {detail[:300]}", file=sys.stderr, flush=True)


async def call(
    conn: Conn,
    st: Stats,
    step: str,
    method: str,
    path: str,
    expect: int,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """One request; its JSON body on the expected status, else None (counted as an error)."""
    t = time.perf_counter()
    try:
        status, content = await conn.request(method, path, None if body is None else dumps(body), headers)
    except Exception as exc:
        st.error(step, f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(0.05)  # a refused connection must not spin
        return None
    st.request_done(step, t, time.perf_counter())
    if status != expect:
        st.error(step, f"HTTP {status} {content[:300].decode(errors='replace')}")
        return None
    try:
        data = json.loads(content)
    except ValueError:
        st.error(step, f"not JSON: {content[:200]!r}")
        return None
    return data if isinstance(data, dict) else {"_": data}


# ---- scenarios -------------------------------------------------------------------------------------


async def get_client(conn: Conn, st: Stats, path: str, auth: dict[str, str] | None, stop_at: float) -> None:
    """GET `path` in a loop (the hello ceiling; also any other read, for digging)."""
    while time.perf_counter() < stop_at:
        t = time.perf_counter()
        data = await call(conn, st, "get", "GET", path, 200, None, auth)
        if data is None:
            continue
        if path == "/hello" and data.get("ok") is not True:
            st.error("get", f"unexpected body {data!r}")
            continue
        done = time.perf_counter()
        st.cycles_total += 1
        if st.in_window(done):
            st.cycles_in_window += 1
            st.cycle_lat.append(done - t)


async def login(conn: Conn, st: Stats, code: str) -> dict[str, str] | None:
    data = await call(conn, st, "login", "POST", "/api/v1/auth/wechat-login", 200, {"code": code})
    if data is None:
        return None
    return {"Authorization": f"Bearer {data['token']}"}


async def shopper(conn: Conn, st: Stats, auth: dict[str, str], cfg: dict[str, Any], stop_at: float, index: int) -> None:
    """Loop preview → create → pay → sandbox succeed; a started cycle always finishes (or errors)."""
    sku_ids = cfg["sku_ids"]
    items = [{"sku_id": int(sku_ids[index % len(sku_ids)]), "qty": int(cfg["qty"])}]
    expected_payable = cfg.get("expected_payable_fen")
    while time.perf_counter() < stop_at:
        t = time.perf_counter()
        q = await call(conn, st, "preview", "POST", "/api/v1/checkout/preview", 200, {"items": items}, auth)
        if q is None:
            continue
        if expected_payable is not None and q.get("payable_fen") != expected_payable:
            st.error("preview", f"payable_fen {q.get('payable_fen')} != {expected_payable}")
            continue
        o = await call(conn, st, "create", "POST", "/api/v1/orders", 201, {"items": items, "address": ADDRESS}, auth)
        if o is None:
            continue
        st.orders_created += 1
        st.qty_ordered += int(cfg["qty"])
        p = await call(conn, st, "pay", "POST", f"/api/v1/orders/{o['id']}/pay", 200, {"method": "gateway"}, auth)
        if p is None:
            continue
        r = await call(
            conn, st, "succeed", "POST", f"/api/v1/payments/sandbox/{p['payment_id']}/succeed", 200, None, auth
        )
        if r is None:
            continue
        if r.get("outcome") != "applied":
            st.error("succeed", f"outcome {r.get('outcome')!r}")
            continue
        done = time.perf_counter()
        st.cycles_total += 1
        if st.in_window(done):
            st.cycles_in_window += 1
            st.cycle_lat.append(done - t)


# ---- the run ---------------------------------------------------------------------------------------


def make_conns(cfg: dict[str, Any]) -> tuple[list[Conn], Callable[[], Any]]:
    n = int(cfg["concurrency"])
    host, port = "127.0.0.1", int(cfg["port"])
    if cfg.get("client", "raw") == "httpx":
        import httpx

        client = httpx.AsyncClient(
            base_url=f"http://{host}:{port}",
            limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
            timeout=REQUEST_TIMEOUT,
        )
        return [HttpxConn(client) for _ in range(n)], client.aclose
    conns: list[Conn] = [RawConn(host, port) for _ in range(n)]

    async def close_all() -> None:
        for c in conns:
            c.close()

    return conns, close_all


async def sample_cpu(
    server_pids: list[int], at: float, sql_dir: str | None
) -> tuple[float | None, float, tuple[float, float] | None, dict[str, int] | None]:
    """At `at`: the server's CPU seconds (every process of its tree: a supervisor and its workers), this
    client's, the machine's, and the server's SQL counters (FISSIONMALL_SQL_STATS files) if asked for."""
    await asyncio.sleep(max(0.0, at - time.perf_counter()))
    server = tree_cpu_seconds(server_pids) if server_pids else None
    return server, time.process_time(), machine_cpu_seconds(), sql_counts(sql_dir) if sql_dir else None


def cpu_pct(a: Any, b: Any, wall: float) -> dict[str, float | None]:
    """Per-cent of one core over the window: server process, this client, whole machine, everything else."""
    (s0, c0, m0, _), (s1, c1, m1, _) = a, b
    server = None if s0 is None or s1 is None else (s1 - s0) / wall * 100
    client = (c1 - c0) / wall * 100
    machine = None if m0 is None or m1 is None else (m1[0] - m0[0]) / wall * 100
    other = None if machine is None or server is None else max(0.0, machine - server - client)
    out = {"server": server, "client": client, "machine": machine, "other": other}
    return {k: None if v is None else round(v, 1) for k, v in out.items()}


def per(cpu_s: float | None, n: int) -> float | None:
    return None if cpu_s is None or n == 0 else round(cpu_s * 1000 / n, 3)


async def run(cfg: dict[str, Any]) -> dict[str, Any]:
    scenario, warmup, duration = cfg["scenario"], float(cfg["warmup_s"]), float(cfg["duration_s"])
    st = Stats()
    conns, close_all = make_conns(cfg)
    try:
        auths: list[dict[str, str] | None] = [None] * len(conns)
        if scenario == "orders" or cfg.get("login"):
            tag = cfg["tag"]
            auths = list(await asyncio.gather(*(login(c, st, f"{tag}{i}") for i, c in enumerate(conns))))
            if any(a is None for a in auths):
                raise SystemExit("some shoppers could not log in; see the errors above")
        t0 = time.perf_counter()
        st.warm_end, st.end = t0 + warmup, t0 + warmup + duration
        print(f"[loadgen] {scenario}: {len(conns)} clients, warm-up {warmup:g}s, measuring {duration:g}s",
              file=sys.stderr, flush=True)  # fmt: skip
        server_pids = tree_pids(int(cfg["server_pid"]))
        sql_dir = cfg.get("sql_stats_dir")
        sql_start = sql_counts(sql_dir) if sql_dir else None  # after the logins: the whole run's baseline
        cpu0 = asyncio.ensure_future(sample_cpu(server_pids, st.warm_end, sql_dir))
        cpu1 = asyncio.ensure_future(sample_cpu(server_pids, st.end, sql_dir))
        if scenario == "get":
            tasks = [get_client(c, st, cfg["path"], a, st.end) for c, a in zip(conns, auths, strict=True)]
        else:
            tasks = [shopper(c, st, a, cfg, st.end, i) for i, (c, a) in enumerate(zip(conns, auths, strict=True)) if a]
        # Every loop stops starting work at `end`; in-flight requests time out after REQUEST_TIMEOUT.
        await asyncio.wait_for(asyncio.gather(*tasks), warmup + duration + 4 * REQUEST_TIMEOUT + 10)
        drain_s = time.perf_counter() - st.end
        c0, c1 = await cpu0, await cpu1
        cpu = cpu_pct(c0, c1, st.end - st.warm_end)
        server_cpu_s = None if c0[0] is None or c1[0] is None else c1[0] - c0[0]
        sql_window = None
        if c0[3] is not None and c1[3] is not None:
            sql_window = {k: c1[3].get(k, 0) - c0[3].get(k, 0) for k in set(c0[3]) | set(c1[3])}
    finally:
        await close_all()
    cycle = sorted(st.cycle_lat)
    wall = st.end - st.warm_end
    steps = {
        k: {"p50_ms": ms(percentile(sorted(v), 0.5)), "p99_ms": ms(percentile(sorted(v), 0.99)), "n": len(v)}
        for k, v in st.step_lat.items()
    }
    return {
        "cycles_per_s": round(st.cycles_in_window / wall, 1),
        "requests_per_s": round(st.requests_in_window / wall, 1),
        "p50_ms": ms(percentile(cycle, 0.5)),
        "p99_ms": ms(percentile(cycle, 0.99)),
        "errors": st.errors,
        "error_samples": st.error_samples,
        "cycles_in_window": st.cycles_in_window,
        "cycles_total": st.cycles_total,
        "orders_created": st.orders_created,
        "qty_ordered": st.qty_ordered,
        "steps": steps,
        "cpu_pct": cpu,
        # Server CPU per unit of work: steadier than throughput when other jobs share the cores.
        "server_cpu_ms_per_request": per(server_cpu_s, st.requests_in_window),
        "server_cpu_ms_per_cycle": per(server_cpu_s, st.cycles_in_window),
        "drain_s": round(drain_s, 2),
        "server_processes": len(server_pids),
        # SQL counters summed over the server's processes: in the measured window, and at its start
        # (after the logins), which the caller subtracts from the totals after the worker drained.
        "sql_window": sql_window,
        "sql_at_start": sql_start,
    }


def main() -> None:
    cfg = json.loads(sys.argv[1])
    runner: Callable[..., dict[str, Any]] = asyncio.run
    loop = "asyncio"
    if cfg.get("uvloop", True):
        try:
            import uvloop
        except ImportError:
            pass
        else:
            runner, loop = uvloop.run, "uvloop"
    result = runner(run(cfg))
    result["client_loop"] = loop
    result["client_pid"] = os.getpid()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
