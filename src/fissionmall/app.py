"""The ASGI application: /api/v1 (shop), /api/admin/v1 (console API), /admin, /shop."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fissionmall import __version__, registry
from fissionmall.accounts.state import forget_customer_state
from fissionmall.addresses.state import forget_address_state
from fissionmall.core import cache, codes, jobs, metrics
from fissionmall.core.db import init_db
from fissionmall.core.errors import AppError, CoreError
from fissionmall.core.http import HttpEdges
from fissionmall.core.inputs import RefuseControlCharacters
from fissionmall.core.kv import init_kv
from fissionmall.core.media import MediaFiles
from fissionmall.models import load_handlers
from fissionmall.payments.service import forget_payer_state
from fissionmall.payments.wechatpay.gateway import register_gateways
from fissionmall.risk import ask as risk_ask
from fissionmall.risk import engine as risk_engine
from fissionmall.settings import Settings, get_settings, use_settings

log = logging.getLogger("fissionmall")

_HTTP_CODES = {
    401: CoreError.AUTH_REQUIRED,
    403: CoreError.FORBIDDEN,
    404: CoreError.NOT_FOUND,
    405: CoreError.METHOD_NOT_ALLOWED,
    406: CoreError.NOT_ACCEPTABLE,
    413: CoreError.PAYLOAD_TOO_LARGE,
    415: CoreError.UNSUPPORTED_MEDIA_TYPE,
}


def _error(status: int, code: CoreError, detail: Any = None) -> JSONResponse:
    err: dict[str, Any] = {"code": code.value, "message": code.text}
    if detail is not None:
        err["detail"] = detail
    return JSONResponse({"error": err}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, CoreError.MALFORMED_JSON)
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors]
        return _error(422, CoreError.VALIDATION_ERROR, detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # A JSON body that is not UTF-8: FastAPI's generic parse error, the fast lane's MALFORMED_JSON.
            return _error(400, CoreError.MALFORMED_JSON)
        # Starlette's detail is an English reason phrase ("Not Found"): the code's Chinese text goes out instead.
        return _error(exc.status_code, _HTTP_CODES.get(exc.status_code, CoreError.HTTP_ERROR))

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        # A number past what the database stores (validation should have bounded it): the client's, not ours.
        log.warning("overflow reached the database: %s", exc)
        return _error(400, CoreError.VALUE_OUT_OF_RANGE)

    # SQLAlchemy 2.1 raises the driver's errors as a bare DBAPIError (asyncpg's come through its adapter), not
    # always the DataError / IntegrityError subclasses, so the driver's cause decides, never the wrapper's class.
    @app.exception_handler(DBAPIError)
    async def _database_error(_: Request, exc: DBAPIError) -> JSONResponse:
        kind = _driver_error_kind(exc)
        if kind is None:
            raise exc  # not the request's fault: a real 500, logged as one
        status, code = _DB_ERRORS[kind]
        log.warning("database refused a value (%s): %s", code, exc.orig)
        return _error(status, code)


_DB_ERRORS = {
    "range": (400, CoreError.VALUE_OUT_OF_RANGE),
    "length": (400, CoreError.VALUE_TOO_LONG),
    "value": (400, CoreError.INVALID_VALUE),
    # A database guard fired behind the service checks (e.g. two racing creates): a conflict, not a crash.
    "conflict": (409, CoreError.CONFLICT),
}


def _causes(exc: BaseException) -> list[BaseException]:
    """The driver's exception and what caused it: DBAPIError.orig, then each __cause__ / __context__."""
    chain: list[BaseException] = []
    e: BaseException | None = getattr(exc, "orig", None) or exc.__cause__
    while e is not None and e not in chain and len(chain) < 8:
        chain.append(e)
        e = e.__cause__ or e.__context__
    return chain


