"""`fissionmall serve --workers N`: N processes each with its own SO_REUSEPORT socket, a supervisor that
starts a dead one again and stops them all on SIGTERM. Real processes, real sockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fissionmall import serving
from tests.conftest import BACKEND

pytestmark = [
    pytest.mark.skipif(BACKEND != "sqlite", reason="process handling; the database does not matter"),
    pytest.mark.skipif(not serving.supported(), reason="SO_REUSEPORT balancing is Linux-only"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> set[int]:
    out = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.add(int(d))
            except (OSError, ValueError):
                pass
    return out


def _served_by(base: str, n: int) -> set[int]:
    """The server processes that answered n fresh connections (each answer names its pid)."""
    pids = set()
    for _ in range(n):
        with httpx.Client(base_url=base, timeout=10) as c:  # a new connection each time
            pids.add(int(c.get("/healthz").headers["x-served-by"]))
    return pids


def _wait(cond, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_two_processes_share_the_port_one_is_restarted_and_sigterm_stops_all(tmp_path: Path):
    port = _free_port()
    app_file = tmp_path / "pidapp.py"
    # The app under test answers with its process id, so the test sees which process served a connection.
    app_file.write_text(
        "import os\n"
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http':\n"
        "        return\n"
        "    await send({'type': 'http.response.start', 'status': 200,\n"
        "                'headers': [(b'x-served-by', str(os.getpid()).encode())]})\n"
        "    await send({'type': 'http.response.body', 'body': b'ok'})\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    sup = subprocess.Popen(
        [sys.executable, "-m", "fissionmall.serving", "pidapp:app", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: len(_served_by(base, 40)) == 2)  # both processes take connections on the one port
        kids = _children(sup.pid)
        assert len(kids) == 2
        victim = min(kids)
        os.kill(victim, signal.SIGKILL)
        _wait(lambda: len(_children(sup.pid)) == 2 and victim not in _children(sup.pid))
        _wait(lambda: len(_served_by(base, 40)) == 2)
        assert victim not in _served_by(base, 40)
        kids = _children(sup.pid)
        sup.send_signal(signal.SIGTERM)
        assert sup.wait(timeout=30) == 0
        for k in kids:
            assert not os.path.exists(f"/proc/{k}") or "Z" in open(f"/proc/{k}/stat").read().split()[2]
    finally:
        if sup.poll() is None:
            sup.kill()
            sup.wait()


def test_a_port_of_zero_is_refused():
    with pytest.raises(ValueError):
        serving.run("x:app", host="127.0.0.1", port=0, workers=2)
