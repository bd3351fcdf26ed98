"""The one table of error texts: GET /api/v1/error-codes, and what the console's error_text reads.

Every domain's `errors.py` enum is imported (registry.import_all("errors")) so the table holds every
declared code; the shop loads it once at start and the console looks codes up in it, so a refusal reads
the same Chinese on both sides and neither keeps a copy of its own.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from fissionmall import registry
from fissionmall.core.errors import error_table

MAX_AGE_SECONDS = 300  # a new code reaches an open shop within five minutes; the ETag makes a reload cheap


@lru_cache(maxsize=1)
def table() -> dict[str, str]:
    """{code: 中文} over every domain's enum, then the fallback for codes not declared yet."""
    registry.import_all("errors")
    out = dict(error_table())
    return dict(sorted(out.items()))


@lru_cache(maxsize=1)
def _body() -> tuple[bytes, str]:
    body = json.dumps({"codes": table()}, ensure_ascii=False, separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class ErrorCodesPublic(BaseModel):
    codes: dict[str, str]


router = APIRouter(tags=["meta"])


@router.get("/error-codes", response_model=ErrorCodesPublic)
async def error_codes(request: Request) -> Response:
    """Every refusal code with the Chinese text to show for it. No login; cacheable (ETag, 5 minutes)."""
    body, etag = _body()
    headers = {"Cache-Control": f"public, max-age={MAX_AGE_SECONDS}", "ETag": etag}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