def _driver_error_kind(exc: DBAPIError) -> str | None:
    """Which client error a database error is ("range", "length", "value", "conflict"), or None for a bug.

    asyncpg reports SQLSTATE (class 22: data exception, 23: integrity constraint violation); its own
    argument encoding raises DataError 22000 caused by OverflowError / UnicodeEncodeError (a TypeError
    there is our code passing a wrong type). sqlite3 raises IntegrityError, DataError or OverflowError."""
    causes = _causes(exc)
    if any(isinstance(c, TypeError) for c in causes):
        return None
    states = [str(s) for c in causes if (s := getattr(c, "sqlstate", None))]
    if isinstance(exc, IntegrityError) or any(s.startswith("23") for s in states):
        return "conflict"
    if any(isinstance(c, sqlite3.IntegrityError) for c in causes):
        return "conflict"
    if any(isinstance(c, OverflowError) for c in causes) or any(s in ("22003", "22008") for s in states):
        return "range"
    if "22001" in states:
        return "length"
    if isinstance(exc, DataError) or any(s.startswith("22") for s in states):
        return "value"
    if any(isinstance(c, sqlite3.DataError | UnicodeError) for c in causes):
        return "value"
    return None


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None) -> FastAPI:
    """Build the app. `run_worker` overrides whether the job worker runs inside this process."""
    settings = settings or get_settings()
    load_handlers()
    worker = settings.run_worker_in_serve if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        use_settings(settings)
        forget_customer_state()  # a new database may reuse customer ids
        forget_address_state()
        forget_payer_state()
        cache.forget_all()  # cached catalogue and promotions belong to the database we leave
        metrics.forget_minutes()  # the console's per-minute request figures too
        risk_engine.forget()  # the risk layer's counts, credit and queued decisions too
        risk_ask.forget()  # and the tools' report throttle and refusal counts
        # the exposures it knows written (ids start again in a new database); imported here, after
        # load_handlers, so importing it never moves its place in checkout's chain
        from fissionmall.experiments import checkout as experiments_checkout

        experiments_checkout.forget()
        db = init_db(
            settings.db_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            sql_stats=settings.sql_stats,
        )
        kv = init_kv(settings.redis_url, settings.redis_prefix)
        register_gateways(settings)  # sandbox always; WeChat Pay when configured
        stop = asyncio.Event()
        task = None
        stats_task = None
        if settings.sql_stats:  # the bench's counters (FISSIONMALL_SQL_STATS=1), never on by default
            from fissionmall.core import sqlstats

            stats_task = asyncio.create_task(sqlstats.writer(settings.var_dir / "sql-stats", stop))
        if worker:
            task = asyncio.create_task(
                jobs.run_worker(
                    db, stop, poll_seconds=settings.worker_poll_seconds, max_attempts=settings.job_max_attempts
                )
            )
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                with suppress(asyncio.CancelledError):
                    await task
            if stats_task is not None:
                with suppress(asyncio.CancelledError):
                    await stats_task
            await risk_engine.close(db)  # the queued decisions written, its background work stopped
            await kv.close()
            await db.dispose()

    app = FastAPI(
        title="fissionmall",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's docs pages load from a CDN: web/docs.py serves them from vendored files
        redoc_url=None,
        description="Marketing-driven mall engine for WeChat mini-programs. Money is integer fen (`*_fen`), "
        'rates basis points (`*_bp`). Errors: `{"error": {"code", "message"}}`.',
    )
    _install_error_handlers(app)
    app.add_middleware(RefuseControlCharacters)
    app.add_middleware(HttpEdges)  # a body too large is refused before anything reads it
    metrics.mount(app)  # GET /metrics, and the request counters outermost (a 413 is counted too)

    app.include_router(codes.router, prefix="/api/v1")  # the error-text table the shop and console share
    for module in registry.import_all("router"):
        if hasattr(module, "router"):
            app.include_router(module.router, prefix="/api/v1")
        if hasattr(module, "admin_router"):
            app.include_router(module.admin_router, prefix="/api/admin/v1")

    from fissionmall.web import docs, mount

    mount(app, settings)
    docs.mount(app)  # /docs, /redoc (offline) and /favicon.ico

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/shop/")

    settings.media_dir.mkdir(parents=True, exist_ok=True)
    app.mount(
        "/media", MediaFiles(directory=settings.media_dir, redirect_base=settings.media_public_base), name="media"
    )
    return app
