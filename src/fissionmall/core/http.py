"""The HTTP edge in front of every FastAPI route: a request-size limit and the pages' security headers.

`HttpEdges` is a pure ASGI middleware (no body buffering, no Request objects):

- **Size**: a body over `MAX_BODY` (1 MB) is refused with `413 PAYLOAD_TOO_LARGE` in the API's error JSON;
  an upload route registered with `allow_uploads` (the media library's) has its own limit and code. A
  `Content-Length` over the limit is refused before the route runs and before a byte of the body is read;
  a body without one (chunked) is counted as it streams, and the first chunk past the limit ends it: the
  413 is sent, the route sees a disconnect, and nothing more is read. Without this, a route read a 10 MB
  body before validation refused it.
- **Headers**: `X-Content-Type-Options: nosniff` on every answer (so an uploaded or user-named file is
  never sniffed into HTML or script), and on the shop's and console's HTML pages a Content-Security-Policy
  (scripts only from this origin: no inline script, no eval; images also from the media bucket's origin
  when media are stored in S3), frame refusal, and a referrer policy. The API documentation pages
  (/docs, /redoc) have their own policy, `docs_csp`: Swagger UI starts from one inline script, allowed by
  its SHA-256 hash and nothing else.

The flash-sale fast lane (seckill/fast.py) answers in front of FastAPI and so of this middleware: it keeps
its own 16 KB limit, and this adds nothing to its per-request cost.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from fissionmall.core.errors import CoreError, ErrorCode
from fissionmall.settings import get_settings

MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class UploadRoute:
    path: str
    limit: Callable[[], int]  # read per request: the settings in force decide
    code: ErrorCode


# Routes that take file uploads, by exact path (the media library registers its own).
UPLOAD_ROUTES: dict[str, UploadRoute] = {}


def allow_uploads(path: str, *, code: ErrorCode, limit: Callable[[], int] | None = None) -> None:
    """Let requests to `path` carry bodies up to `limit()` (default: the media limit plus 64 KB of multipart
    envelope), refused beyond it with `code`."""
    UPLOAD_ROUTES[path] = UploadRoute(path, limit or (lambda: get_settings().media_max_bytes + 64 * 1024), code)


PAGE_PREFIXES = ("/shop", "/admin")

# The console's templates carry no inline script or style, and htmx's own indicator style is off (see
# templates/admin/base.html). The shop builds its DOM with style attributes and injects two <style>
# sheets from its feature modules, so styles may be inline there; scripts may not, anywhere. Images come
# from this origin (/media, /static) or are data: URIs in the stylesheets.
_COMMON = (
    "default-src 'self'; script-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
CSP_CONSOLE = _COMMON + "; style-src 'self'"
CSP_SHOP = _COMMON + "; style-src 'self' 'unsafe-inline'"

# The API documentation pages (web/docs.py): exact paths, so nothing else under them is let through.
DOCS_PAGES = frozenset({"/docs", "/redoc"})
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def docs_csp(html: str) -> str:
    """The policy for a documentation page: scripts from this origin plus the page's own inline scripts by
    their hash (FastAPI's Swagger UI page starts the viewer inline), never 'unsafe-inline' for scripts.

    Styles may be inline (Redoc's styled-components and Swagger UI inject <style> sheets) and Redoc runs its
    search index in a worker it builds from a blob: URL; neither page embeds shop data."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html)
    )
    script_src = f"script-src 'self' {hashes}".rstrip()
    policy = _COMMON.replace("script-src 'self'", script_src, 1)
    return policy + "; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:"


_NOSNIFF = (b"x-content-type-options", b"nosniff")


def _too_large_body(limit: int, code: ErrorCode = CoreError.PAYLOAD_TOO_LARGE) -> bytes:
    err = {"code": code.value, "message": f"{code.text}（上限 {limit} 字节）", "limit": limit}
    return json.dumps({"error": err}, ensure_ascii=False, separators=(",", ":")).encode()


@lru_cache(maxsize=8)
def _with_media_origin(csp: str, media_base: str) -> str:
    """The policy with the media bucket's origin among image sources (stored /media URLs redirect there)."""
    parts = urlsplit(media_base)
    if not media_base or not parts.scheme or not parts.netloc:
        return csp
    return csp.replace("img-src 'self'", f"img-src 'self' {parts.scheme}://{parts.netloc}", 1)


def _page_headers(path: str) -> list[tuple[bytes, bytes]]:
    # A docs page sets its own policy (docs_csp) and keeps it: this strict one is only the fallback.
    csp = _with_media_origin(CSP_CONSOLE if path.startswith("/admin") else CSP_SHOP, get_settings().media_public_base)
    return [
        (b"content-security-policy", csp.encode()),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
    ]


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    for k, v in headers:
        if k.lower() == b"content-type":
            return v.split(b";")[0].strip().lower() == b"text/html"
    return False


class HttpEdges:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        upload = UPLOAD_ROUTES.get(path.rstrip("/")) if scope.get("method") == "POST" else None
        limit = upload.limit() if upload else MAX_BODY
        too_large = upload.code if upload else CoreError.PAYLOAD_TOO_LARGE
        page = path.startswith(PAGE_PREFIXES) or path in DOCS_PAGES
        started = False
        refused = False

        async def send_headers(message: dict[str, Any]) -> None:
            nonlocal started
            if refused:
                return  # the 413 is already out: whatever the route makes of its cut-off body is dropped
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                extra = [_NOSNIFF]
                if page and _is_html(headers):
                    extra += _page_headers(path)
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        async def refuse() -> None:
            nonlocal refused
            body = _too_large_body(limit, too_large)
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                        _NOSNIFF,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            refused = True

        length = _content_length(scope)
        if length is not None and length > limit:
            await refuse()
            return

        seen = 0

        async def counted() -> Any:
            nonlocal seen
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    if not started:
                        await refuse()
                    return {"type": "http.disconnect"}
            return message

        try:
            await self.app(scope, counted, send_headers)
        except Exception:
            if refused:
                return  # the route failed on the body we cut off; the client already has its answer
            raise


def _content_length(scope: dict[str, Any]) -> int | None:
    for k, v in scope.get("headers", ()):
        if k == b"content-length":
            try:
                return int(v)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None
