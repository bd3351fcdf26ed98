"""The console kit of the merchant console at /admin: who is calling, rendering, forms, login, the dashboard.

Server-rendered Jinja2 pages with htmx for in-place actions. Authentication is the admin token in the
`fm_admin` cookie (httpOnly, SameSite=Strict), read by `accounts.deps.current_admin`. Every POST also
carries a CSRF token derived from that cookie (an HMAC with the secret key), sent by htmx as the
`X-CSRF-Token` header or by plain forms as the `csrf_token` field. The kit imports no domain: each domain's
`admin.py` holds its pages (`router`, `NAV` rows), its words for the templates (`vocabulary`) and its
dashboard figures (`dashboard_part`), and every write goes through a domain service.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from fissionmall import registry
from fissionmall.accounts import service as accounts
from fissionmall.accounts.deps import ADMIN_COOKIE, Admin, current_admin
from fissionmall.accounts.rules import allowed
from fissionmall.core import codes
from fissionmall.core.db import Database, get_db
from fissionmall.core.errors import AppError
from fissionmall.core.kv import get_kv
from fissionmall.core.money import yuan
from fissionmall.core.schemas import parse_cursor, to_local
from fissionmall.core.security import client_ip
from fissionmall.settings import Settings, get_settings
from fissionmall.web import console_http
from fissionmall.web.forms import (
    FormErrors,
    FormInvalid,
    chinese,
    fen_from_yuan,
    field_errors,
    form_to,
    off_bp_from_zhe,
    picker_value,
    whole_number,
    yuan_field,
    zhe_field,
)
from fissionmall.web.nav import HOME, SECTIONS, NavRow, groups, icon
from fissionmall.web.nav import build as build_nav

# The forms half of the kit is re-exported: a domain's admin module imports only this module.
__all__ = ["FormInvalid", "fen_from_yuan", "field_errors", "form_to", "off_bp_from_zhe", "whole_number"]
# marketing forms: every mistake at once, times in the shop's zone, saved amounts shown as typed
__all__ += ["FormErrors", "picker_value", "yuan_field", "zhe_field"]

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

LOGIN_CSRF_COOKIE = "fm_admin_login"
COOKIE_PATH = "/admin"
PAGE_SIZE = 20

# ---- display vocabulary --------------------------------------------------------------------------

ROLE_ZH = {"owner": "店主", "operator": "运营", "finance": "财务", "store_staff": "门店店员"}
PERMISSION_ZH = {
    "marketing": "营销工具",
    "marketing.read": "查看营销",
    "withdrawals": "提现审核",
    "withdrawals.read": "查看提现",
    "catalog": "商品管理",
    "catalog.read": "查看商品",
    "orders": "订单发货",
    "orders.read": "查看订单",
    "refunds": "售后审核",
    "refunds.read": "查看售后",
    "dashboard": "数据概览",
    "system": "系统运维",
    "monitor": "实时监控",
    "staff": "员工管理",
    "customers": "客户管理",
    "customers.read": "查看客户",
}


_FORM_CODES = frozenset({"FORM_INVALID", "VALIDATION_ERROR"})


def error_text(exc: AppError) -> str:
    """A refusal in the operator's words, from the one table the shop reads too (core.codes).

    A form's own mistake reads as its message; a Chinese message more specific than the table's text (one
    with the limit in it, say) is shown with its code; a known code otherwise reads as the table says; an
    English message never reaches an operator."""
    known = codes.table().get(exc.code)
    if exc.code in _FORM_CODES and chinese(exc.message):
        return exc.message  # a form's own mistake: the operator fixes the field, a code tells them nothing
    if chinese(exc.message) and exc.message != known:
        return f"{exc.message}（{exc.code}）"
    if known:
        return known
    return f"操作未成功（{exc.code}）"


def money(fen: int | None) -> str:
    if fen is None:
        return "—"
    return ("-¥" if fen < 0 else "¥") + yuan(abs(fen))


@lru_cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def shop_zone() -> ZoneInfo:
    return _zone(get_settings().timezone)


def local_time(d: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if d is None:
        return "—"
    return to_local(d).strftime(fmt)  # to_local: an old out-of-range row still renders


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def vocabulary(**words: Any) -> None:
    """Make a domain's display words (status names, carriers…) available to every console template."""
    templates.env.globals.update(words)


