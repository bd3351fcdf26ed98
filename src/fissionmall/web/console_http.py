"""How the console behaves around its pages at the HTTP level (installed by `console.mount`):

- after a successful htmx POST under /admin, the response carries `HX-Trigger: counters-changed`, and
  admin.js re-reads the counters (待发货, 待处理售后…) of the sidebar and the page;
- a GET of an address that only has a POST route (where a plain form's failed post left the address bar)
  is sent back (303) to the nearest page above it: /admin/coupons/new/save → /admin/coupons/new, so a
  reload or Back shows the form again instead of a 405.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COUNTERS_EVENT = "counters-changed"
HOME = "/admin/"


def _with_event(existing: str | None) -> str:
    """An HX-Trigger value with the counters event added to whatever the handler already triggers."""
    if not existing:
        return COUNTERS_EVENT
    if existing.lstrip().startswith("{"):
        events = json.loads(existing)
        events.setdefault(COUNTERS_EVENT, None)
        return json.dumps(events)
    names = [n.strip() for n in existing.split(",")]
    return existing if COUNTERS_EVENT in names else f"{existing}, {COUNTERS_EVENT}"


class TriggerCounters:
    """ASGI middleware: the counters event on every successful htmx POST of the console (login excluded)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_console_action(scope):
            await self.app(scope, receive, send)
            return

        async def send_with_event(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"hx-trigger"]
                old = next(
                    (v.decode("latin-1") for k, v in message.get("headers", []) if k.lower() == b"hx-trigger"), None
                )
                headers.append((b"hx-trigger", _with_event(old).encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_event)


def _is_console_action(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    path: str = scope["path"]
    if not path.startswith("/admin/") or path in ("/admin/login", "/admin/logout"):
        return False
    return any(k.lower() == b"hx-request" and v == b"true" for k, v in scope.get("headers", []))


def trigger_counters(app: FastAPI) -> None:
    """Install TriggerCounters innermost (inside the app's own edges, which stay outermost)."""
    app.user_middleware.append(Middleware(TriggerCounters))


# ---- GET of a POST-only address ------------------------------------------------------------------


def _has_get(routes: Sequence[BaseRoute], path: str) -> bool:
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": [], "query_string": b""}
    return any(r.matches(scope)[0] == Match.FULL for r in routes)


def form_page_of(routes: Sequence[BaseRoute], path: str) -> str:
    """The nearest console page above a POST-only address: its path with the last segments cut off until a
    GET route answers it (/admin/orders/7/ship → /admin/orders/7), else the dashboard."""
    parts = path.rstrip("/").split("/")
    while len(parts) > 2:  # never above /admin
        parts.pop()
        candidate = "/".join(parts)
        if _has_get(routes, candidate):
            return candidate
    return HOME


def back_to_forms(app: FastAPI) -> None:
    """A GET that finds only a POST route under /admin (405) is sent to its form page (see the module doc);
    every other HTTP error goes on to the handler installed before (app.py's)."""
    prior = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405 and request.method == "GET" and request.url.path.startswith("/admin/"):
            return RedirectResponse(form_page_of(request.app.router.routes, request.url.path), status_code=303)
        response = prior(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(StarletteHTTPException, http_error)
