"""One check for control characters in everything a request sends: path, query string, JSON and form bodies.

A NUL reached PostgreSQL as a 500 from any text field or search, and was stored inside an address's JSON;
other control characters garble pages and logs. Checking here, once, covers every route, console form and
search without each schema or handler remembering to. Tab, CR and LF pass (multi-line text). Multipart
uploads pass untouched. The flash-sale fast lane (seckill/fast.py) answers in front of this middleware,
so its body model checks the same rule itself (core.schemas.ApiIn).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from fissionmall.core.errors import CoreError
from fissionmall.core.schemas import INVALID_CHARACTER_MSG, bad_text_at

# What the shopper or merchant reads; the English sentence stays in the detail, for developers.
CONTROL_CHARACTER_ZH = "填写的文字含有不允许的控制字符，请删除后重试"

# Bodies beyond this are not scanned here (the request-size limit refuses them first where it applies).
SCAN_LIMIT = 2 * 1024 * 1024

# A JSON body can carry a control character only as a \u escape, or as a raw DEL / C1 character (JSON
# forbids raw C0 ones): a body with neither needs no parse.
_MAYBE_BAD_JSON = re.compile(rb"\\u|\x7f|\xc2[\x80-\x9f]")


def _header(scope: dict[str, Any], name: bytes) -> bytes:
    for k, v in scope.get("headers", ()):
        if k == name:
            return bytes(v)
    return b""


def _pairs_bad(raw: str, where: str) -> list[str | int] | None:
    for key, value in parse_qsl(raw, keep_blank_values=True):
        if bad_text_at(key) is not None or bad_text_at(value) is not None:
            return [where, key]
    return None


def _body_bad(kind: str, body: bytes) -> list[str | int] | None:
    if kind == "json":
        if not _MAYBE_BAD_JSON.search(body):
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return None  # malformed: the route answers that
        found = bad_text_at(data)
        return None if found is None else ["body", *found]
    return _pairs_bad(body.decode("utf-8", "replace"), "body")


async def _refuse(send: Any, loc: list[str | int]) -> None:
    detail = [{"loc": loc, "msg": INVALID_CHARACTER_MSG, "type": "invalid_character"}]
    raw = json.dumps(
        {"error": {"code": CoreError.VALIDATION_ERROR.value, "message": CONTROL_CHARACTER_ZH, "detail": detail}},
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": raw})


class RefuseControlCharacters:
    """ASGI middleware: a 422 VALIDATION_ERROR (detail type `invalid_character`) before the route runs."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if bad_text_at(path) is not None:
            await _refuse(send, ["path"])
            return
        query = scope.get("query_string", b"")
        if query:
            found = _pairs_bad(query.decode("utf-8", "replace"), "query")
            if found is not None:
                await _refuse(send, found)
                return
        ctype = _header(scope, b"content-type").split(b";")[0].strip().lower()
        if ctype == b"application/json" or ctype.endswith(b"+json"):
            kind = "json"
        elif ctype == b"application/x-www-form-urlencoded":
            kind = "form"
        else:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        last: dict[str, Any] | None = None
        while more and size <= SCAN_LIMIT:
            message = await receive()
            if message["type"] != "http.request":
                last = message  # a disconnect: hand it on after what was read
                break
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        if last is None and not more:
            found = _body_bad(kind, body)
            if found is not None:
                await _refuse(send, found)
                return
        replay: list[dict[str, Any]] = [{"type": "http.request", "body": body, "more_body": more}]
        if last is not None:
            replay.append(last)

        async def replayed() -> Any:
            if replay:
                return replay.pop(0)
            return await receive()

        await self.app(scope, replayed, send)
