"""Load from wrk (C, Debian's `wrk` package) instead of a Python client.

Why: on 2 cores the load generator shares the machine with the server. Our Python client (loadgen.py)
spends about as much CPU per request as a bare FastAPI handler does, so with two server processes it
takes the CPU the second process needs; wrk spends a small fraction of that (its `cpu_pct.client` says
how much in each line), which is what lets a two-worker server be measured at all.

`Wrk.run()` writes the request files bench/wrk.lua reads (one head per shopper, one line per request,
so every flash-sale attempt carries its own single-use token), runs a warm-up and then the measured
window as two wrk runs on the same shoppers, and returns the figures with the server's CPU (its whole
process tree: uvicorn's supervisor and workers) over the measured run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import REPO, machine_cpu_seconds, proc_cpu_seconds

SCRIPT = REPO / "bench" / "wrk.lua"


def available() -> bool:
    return shutil.which("wrk") is not None


def tree_pids(pid: int) -> list[int]:
    """pid and every descendant (uvicorn --workers N forks its workers under a supervisor)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def tree_cpu_seconds(pids: Sequence[int]) -> float:
    return sum(proc_cpu_seconds(p) or 0.0 for p in pids)


@dataclass
class Request:
    """How to build each request: heads[k] for shopper k, and the body pre + variable + post."""

    heads: list[str]  # "METHOD /path HTTP/1.1\r\nHost: …\r\nHeader: …" (no Content-Length, no final CRLF)
    pre: str = ""
    post: str = ""


def _write(dir_: Path, req: Request, lines: Sequence[tuple[int, str]]) -> None:
    with open(dir_ / "heads", "w", encoding="utf-8") as f:
        for h in req.heads:
            f.write(h.replace("\r\n", "\t") + "\n")
    (dir_ / "body").write_text(f"{req.pre}\n{req.post}\n", encoding="utf-8")
    with open(dir_ / "lines", "w", encoding="utf-8") as f:
        for k, var in lines:
            f.write(f"{k}\t{var}\n")


def _wrk(
    port: int, dir_: Path, *, conns: int, threads: int, seconds: float, wrap: bool
) -> tuple[dict[str, Any], float]:
    cmd = [
        "wrk", f"-t{threads}", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "--latency",
        "-s", str(SCRIPT), f"http://127.0.0.1:{port}/", "--", str(dir_), "wrap" if wrap else "once", str(threads),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read().decode(errors="replace"), proc.stderr.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or "WRK-JSON " not in out:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err[-1000:]} {out[-1000:]}")
    line = out.split("WRK-JSON ", 1)[1].splitlines()[0]
    return json.loads(line), usage.ru_utime + usage.ru_stime


def run(
    *,
    port: int,
    server_pid: int,
    req: Request,
    make_lines: Callable[[int], list[tuple[int, str]]],
    conns: int,
    warmup_s: float,
    duration_s: float,
    threads: int = 1,
    wrap: bool = False,
    capacity_per_s: int = 40_000,
) -> dict[str, Any]:
    """Warm up, then measure. make_lines(n) gives n request lines; with wrap=False each is used once, so
    it is asked for capacity_per_s × seconds of them (more than the server can take on this machine)."""
    tmp = Path(tempfile.mkdtemp(prefix="fmbench-wrk-"))
    try:
        warm, meas = tmp / "warm", tmp / "meas"
        warm.mkdir()
        meas.mkdir()
        count = (lambda s: max(conns, int(capacity_per_s * s))) if not wrap else (lambda s: max(conns, 1024))
        _write(warm, req, make_lines(count(max(1.0, warmup_s))))
        _write(meas, req, make_lines(count(duration_s + 1)))
        warm_res: dict[str, Any] = {}
        if warmup_s > 0:
            warm_res, _ = _wrk(port, warm, conns=conns, threads=threads, seconds=warmup_s, wrap=wrap)
        pids = tree_pids(server_pid)
        s0, m0, t0 = tree_cpu_seconds(pids), machine_cpu_seconds(), time.perf_counter()
        res, client_cpu = _wrk(port, meas, conns=conns, threads=threads, seconds=duration_s, wrap=wrap)
        s1, m1, t1 = tree_cpu_seconds(pids), machine_cpu_seconds(), time.perf_counter()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    dur = res["duration_us"] / 1e6
    wall = t1 - t0
    n = res["requests"]
    return {
        "requests": n,
        "requests_per_s": round(n / dur, 1),
        "status": res["status"],
        "warmup_status": warm_res.get("status", {}),
        "reused_lines": res["reused"] + warm_res.get("reused", 0),
        "socket_errors": res["socket_errors"],
        "error_samples": res["samples"],
        "p50_ms": round(res["p50_us"] / 1000, 2),
        "p90_ms": round(res["p90_us"] / 1000, 2),
        "p99_ms": round(res["p99_us"] / 1000, 2),
        "p999_ms": round(res["p999_us"] / 1000, 2),
        "max_ms": round(res["max_us"] / 1000, 2),
        "server_processes": len(pids),
        "server_cpu_ms_per_request": round((s1 - s0) * 1000 / n, 3) if n else None,
        "cpu_pct": {
            "server": round((s1 - s0) / wall * 100, 1),
            "client": round(client_cpu / wall * 100, 1),
            "machine": None if m0 is None or m1 is None else round((m1[0] - m0[0]) / wall * 100, 1),
        },
        "client": f"wrk -t{threads} ({_wrk_version()})",
    }


def _wrk_version() -> str:
    try:
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=5)
        return (out.stdout + out.stderr).split("\n", 1)[0].strip() or "wrk"
    except (OSError, subprocess.SubprocessError):
        return "wrk"