templates.env.filters["money"] = money
templates.env.filters["dt"] = local_time
templates.env.filters["pretty_json"] = pretty_json
templates.env.globals["icon"] = icon
vocabulary(ROLE_ZH=ROLE_ZH)

# ---- who is calling ------------------------------------------------------------------------------

NAV: list[NavRow] = [HOME]  # filled by `mount` from the domains' admin modules (web/nav.py places them)
NAV_SECTIONS = tuple(SECTIONS)


@dataclass(frozen=True)
class Console:
    """One console request: the admin, the CSRF token of their session, and the shop's plumbing."""

    request: Request
    admin: Admin
    csrf: str
    settings: Settings
    db: Database

    def can(self, permission: str) -> bool:
        return allowed(self.admin.role, permission)

    @property
    def htmx(self) -> bool:
        return _is_htmx(self.request)


class ConsoleExit(Exception):
    """Stop a console request with this response (login redirect, CSRF or permission refusal)."""

    def __init__(self, response: Response) -> None:
        super().__init__("console exit")
        self.response = response


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def csrf_token(settings: Settings, admin_token: str) -> str:
    """The per-session CSRF token: bound to the login token, so it dies with the session."""
    return hmac.new(settings.secret_key.encode(), b"csrf:" + admin_token.encode(), hashlib.sha256).hexdigest()


def _safe_next(target: str | None) -> str:
    """Only a console path may follow a login: never an open redirect to another site."""
    if not target or not target.startswith("/admin") or target.startswith("//") or "\\" in target:
        return "/admin/"
    if target.rstrip("/") in ("/admin/login", "/admin/logout"):
        return "/admin/"
    return target


