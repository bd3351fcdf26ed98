"""Several server processes on one port, each with its own listening socket (SO_REUSEPORT).

`uvicorn --workers N` shares one listening socket among its workers and whichever wakes first accepts.
Long-lived keep-alive connections (a gateway's or load balancer's upstream pool, a crowd of shoppers'
mini-programs) then pile up unevenly, and the busier process sets the tail latency: measured here, 152
against 104 of 256 connections on two workers. With SO_REUSEPORT every process listens on a socket of its
own and the kernel spreads new connections over them by a hash of the address pair, as nginx's
`reuseport` does.

`run()` is the supervisor: it starts `workers` children (`python -m fissionmall.serving --child …`),
forwards SIGINT/SIGTERM to them (uvicorn's graceful shutdown runs in each), and starts a child again if
one dies while serving. Linux only (SO_REUSEPORT's balancing); `fissionmall serve` falls back to
uvicorn's own workers elsewhere.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import subprocess
import sys
import time
from typing import Any

log = logging.getLogger("fissionmall.serving")

BACKLOG = 2048  # uvicorn's default


def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port that other processes of this user may also bind (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def child(app: str, host: str, port: int, log_level: str) -> None:
    import uvicorn

    sock = listen(host, port)
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, access_log=False, proxy_headers=False, backlog=BACKLOG
    )
    uvicorn.Server(config).run(sockets=[sock])


def run(app: str, *, host: str, port: int, workers: int, log_level: str = "info") -> int:
    """Serve `app` (an import string) from `workers` processes; returns when they have all stopped."""
    if port == 0:
        raise ValueError("give a port: each process binds it separately")
    from fissionmall.core.metrics import prepare_multiprocess
    from fissionmall.settings import get_settings

    # Each child writes its Prometheus counters to files in one directory; any child's /metrics sums them.
    prepare_multiprocess(get_settings().var_dir)
    cmd = [sys.executable, "-m", "fissionmall.serving", "--child", app, "--host", host, "--port", str(port)]
    cmd += ["--log-level", log_level]
    procs: list[subprocess.Popen[bytes]] = [subprocess.Popen(cmd) for _ in range(workers)]
    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    restarts: list[float] = []
    failed = False
    while True:
        if stopping:
            for p in procs:
                p.wait()
            return 1 if failed else 0
        for i, p in enumerate(procs):
            code = p.poll()
            if code is None or stopping:
                continue
            now = time.monotonic()
            restarts = [t for t in restarts if now - t < 60] + [now]
            if len(restarts) > 5 * workers:  # crashing at start-up (bad settings): give up, not loop forever
                log.error("server processes keep exiting (last code %s); stopping", code)
                failed = True
                stop(signal.SIGTERM, None)
                break
            log.warning("server process %s exited with %s; starting another", p.pid, code)
            procs[i] = subprocess.Popen(cmd)
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m fissionmall.serving")
    p.add_argument("app")
    p.add_argument("--child", action="store_true", help="one server process (started by the supervisor)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--log-level", default="info")
    a = p.parse_args(argv)
    if a.child:
        child(a.app, a.host, a.port, a.log_level)
    else:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
        raise SystemExit(run(a.app, host=a.host, port=a.port, workers=a.workers, log_level=a.log_level))


if __name__ == "__main__":
    main()
