"""(d) The baseline most shops write: one transaction per attempt, `SELECT … FOR UPDATE` on the item row.

Served exactly like the app (bench.common.SERVER_FLAGS). No authentication (which only flatters it):
the body names the shopper. Tables live in the bench's own PostgreSQL database (created by bench.seckill).
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine(
    os.environ.get("BENCH_BASELINE_DB_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"),
    # 50 connections in all by default; bench.seckill divides them among worker processes
    pool_size=int(os.environ.get("BENCH_BASELINE_POOL", "50")) * 2 // 5,
    max_overflow=int(os.environ.get("BENCH_BASELINE_POOL", "50")) * 3 // 5,
    pool_timeout=60,
)
app = FastAPI()

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS bl_items (id int PRIMARY KEY, stock int NOT NULL, per_user_limit int NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bl_orders (id bigserial PRIMARY KEY, item_id int NOT NULL, user_id int NOT NULL, "
    "created_at timestamptz NOT NULL DEFAULT now())",
    "CREATE INDEX IF NOT EXISTS bl_orders_item_user ON bl_orders (item_id, user_id)",
]


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/items/{item_id}/attempts")
async def attempt(item_id: int, request: Request) -> Any:
    body = await request.json()
    user_id = int(body["user_id"])
    async with engine.begin() as c:
        row = (
            await c.execute(text("SELECT stock, per_user_limit FROM bl_items WHERE id = :i FOR UPDATE"), {"i": item_id})
        ).one_or_none()
        if row is None:
            return JSONResponse({"error": {"code": "NOT_FOUND"}}, status_code=404)
        stock, limit = row
        if stock < 1:
            return JSONResponse({"error": {"code": "SOLD_OUT"}}, status_code=409)
        mine = await c.scalar(
            text("SELECT count(*) FROM bl_orders WHERE item_id = :i AND user_id = :u"), {"i": item_id, "u": user_id}
        )
        if mine >= limit:
            return JSONResponse({"error": {"code": "LIMIT_REACHED"}}, status_code=409)
        await c.execute(text("UPDATE bl_items SET stock = stock - 1 WHERE id = :i"), {"i": item_id})
        oid = await c.scalar(
            text("INSERT INTO bl_orders (item_id, user_id) VALUES (:i, :u) RETURNING id"), {"i": item_id, "u": user_id}
        )
    return JSONResponse({"attempt_id": str(oid), "status": "succeeded"}, status_code=202)
