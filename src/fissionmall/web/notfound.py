"""An address no route has, on the pages people read: never the API's JSON 404 in a browser.

- /admin/...: the console's Chinese 404 page (console.unknown_page), in its layout when logged in.
- /shop/... asked for as a page: back to the shop's home, which is what the shop's hash router does with
  a screen it does not know (the shop's screens are #/ addresses, so a path under /shop/ is a bad link).
- Everything else (the API, /static, /media): app.py's JSON body with the code's Chinese text.
"""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fissionmall.web import console


def _wants_page(request: Request) -> bool:
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    """Wrap the app's HTTP error handler (app.py's, already installed) with the pages' own 404s."""
    api_http_error = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        path = request.url.path
        if exc.status_code == 404 and (path == "/admin" or path.startswith("/admin/")):
            return await console.unknown_page(request)
        if exc.status_code == 404 and path.startswith("/shop/") and _wants_page(request):
            return RedirectResponse("/shop/", status_code=303)
        response = api_http_error(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(StarletteHTTPException, http_error)
