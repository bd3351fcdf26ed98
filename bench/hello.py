"""The ceiling: the smallest FastAPI app, served exactly like fissionmall (see common.server_cmd)."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, bool]:
    return {"ok": True}
