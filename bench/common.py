"""What every benchmark shares: the server setup, the load-generator process, output, CPU accounting."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]

# The flags of `fissionmall serve` (cli.py: uvicorn.run(workers=1, access_log=False, proxy_headers=False,
# log_level="info"), loop and http left at "auto"), written out once so the ceiling and the app get the same.
SERVER_FLAGS = (
    "--workers", "1",
    "--no-access-log",
    "--no-proxy-headers",
    "--log-level", "info",
    "--loop", "auto",
    "--http", "auto",
)  # fmt: skip


def server_stack(workers: int = 1) -> dict[str, str]:
    """What uvicorn's "auto" resolves to in this venv (uvloop / httptools when installed)."""
    import uvicorn

    return {
        "uvicorn": uvicorn.__version__,
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
        "workers": str(workers),
    }


def workspace(prefix: str, *, embedded_worker: bool = True, **extra: str) -> tuple[Path, Path, dict[str, str]]:
    """A temp folder, its var/ dir, and the environment a bench server of the app runs with: dev mode,
    a fresh secret, rate limits out of the way (the bench would otherwise measure refusals)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    var = tmp / "var"
    var.mkdir()
    very_high = str(10**9)
    env = {
        "FISSIONMALL_ENV": "dev",
        "FISSIONMALL_VAR_DIR": str(var),
        "FISSIONMALL_SECRET_KEY": "bench-secret-" + secrets.token_hex(24),
        "FISSIONMALL_LOGIN_RATE_PER_MINUTE": very_high,
        "FISSIONMALL_ORDER_RATE_PER_MINUTE": very_high,
        "FISSIONMALL_EMBEDDED_WORKER": "true" if embedded_worker else "false",
        **extra,
    }
    return tmp, var, env


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def emit(line: dict[str, Any]) -> None:
    print(json.dumps(line, ensure_ascii=False), flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted sequence (None when empty)."""
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[i]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


# ---- CPU accounting (Linux /proc): who used the 2 cores during the measured window --------------

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of one process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14 and 15 of stat)


def machine_cpu_seconds() -> tuple[float, float] | None:
    """(busy, total) CPU seconds summed over all cores since boot."""
    try:
        with open("/proc/stat") as f:
            parts = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return None
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)  # idle + iowait
    total = sum(parts[:8])  # guest time is already counted in user
    return (total - idle) / CLK_TCK, total / CLK_TCK


def sql_counts(directory: str | Path) -> dict[str, int]:
    """The server's SQL counters (FISSIONMALL_SQL_STATS=1: one JSON file per process), summed."""
    total: dict[str, int] = {}
    for f in Path(directory).glob("*.json"):
        try:
            data = json.loads(f.read_text())
        except (OSError, ValueError):
            continue  # a process writing it right now (it replaces the file atomically, so: gone)
        for k, v in data.items():
            total[k] = total.get(k, 0) + int(v)
    return total


def sql_per(counts: dict[str, int] | None, n: int) -> dict[str, Any] | None:
    """Statements, commits and rollbacks per order, and statements per order by first word."""
    if not counts or n <= 0:
        return None
    kinds = {k[5:]: round(v / n, 2) for k, v in sorted(counts.items()) if k.startswith("stmt:") and v}
    return {
        "statements_per_order": round(counts.get("statements", 0) / n, 2),
        "commits_per_order": round(counts.get("commits", 0) / n, 2),
        "rollbacks_per_order": round(counts.get("rollbacks", 0) / n, 2),
        "statements_by_kind_per_order": kinds,
    }


# ---- the server under test -------------------------------------------------------------------------


@dataclass
class Server:
    """One uvicorn subprocess on a free port of 127.0.0.1."""

    app: str
    env: dict[str, str]
    cwd: Path
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    workers: int = 1  # uvicorn --workers: a supervisor forks this many server processes

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.workers > 1:
            # fissionmall serve --workers N: one SO_REUSEPORT socket per process (fissionmall/serving.py)
            return [
                sys.executable, "-m", "fissionmall.serving", self.app,
                "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(self.workers), "--log-level", "info",
            ]  # fmt: skip
        return [
            sys.executable, "-m", "uvicorn", self.app,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--app-dir", str(REPO),
            *self.flags(),
        ]  # fmt: skip

    def flags(self) -> list[str]:
        """SERVER_FLAGS with this server's worker count."""
        out = list(SERVER_FLAGS)
        out[out.index("--workers") + 1] = str(self.workers)
        return out

    def start(self, ready_path: str, timeout: float = 60.0) -> None:
        env = {**os.environ, **self.env}
        # This tree's src/ first: the venv's editable install may point at another checkout (a worktree's
        # bench must measure the worktree); REPO for bench.* apps (uvicorn's --app-dir, for one process).
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), str(REPO), env.get("PYTHONPATH", "")]))
        # Nothing of the developer's shell may leak into the server: it reads FISSIONMALL_* only from `self.env`.
        for k in list(env):
            if k.startswith("FISSIONMALL_") and k not in self.env:
                del env[k]
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C at the terminal reaches us, and we stop it in order
            )
        deadline = time.monotonic() + timeout
        url = self.base_url + ready_path
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server {self.app} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server {self.app} not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (uvicorn's graceful shutdown runs the lifespan's finally), then SIGKILL."""
        p = self.proc
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"server pid {p.pid} ignored SIGTERM for {timeout:.0f}s; killing it")
            p.kill()
            p.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def log_problems(self) -> list[str]:
        """Lines of the server log that look like trouble (tracebacks, errors, warnings)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        keys = ("Traceback", " ERROR ", " WARNING ", "ERROR:", "WARNING:", "CRITICAL")
        return [ln for ln in text.splitlines() if any(k in ln for k in keys)]


# ---- the load generator (bench/loadgen.py in its own process: its own GIL, its own core) ----------


def run_loadgen(config: dict[str, Any]) -> dict[str, Any]:
    """Run one load-generator process and return its JSON result."""
    budget = float(config["warmup_s"]) + float(config["duration_s"]) + 120.0
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.loadgen", json.dumps(config)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=None,  # its progress goes straight to our stderr
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=budget)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    if proc.returncode != 0:
        raise RuntimeError(f"load generator exited with {proc.returncode}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result
