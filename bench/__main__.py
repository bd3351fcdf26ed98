"""`python -m bench [--duration 10] [--concurrency 32] [--only hello,sqlite,postgres] [--skus 1,32] [--workers 1,2]`.

`--only hello,hello-metrics` runs the ceiling twice, the second behind the Prometheus request middleware
(core/metrics.py); the summary's `metrics_over_hello` is the ratio of their requests/s.

Prints one JSON line per measurement on stdout, then a summary line with each
backend's figures as a fraction of the hello ceiling measured in this run.
Exit status 1 when a run had errors, broke the invariant, or could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO, Server, emit, log, run_loadgen, server_stack

CHOICES = ("hello", "hello-metrics", "sqlite", "postgres", "client-check")
DEFAULT_ONLY = "hello,sqlite,postgres"


def run_hello(
    *, concurrency: int, warmup: float, duration: float, client: str, metrics: bool = False
) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="fmbench-hello-"))
    env = {"FISSIONMALL_BENCH_METRICS": "1"} if metrics else {}
    server = Server("bench.hello:app", env=env, cwd=tmp, log_path=tmp / "server.log")
    try:
        server.start("/hello")
        assert server.proc is not None
        log(f"hello ({client} client): serving on {server.base_url} (pid {server.proc.pid})")
        result = run_loadgen(
            {
                "scenario": "get",
                "path": "/hello",
                "port": server.port,
                "server_pid": server.proc.pid,
                "concurrency": concurrency,
                "warmup_s": warmup,
                "duration_s": duration,
                "client": client,
            }
        )
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "bench": "hello",
        "backend": "none",
        "metrics_middleware": metrics,
        "concurrency": concurrency,
        "duration_s": duration,
        "requests_per_s": result["requests_per_s"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "errors": result["errors"],
        **({"error_samples": result["error_samples"]} if result["errors"] else {}),
        "server_cpu_ms_per_request": result["server_cpu_ms_per_request"],
        "cpu_pct": result["cpu_pct"],
        "client": f"{client}/{result['client_loop']}",
        "server": server_stack(),
        "warmup_s": warmup,
    }


def summary(lines: list[dict[str, Any]], failed: list[str], client: str) -> dict[str, Any]:
    hello = next(
        (
            x
            for x in lines
            if x["bench"] == "hello" and x["client"].startswith(client + "/") and not x.get("metrics_middleware")
        ),
        None,
    )
    hello_rps = hello["requests_per_s"] if hello else None
    out: dict[str, Any] = {"bench": "summary", "hello_requests_per_s": hello_rps}
    ratios: dict[str, Any] = {}
    for x in lines:
        if x["bench"] != "orders":
            continue
        r: dict[str, Any] = {
            "orders_per_s": x["orders_per_s"],
            "requests_per_s": x["requests_per_s"],
            "server_cpu_ms_per_request": x["server_cpu_ms_per_request"],
            "statements_per_order": x.get("statements_per_order"),
            "commits_per_order": x.get("commits_per_order"),
        }
        if hello_rps:
            r["requests_per_s_over_hello"] = round(x["requests_per_s"] / hello_rps, 4)
            r["orders_per_s_over_hello"] = round(x["orders_per_s"] / hello_rps, 4)
            # How many bare "hello" requests the server could have answered in the time one order took.
            r["hello_requests_per_order"] = round(hello_rps / x["orders_per_s"], 1) if x["orders_per_s"] else None
        hello_cpu = hello["server_cpu_ms_per_request"] if hello else None
        if hello_cpu and x["server_cpu_ms_per_request"]:
            # The same comparison in server CPU per request: it moves less when other jobs share the cores.
            r["cpu_per_request_over_hello"] = round(x["server_cpu_ms_per_request"] / hello_cpu, 1)
        ratios[x.get("label", x["backend"])] = r
    out["ratios"] = ratios
    # Two server processes against one, same backend and SKU spread (the target is >= 1.7).
    scaling = {}
    for x in lines:
        if x["bench"] == "orders" and x.get("workers", 1) > 1:
            one = next(
                (y for y in lines if y["bench"] == "orders" and y["backend"] == x["backend"]
                 and y.get("workers", 1) == 1 and y.get("skus", 1) == x.get("skus", 1)),
                None,
            )  # fmt: skip
            if one and one["orders_per_s"]:
                scaling[x["label"]] = round(x["orders_per_s"] / one["orders_per_s"], 2)
    if scaling:
        out["workers_scaling"] = scaling
    with_metrics = next((x for x in lines if x["bench"] == "hello" and x.get("metrics_middleware")), None)
    if hello and with_metrics and hello_rps:
        out["metrics_over_hello"] = round(with_metrics["requests_per_s"] / hello_rps, 4)
        if hello["server_cpu_ms_per_request"] and with_metrics["server_cpu_ms_per_request"]:
            out["metrics_cpu_us_per_request"] = round(
                (with_metrics["server_cpu_ms_per_request"] - hello["server_cpu_ms_per_request"]) * 1000, 1
            )
    extra = [x for x in lines if x["bench"] == "hello" and x is not hello and not x.get("metrics_middleware")]
    if hello and extra:
        out["client_check"] = {
            x["client"]: round(x["requests_per_s"] / hello_rps, 4) if hello_rps else None for x in extra
        }
    out["errors"] = sum(x.get("errors", 0) for x in lines)
    out["invariants_ok"] = all(x.get("invariant_ok", True) for x in lines)
    out["failed"] = failed
    out["machine"] = {"cpus": os.cpu_count(), "loadavg_after": [round(v, 2) for v in os.getloadavg()]}
    return out


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per run (default 10)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before measuring (default 2)")
    p.add_argument("--concurrency", type=int, default=32, help="simulated clients / connections (default 32)")
    p.add_argument("--only", default=DEFAULT_ONLY, help=f"comma list of {', '.join(CHOICES)} (default {DEFAULT_ONLY})")
    p.add_argument("--quick", action="store_true", help="3 s runs after 1 s warm-up: a smoke test")
    p.add_argument(
        "--skus", default="1,32", help="comma list: SKU counts to spread the shoppers over, a run each (default 1,32)"
    )
    p.add_argument(
        "--workers",
        default="1,2",
        help="comma list: server processes for the postgres runs, a run each (default 1,2; SQLite runs 1)",
    )
    p.add_argument("--client", choices=("raw", "httpx"), default="raw", help="load-generator HTTP client")
    p.add_argument("--pg-url", default=os.environ.get("FISSIONMALL_BENCH_PG_URL",
                   "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"))  # fmt: skip
    p.add_argument("--redis-url", default=os.environ.get("FISSIONMALL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    p.add_argument("--save", action="store_true", help="also write them to bench/results/<time>.jsonl")
    a = p.parse_args(argv)
    if a.quick:
        a.duration, a.warmup = 3.0, 1.0
    a.only = [x.strip() for x in a.only.split(",") if x.strip()]
    bad = [x for x in a.only if x not in CHOICES]
    if bad:
        p.error(f"unknown --only item(s) {bad}; choose from {CHOICES}")
    try:
        a.skus = [int(x) for x in str(a.skus).split(",") if x.strip()]
        a.workers = [int(x) for x in str(a.workers).split(",") if x.strip()]
    except ValueError:
        p.error("--skus and --workers take comma lists of whole numbers")
    if a.duration <= 0 or a.warmup < 0 or a.concurrency < 1 or not a.skus or not all(1 <= n <= 100 for n in a.skus):
        p.error("--duration > 0, --warmup >= 0, --concurrency >= 1, 1 <= each --skus <= 100")
    if not a.workers or not all(1 <= n <= 8 for n in a.workers):
        p.error("1 <= each --workers <= 8")
    return a


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    a = parse(sys.argv[1:] if argv is None else argv)
    # A SIGTERM must unwind through the `finally` blocks that stop the servers and drop the database.
    signal.signal(signal.SIGTERM, _terminate)
    os.chdir(REPO)
    lines: list[dict[str, Any]] = []
    failed: list[str] = []
    common = {"concurrency": a.concurrency, "warmup": a.warmup, "duration": a.duration}
    started = time.monotonic()
    # The ceiling first, then each backend; each runs on its own fresh server.
    runs: list[tuple[str, int, int]] = []
    for item in ("hello", "hello-metrics", "client-check", "sqlite", "postgres"):
        if item not in a.only:
            continue
        if item in ("hello", "hello-metrics", "client-check"):
            runs.append((item, 1, 1))
        else:
            runs += [(item, w, n) for n in a.skus for w in (a.workers if item == "postgres" else [1])]
    for item, workers, skus in runs:
        name = item
        try:
            if item == "hello":
                line = run_hello(client=a.client, **common)
            elif item == "hello-metrics":  # the ceiling behind the Prometheus request middleware
                line = run_hello(client=a.client, metrics=True, **common)
            elif item == "client-check":  # the ceiling again through the other client: is the client the limit?
                line = run_hello(client="httpx" if a.client == "raw" else "raw", **common)
            else:
                from bench.orders import label, run_orders

                name = label(item, workers, skus)
                line = run_orders(item, client=a.client, pg_url=a.pg_url, redis_url=a.redis_url, skus=skus,
                                  workers=workers, **common)  # fmt: skip
        except Exception as exc:
            log(f"{name}: FAILED: {type(exc).__name__}: {exc}")
            failed.append(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            continue
        lines.append(line)
        emit(line)
    s = summary(lines, failed, a.client)
    s["wall_s"] = round(time.monotonic() - started, 1)
    emit(s)
    if a.save:
        out = REPO / "bench" / "results"
        out.mkdir(exist_ok=True)
        path = out / time.strftime("%Y%m%d-%H%M%S.jsonl")
        path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in [*lines, s]))
        log(f"saved {path}")
    return 1 if failed or s["errors"] or not s["invariants_ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