def _to_login(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = "/admin/login?" + urlencode({"next": here if request.method == "GET" else "/admin/"})
    if _is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _submitted_csrf(request: Request) -> str:
    sent = request.headers.get("x-csrf-token")
    if sent:
        return sent
    form = await request.form()
    value = form.get("csrf_token")
    return value if isinstance(value, str) else ""


def console(permission: str | None = None) -> Callable[..., Awaitable[Console]]:
    """A dependency: a logged-in admin (else to the login page), a valid CSRF token on POST, and `permission`."""

    async def dep(request: Request) -> Console:
        settings, db = get_settings(), get_db()
        token = request.cookies.get(ADMIN_COOKIE)
        if not token:
            raise ConsoleExit(_to_login(request))
        try:
            admin = await current_admin(request, settings, db)
        except AppError:
            response = _to_login(request)
            response.delete_cookie(ADMIN_COOKIE, path=COOKIE_PATH)
            raise ConsoleExit(response) from None
        ctx = Console(request=request, admin=admin, csrf=csrf_token(settings, token), settings=settings, db=db)
        if request.method == "POST" and not hmac.compare_digest(await _submitted_csrf(request), ctx.csrf):
            raise ConsoleExit(
                refusal(ctx, "页面已过期", "安全校验未通过（缺少或错误的 CSRF 令牌）。请刷新页面后重试。")
            )
        if permission is not None and not ctx.can(permission):
            role = ROLE_ZH.get(admin.role, admin.role)
            need = PERMISSION_ZH.get(permission, permission)
            raise ConsoleExit(refusal(ctx, "没有权限", f"你的角色（{role}）没有“{need}”权限。如需开通，请联系店主。"))
        return ctx

    return dep


Anyone = Annotated[Console, Depends(console())]

# ---- rendering -----------------------------------------------------------------------------------


def render(ctx: Console, name: str, *, status_code: int = 200, active: str = "", **context: Any) -> HTMLResponse:
    visible = [row for row in NAV if row.permission is None or ctx.can(row.permission)]
    params = {k: v for k, v in ctx.request.query_params.items() if k not in ("cursor", "ok") and v}
    first_url = ctx.request.url.path + (f"?{urlencode(params)}" if params else "")
    base = {
        "me": ctx.admin,
        "csrf": ctx.csrf,
        "can": ctx.can,
        "nav": [(row.key, row.label, row.href) for row in visible],
        "nav_groups": groups(visible, ctx.can),
        "counted": {key: c.list_href for key, c in _COUNTERS.items() if c.permission is None or ctx.can(c.permission)},
        "active": active,
        "first_url": first_url,
    }
    response = templates.TemplateResponse(ctx.request, f"admin/{name}", {**base, **context}, status_code=status_code)
    return _harden(response)


def _harden(response: HTMLResponse) -> HTMLResponse:
    """Console pages hold shop data: never cached, never framed (clickjacking), no referrer leaks."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def refusal(ctx: Console, title: str, message: str, *, status_code: int = 403) -> HTMLResponse:
    """An error page, or for htmx an alert swapped into the page's message area."""
    if not ctx.htmx:
        return render(ctx, "message.html", status_code=status_code, title=title, message=message, level="error")
    response = render(ctx, "_alert.html", status_code=status_code, title=title, message=message, level="error")
    # Whatever the request meant to swap (a table row, a panel), the refusal goes to the page's message area.
    response.headers["HX-Retarget"] = "#flash"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def not_found(ctx: Console, message: str) -> HTMLResponse:
    """A 404 in the page's words (a refusal to the message area for htmx)."""
    return refusal(ctx, "找不到页面", message, status_code=404)


def cursor_of(raw: str | None) -> int | None:
    """A list page's `cursor` parameter; a broken one starts from the top rather than failing the page."""
    try:
        return parse_cursor(raw)
    except AppError:
        return None


def page_link(request: Request, cursor: str | None) -> str | None:
    """The URL of the next page: the same filters, the new cursor."""
    if cursor is None:
        return None
    params = {k: v for k, v in request.query_params.items() if k != "cursor" and v}
    params["cursor"] = cursor
    return f"{request.url.path}?{urlencode(params)}"


def form_text(form: FormData, name: str, limit: int = 5000) -> str:
    """One typed form field, stripped and cut at `limit` ("" when absent or a file)."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def form_list(form: FormData, name: str) -> list[str]:
    """A repeated form field (one per table row), each stripped."""
    return [v.strip() if isinstance(v, str) else "" for v in form.getlist(name)]


# ---- login ---------------------------------------------------------------------------------------

router = APIRouter(prefix="/admin", include_in_schema=False)


def _login_page(request: Request, *, error: str = "", username: str = "", status_code: int = 200) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request,
        "admin/login.html",
        {
            "error": error,
            "username": username,
            "login_csrf": token,
            "next": _safe_next(request.query_params.get("next")),
        },
        status_code=status_code,
    )
    # Double-submit token for the login form itself (no session exists yet to bind it to).
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path=COOKIE_PATH, secure=not get_settings().dev
    )
    return _harden(response)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    settings, db = get_settings(), get_db()
    form = await request.form()
    username, password = form_text(form, "username", 64), form.get("password")
    sent, expected = form_text(form, "csrf_token", 100), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(sent, expected):
        return _login_page(request, error="页面已过期，请重新提交登录。", username=username, status_code=403)
    ip = client_ip(request, settings.trusted_proxies)
    # The same budget as the API's admin login, so the console is no way around it.
    if not await get_kv().allow(f"admin-login:ip:{ip}", limit=settings.login_rate_per_minute, window_seconds=60):
        return _login_page(request, error="登录尝试过于频繁，请一分钟后再试。", username=username, status_code=429)
    if not username or not isinstance(password, str) or not password or len(password) > 200:
        return _login_page(request, error="请输入用户名和密码。", username=username, status_code=400)
    try:
        _, session = await accounts.login_admin(
            db, username=username, password=password, ttl_seconds=settings.admin_token_ttl_seconds, ip=ip
        )
    except accounts.LoginLocked as exc:
        locked = _login_page(request, error=exc.message, username=username, status_code=429)
        locked.headers["Retry-After"] = str(exc.retry_after)
        return locked
    except AppError:
        return _login_page(request, error="用户名或密码错误。", username=username, status_code=401)
    target = _safe_next(form_text(form, "next", 500))
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(response, settings, accounts.session_token(settings.secret_key, session))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
    return response


def _set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        ADMIN_COOKIE,
        token,
        max_age=settings.admin_token_ttl_seconds,
        httponly=True,
        samesite="strict",
        secure=not settings.dev,
        path=COOKIE_PATH,
    )


@router.post("/logout")
async def logout(ctx: Anyone) -> Response:
    # The session ends in the database, not only in this browser: a copied cookie or token dies with it.
    await accounts.end_session(ctx.db, session_id=ctx.admin.session_id)
    response: Response = RedirectResponse("/admin/login", status_code=303)
    if ctx.htmx:
        response = Response(status_code=200, headers={"HX-Redirect": "/admin/login"})
    response.delete_cookie(ADMIN_COOKIE, path=COOKIE_PATH)
    return response


@router.get("/logout")
async def logout_page(ctx: Anyone) -> Response:
    # Logging out changes state, so it is a POST; a typed-in URL gets the button.
    return render(ctx, "logout.html")


_PASSWORD_ERRORS = {"PASSWORD_WRONG": "old_password", "LOGIN_LOCKED": "old_password"}
_PASSWORD_NOTICE = {"changed": "密码已修改，其他设备上的登录已全部退出。"}


@router.get("/password", response_class=HTMLResponse)
async def password_form(ctx: Anyone) -> Response:
    notice = _PASSWORD_NOTICE.get(ctx.request.query_params.get("ok", ""), "")
    return render(ctx, "password.html", errors={}, notice=notice)


@router.post("/password", response_class=HTMLResponse)
async def password_change(ctx: Anyone) -> Response:
    form = await ctx.request.form()
    old, new, again = (form.get(k) for k in ("old_password", "new_password", "new_password_again"))
    errors: dict[str, str] = {}
    if not isinstance(old, str) or not old or len(old) > 200:
        errors["old_password"] = "请输入原密码"
    if not isinstance(new, str) or len(new) < 8:
        errors["new_password"] = "新密码至少需要 8 个字符"
    elif len(new) > 200:
        errors["new_password"] = "新密码最多 200 个字符"
    elif new != again:
        errors["new_password_again"] = "两次输入的新密码不一致"
    if errors:
        return render(ctx, "password.html", status_code=400, errors=errors)
    assert isinstance(old, str) and isinstance(new, str)
    try:
        session = await accounts.change_password(
            ctx.db,
            admin_id=ctx.admin.id,
            old_password=old,
            new_password=new,
            ttl_seconds=ctx.settings.admin_token_ttl_seconds,
            ip=client_ip(ctx.request, ctx.settings.trusted_proxies),
        )
    except AppError as exc:
        key = _PASSWORD_ERRORS.get(exc.code, "new_password" if exc.code.startswith("PASSWORD_") else "form")
        status = 429 if isinstance(exc, accounts.LoginLocked) else 400
        return render(ctx, "password.html", status_code=status, errors={key: exc.message})
    # Every session ended, this one too: the browser carries on with the new one.
    response = RedirectResponse("/admin/password?ok=changed", status_code=303)
    _set_session_cookie(response, ctx.settings, accounts.session_token(ctx.settings.secret_key, session))
    return response


# ---- dashboard -----------------------------------------------------------------------------------


@router.get("", include_in_schema=False)
async def console_root() -> RedirectResponse:
    return RedirectResponse("/admin/", status_code=307)


DashboardPart = Callable[[Console, AsyncSession], Awaitable[dict[str, Any]]]
_DASHBOARD: list[tuple[str | None, DashboardPart]] = []


def dashboard_part(permission: str | None) -> Callable[[DashboardPart], DashboardPart]:
    """Register a domain's figures for the dashboard, read for an admin with `permission`.

    The part returns the names the dashboard template shows (`by_status`, `today_gmv`, `pending_refunds`…),
    so the kit names no domain and the page reads as one. A list two parts both give is joined: `live`, a list
    of (label, figure, href), is the 进行中的活动 row every marketing tool may add to. The dashboard is the
    merchant's: system figures (jobs, notifications) belong on the 系统 pages."""

    def add(part: DashboardPart) -> DashboardPart:
        _DASHBOARD.append((permission, part))
        return part

    return add


@router.get("/", response_class=HTMLResponse)
async def dashboard(ctx: Anyone) -> Response:
    data: dict[str, Any] = {}
    async with ctx.db.read() as s:
        for permission, part in _DASHBOARD:
            if permission is None or ctx.can(permission):
                for name, value in (await part(ctx, s)).items():
                    joined = isinstance(value, list) and isinstance(data.get(name), list)
                    data[name] = data[name] + value if joined else value
    return render(ctx, "dashboard.html", active="dashboard", **data)


# ---- counters: the sidebar's badges, re-read after every htmx action ----------------------------------

CounterFn = Callable[[Console, AsyncSession], Awaitable[int]]


@dataclass(frozen=True)
class _Counter:
    permission: str | None
    fn: CounterFn
    list_href: str  # the filtered list the figure counts ("" if none): its tab's count follows the badge


_COUNTERS: dict[str, _Counter] = {}


def counter(key: str, permission: str | None, *, list_href: str = "") -> Callable[[CounterFn], CounterFn]:
    """Register a figure that needs the merchant (待发货, 待处理售后…) under `key`, read for an admin with
    `permission`: it is the badge of the NAV row with that key, any element of a page marked
    `data-counter="<key>"` shows it, and so does the `.tab-count` of a link to `list_href`. admin.js re-reads
    /admin/counters when a page loads and after every successful htmx POST (the kit's `counters-changed`
    trigger, web/console_http.py), so no figure stays stale after an action."""

    def add(fn: CounterFn) -> CounterFn:
        if key in _COUNTERS and _COUNTERS[key].fn is not fn:
            raise ValueError(f"counter {key!r} is registered twice")
        _COUNTERS[key] = _Counter(permission, fn, list_href)
        return fn

    return add


async def read_counters(ctx: Console) -> dict[str, int]:
    """The counters this admin may see, read in one transaction."""
    mine = [(key, c.fn) for key, c in _COUNTERS.items() if c.permission is None or ctx.can(c.permission)]
    if not mine:
        return {}
    async with ctx.db.read() as s:
        return {key: int(await fn(ctx, s)) for key, fn in mine}


@router.get("/counters")
async def counters(ctx: Anyone) -> Response:
    response = JSONResponse({"counters": await read_counters(ctx)})
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- mounting ------------------------------------------------------------------------------------


async def _console_exit(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleExit)
    return exc.response


UNKNOWN_PAGE = "没有这个页面，可能是地址输错了，或页面已移动。"


async def unknown_page(request: Request) -> Response:
    """A console address no route has (web/notfound.py sends it here): the 404 in Chinese, in the console's
    layout for a logged-in admin, else on a bare page (never the API's JSON)."""
    settings, db = get_settings(), get_db()
    if token := request.cookies.get(ADMIN_COOKIE):
        try:
            admin = await current_admin(request, settings, db)
        except AppError:
            pass
        else:
            ctx = Console(request=request, admin=admin, csrf=csrf_token(settings, token), settings=settings, db=db)
            return not_found(ctx, UNKNOWN_PAGE)
    page = templates.TemplateResponse(request, "admin/not_found.html", {"message": UNKNOWN_PAGE}, status_code=404)
    return _harden(page)


def mount(app: FastAPI, settings: Settings) -> None:
    """Serve the console under /admin, with every domain's console pages.

    A domain adds pages with an `admin.py` module (found by `registry`) holding `router` (an APIRouter
    with prefix /admin or /admin/<area>), `NAV` rows and optionally `NAV_SECTION` (web/nav.py: a row may
    name its own section; the module's is "marketing" by default). Its handlers take a `Console` from
    `console(permission)` and answer with `render(ctx, "<domain>/<page>.html", active=key)`; templates live
    in web/templates/admin/ and extend "admin/layout.html".
    """
    app.include_router(router)
    modules = registry.import_all("admin")
    for module in modules:
        app.include_router(module.router)
    NAV[:] = build_nav(modules)  # an unknown section or a malformed row stops here, loudly
    console_http.back_to_forms(app)
    console_http.trigger_counters(app)
    app.add_exception_handler(ConsoleExit, _console_exit)
