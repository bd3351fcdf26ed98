"""The ceiling: the smallest FastAPI app, served exactly like fissionmall (see common.server_cmd).

With `FISSIONMALL_BENCH_METRICS=1` (`python -m bench --only hello,hello-metrics`) the same app runs behind
fissionmall's Prometheus request middleware (core/metrics.py), so the two runs side by side are what the
middleware costs a request.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, bool]:
    return {"ok": True}


if os.environ.get("FISSIONMALL_BENCH_METRICS") == "1":
    from fissionmall.core.metrics import RequestMetrics

    app.add_middleware(RequestMetrics)


def _asgi_cost(rounds: int = 15, n: int = 4000) -> dict[str, object]:
    """In process, no HTTP: the hello app called through ASGI `n` times per round, bare and behind the
    middleware in alternating rounds; CPU µs per request (process time: other load on the machine moves
    it far less than requests/s)."""
    import asyncio
    import time

    from fissionmall.core.metrics import RequestMetrics

    bare = FastAPI()
    bare.add_api_route("/hello", hello, methods=["GET"])
    wrapped = FastAPI()
    wrapped.add_api_route("/hello", hello, methods=["GET"])
    wrapped.add_middleware(RequestMetrics)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/hello", "raw_path": b"/hello", "root_path": "", "query_string": b"", "headers": [],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}  # fmt: skip

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        return None

    async def run(app: FastAPI) -> float:
        t = time.process_time()
        for _ in range(n):
            await app(dict(scope), receive, send)
        return (time.process_time() - t) / n * 1e6

    async def main() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {"bare": [], "metrics": []}
        await run(bare), await run(wrapped)  # warm both
        for _ in range(rounds):
            out["bare"].append(await run(bare))
            out["metrics"].append(await run(wrapped))
        return out

    got = asyncio.run(main())
    b, m = min(got["bare"]), min(got["metrics"])
    return {
        "bench": "hello-asgi",
        "requests_per_round": n,
        "rounds": rounds,
        "bare_us_per_request": round(b, 1),
        "metrics_us_per_request": round(m, 1),
        "middleware_us_per_request": round(m - b, 1),
        "bare_over_metrics": round(b / m, 4),
    }


if __name__ == "__main__":  # `python -m bench.hello`: the middleware's cost in process (see _asgi_cost)
    import json

    print(json.dumps(_asgi_cost()))
