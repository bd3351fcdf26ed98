"""The merchant console at /admin: server-rendered Jinja2 pages with htmx for in-place actions.

Authentication is the admin token in the `fm_admin` cookie (httpOnly, SameSite=Strict), read by
`accounts.deps.current_admin`. Every POST also carries a CSRF token derived from that cookie (an
HMAC with the secret key), sent by htmx as the `X-CSRF-Token` header or by plain forms as the
`csrf_token` field. The pages only orchestrate: every write goes through a domain service.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from fissionmall import registry
from fissionmall.accounts import service as accounts
from fissionmall.accounts.deps import ADMIN_COOKIE, Admin, current_admin
from fissionmall.accounts.rules import allowed
from fissionmall.catalog import service as catalog
from fissionmall.catalog.models import Product
from fissionmall.catalog.schemas import ProductCreate, ProductUpdate
from fissionmall.core import clock, codes, jobs
from fissionmall.core.db import Database, get_db
from fissionmall.core.errors import AppError
from fissionmall.core.kv import get_kv
from fissionmall.core.money import yuan
from fissionmall.core.schemas import MAX_FEN, IdPath, parse_cursor, to_local
from fissionmall.core.security import client_ip
from fissionmall.ops import service as ops
from fissionmall.ops.errors import OpsError
from fissionmall.orders import reports
from fissionmall.orders import service as orders
from fissionmall.orders.models import Order, Refund
from fissionmall.orders.rules import ORDER_STATUSES, REFUND_TRANSITIONS
from fissionmall.orders.schemas import RejectIn, ShipIn
from fissionmall.payments import service as payments
from fissionmall.settings import Settings, get_settings

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
}
ORDER_STATUS_ZH = {
    "pending_payment": "待付款",
    "paid": "待发货",
    "shipped": "已发货",
    "received": "已收货",
    "completed": "已完成",
    "cancelled": "已取消",
    "closed": "已关闭",
}
REFUND_STATUS_ZH = {
    "pending": "待处理",
    "processing": "退款中",
    "succeeded": "已退款",
    "rejected": "已拒绝",
    "failed": "退款失败",
}
REFUND_KIND_ZH = {"after_sales": "售后退款", "late_payment": "超时支付退回"}
PRODUCT_STATUS_ZH = {"on_sale": "在售", "off_sale": "已下架"}
JOB_STATUS_ZH = {"pending": "待执行", "done": "已完成", "dead": "死信"}
NOTE_KIND_ZH = {"payment": "支付", "refund": "退款", "unknown": "未知"}
NOTE_OUTCOME_ZH = {
    "applied": "已处理",
    "duplicate": "重复通知",
    "signature_invalid": "签名错误",
    "notification_malformed": "报文格式错误",
    "signature_missing": "缺少签名",
    "signature_probe": "签名探测请求",
    "serial_unknown": "证书序列号不符",
    "timestamp_invalid": "时间戳无效",
    "timestamp_stale": "时间戳过期",
    "decrypt_failed": "报文解密失败",
    "notification_unsupported": "不支持的通知类型",
    "unknown_reference": "找不到对应单据",
    "amount_mismatch": "金额不符",
    "not_success": "支付未成功",
    "failed": "退款失败",
    "refunded_late_payment": "迟到支付已原路退回",
}
NOTE_OK = frozenset({"applied", "duplicate"})
SOURCE_ZH = {"normal": "普通订单", "seckill": "秒杀", "groupbuy": "拼团", "bargain": "砍价"}
CANCEL_REASON_ZH = {"timeout": "超时未支付", "customer": "买家取消", "group_expired": "拼团失败自动取消"}
GATEWAY_ZH = {"sandbox": "沙箱支付", "wechatpay": "微信支付"}
CARRIERS = ("顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流", "EMS", "极兔速递")


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# Shared codes in the shipping panel's words (a shopper asking for a second refund reads the table's text).
SHIP_ZH = {"REFUND_PENDING": "该订单有待处理的售后申请，请先处理售后再发货"}


def error_text(exc: AppError) -> str:
    """A refusal in the operator's words, from the one table the shop reads too (core.codes).

    A Chinese message more specific than the table's text (one with the limit in it, say) is shown with
    its code; a known code otherwise reads as the table says; an English message never reaches an operator."""
    known = codes.table().get(exc.code)
    if _chinese(exc.message) and exc.message != known:
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


templates.env.filters["money"] = money
templates.env.filters["dt"] = local_time
templates.env.filters["pretty_json"] = pretty_json
templates.env.globals.update(
    ROLE_ZH=ROLE_ZH,
    ORDER_STATUS_ZH=ORDER_STATUS_ZH,
    REFUND_STATUS_ZH=REFUND_STATUS_ZH,
    REFUND_KIND_ZH=REFUND_KIND_ZH,
    PRODUCT_STATUS_ZH=PRODUCT_STATUS_ZH,
    JOB_STATUS_ZH=JOB_STATUS_ZH,
    NOTE_KIND_ZH=NOTE_KIND_ZH,
    NOTE_OUTCOME_ZH=NOTE_OUTCOME_ZH,
    NOTE_OK=NOTE_OK,
    SOURCE_ZH=SOURCE_ZH,
    CANCEL_REASON_ZH=CANCEL_REASON_ZH,
    GATEWAY_ZH=GATEWAY_ZH,
    CARRIERS=CARRIERS,
)

# ---- who is calling ------------------------------------------------------------------------------

NAV: list[tuple[str, str, str, str | None]] = [
    # key, label, href, permission needed to see it
    ("dashboard", "概览", "/admin/", None),
    ("products", "商品", "/admin/products", "catalog.read"),
    ("orders", "订单", "/admin/orders", "orders.read"),
    ("refunds", "售后", "/admin/refunds", "refunds.read"),
    ("jobs", "任务/死信", "/admin/jobs", "system"),
    ("notifications", "支付通知", "/admin/notifications", "system"),
]


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
                _refusal(ctx, "页面已过期", "安全校验未通过（缺少或错误的 CSRF 令牌）。请刷新页面后重试。")
            )
        if permission is not None and not ctx.can(permission):
            role = ROLE_ZH.get(admin.role, admin.role)
            need = PERMISSION_ZH.get(permission, permission)
            raise ConsoleExit(_refusal(ctx, "没有权限", f"你的角色（{role}）没有“{need}”权限。如需开通，请联系店主。"))
        return ctx

    return dep


Anyone = Annotated[Console, Depends(console())]
CatalogRead = Annotated[Console, Depends(console("catalog.read"))]
CatalogWrite = Annotated[Console, Depends(console("catalog"))]
OrdersRead = Annotated[Console, Depends(console("orders.read"))]
OrdersWrite = Annotated[Console, Depends(console("orders"))]
RefundsRead = Annotated[Console, Depends(console("refunds.read"))]
RefundsWrite = Annotated[Console, Depends(console("refunds"))]
System = Annotated[Console, Depends(console("system"))]

# ---- rendering -----------------------------------------------------------------------------------


def render(ctx: Console, name: str, *, status_code: int = 200, active: str = "", **context: Any) -> HTMLResponse:
    nav = [(key, label, href) for key, label, href, perm in NAV if perm is None or ctx.can(perm)]
    params = {k: v for k, v in ctx.request.query_params.items() if k not in ("cursor", "ok") and v}
    first_url = ctx.request.url.path + (f"?{urlencode(params)}" if params else "")
    base = {"me": ctx.admin, "csrf": ctx.csrf, "can": ctx.can, "nav": nav, "active": active, "first_url": first_url}
    response = templates.TemplateResponse(ctx.request, f"admin/{name}", {**base, **context}, status_code=status_code)
    return _harden(response)


def _harden(response: HTMLResponse) -> HTMLResponse:
    """Console pages hold shop data: never cached, never framed (clickjacking), no referrer leaks."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _refusal(ctx: Console, title: str, message: str, *, status_code: int = 403) -> HTMLResponse:
    if not ctx.htmx:
        return render(ctx, "message.html", status_code=status_code, title=title, message=message, level="error")
    response = render(ctx, "_alert.html", status_code=status_code, title=title, message=message, level="error")
    # Whatever the request meant to swap (a table row, a panel), the refusal goes to the page's message area.
    response.headers["HX-Retarget"] = "#flash"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def _not_found(ctx: Console, message: str) -> HTMLResponse:
    return _refusal(ctx, "找不到页面", message, status_code=404)


def _cursor(raw: str | None) -> int | None:
    try:
        return parse_cursor(raw)
    except AppError:
        return None


def _page_link(request: Request, cursor: str | None) -> str | None:
    """The URL of the next page: the same filters, the new cursor."""
    if cursor is None:
        return None
    params = {k: v for k, v in request.query_params.items() if k != "cursor" and v}
    params["cursor"] = cursor
    return f"{request.url.path}?{urlencode(params)}"


def _field(form: FormData, name: str, limit: int = 5000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _list(form: FormData, name: str) -> list[str]:
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
    username, password = _field(form, "username", 64), form.get("password")
    sent, expected = _field(form, "csrf_token", 100), request.cookies.get(LOGIN_CSRF_COOKIE, "")
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
    target = _safe_next(_field(form, "next", 500))
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


def _today_start() -> datetime:
    local = clock.now().astimezone(shop_zone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@router.get("", include_in_schema=False)
async def console_root() -> RedirectResponse:
    return RedirectResponse("/admin/", status_code=307)


@router.get("/", response_class=HTMLResponse)
async def dashboard(ctx: Anyone) -> Response:
    data: dict[str, Any] = {}
    async with ctx.db.read() as s:
        if ctx.can("orders.read"):
            data["by_status"] = await orders.count_by_status(s)
            data["recent"], _ = await orders.list_orders(s, limit=6)
        if ctx.can("dashboard"):
            today = _today_start()
            data["today_orders"], data["today_gmv"], _ = await reports.paid_figures(s, today)
            data["total_orders"], data["total_gmv"], data["total_refunded"] = await reports.paid_figures(s, None)
            data["today_label"] = today.strftime("%m月%d日")
        if ctx.can("refunds.read"):
            data["pending_refunds"] = await reports.count_refunds(s, "pending")
        if ctx.can("system"):
            data["jobs"] = await ops.job_counts(s)
    return render(ctx, "dashboard.html", active="dashboard", statuses=ORDER_STATUSES, **data)


# ---- products ------------------------------------------------------------------------------------

_YUAN = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,2})?$")
_INT = re.compile(r"^[0-9]{1,12}$")
_LABEL_SPLIT = re.compile(r"[,，、;；\n]+")
MAX_STOCK = 100_000_000


def fen_from_yuan(text: str) -> int | None:
    """'19.90' → 1990, exactly (decimal, never float). None for anything that is not a price."""
    t = unicodedata.normalize("NFKC", text).strip().lstrip("¥").strip()
    if not _YUAN.match(t):
        return None
    fen = int(Decimal(t) * 100)
    return fen if fen <= MAX_FEN else None


@dataclass
class SkuRow:
    id: str = ""
    name: str = ""
    price: str = ""
    stock: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # field ("name", "price", "stock") → message


@dataclass
class ProductForm:
    """What the operator typed, kept as text so a refused form comes back exactly as it was."""

    title: str = ""
    category: str = ""
    description: str = ""
    labels: str = ""
    status: str = "on_sale"
    skus: list[SkuRow] = field(default_factory=lambda: [SkuRow()])
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(r.errors for r in self.skus)

    @classmethod
    def from_product(cls, p: Product) -> ProductForm:
        return cls(
            title=p.title,
            category=p.category.name if p.category else "",
            description=p.description,
            labels="，".join(str(x) for x in p.labels),
            status=p.status,
            skus=[
                SkuRow(id=str(k.id), name=k.name, price=yuan(k.price_fen), stock=str(k.stock))
                for k in p.skus
                if k.is_active
            ],
        )

    @classmethod
    def from_form(cls, form: FormData) -> ProductForm:
        ids, names, prices, stocks = (_list(form, f"sku_{k}") for k in ("id", "name", "price", "stock"))
        n = max(len(ids), len(names), len(prices), len(stocks))
        rows = []
        for i in range(n):
            sku_id, name, price, stock = (col[i] if i < len(col) else "" for col in (ids, names, prices, stocks))
            row = SkuRow(id=sku_id, name=name, price=price, stock=stock)
            if row.id or row.name or row.price or row.stock:  # a blank row added by mistake is no row
                rows.append(row)
        return cls(
            title=_field(form, "title", 500),
            category=_field(form, "category", 200),
            description=_field(form, "description", 10_000),
            labels=_field(form, "labels", 1000),
            status=_field(form, "status", 20),
            skus=rows,
        )

    def label_list(self) -> list[str]:
        return [x.strip() for x in _LABEL_SPLIT.split(self.labels) if x.strip()]

    def validate(self) -> dict[str, Any] | None:
        """The request body for the catalog schemas, or None with the errors filled in (in Chinese)."""
        e = self.errors
        if not self.title:
            e["title"] = "请填写商品标题"
        elif len(self.title) > 120:
            e["title"] = "商品标题最多 120 个字"
        if len(self.category) > 64:
            e["category"] = "分类名称最多 64 个字"
        if len(self.description) > 5000:
            e["description"] = "商品描述最多 5000 个字"
        labels = self.label_list()
        if len(labels) > 10:
            e["labels"] = "最多 10 个标签"
        elif any(len(x) > 16 for x in labels):
            e["labels"] = "每个标签最多 16 个字"
        if self.status not in PRODUCT_STATUS_ZH:
            e["status"] = "请选择商品状态"
        if not self.skus:
            e["skus"] = "至少需要一个规格"
        elif len(self.skus) > 100:
            e["skus"] = "最多 100 个规格"
        skus = []
        for row in self.skus:
            if row.id and not _INT.match(row.id):
                row.errors["name"] = "规格编号无效，请刷新页面"
            elif not row.name:
                row.errors["name"] = "请填写规格名称"
            elif len(row.name) > 64:
                row.errors["name"] = "规格名称最多 64 个字"
            price = fen_from_yuan(row.price)
            if price is None:
                row.errors["price"] = "价格格式不正确，请填写金额（元），例如 19.90"
            stock = unicodedata.normalize("NFKC", row.stock).strip()
            if not _INT.match(stock) or int(stock) > MAX_STOCK:
                row.errors["stock"] = "库存须为 0 到 100000000 之间的整数"
            if not row.errors:
                skus.append(
                    {"id": int(row.id) if row.id else None, "name": row.name, "price_fen": price, "stock": int(stock)}
                )
        if self.has_errors:
            return None
        return {
            "title": self.title,
            "category": self.category or None,
            "description": self.description,
            "labels": labels,
            "status": self.status,
            "skus": skus,
        }


def _schema_errors(form: ProductForm, exc: ValidationError) -> None:
    """A refusal by the schema that the form checks missed: name the field, never lose it."""
    names = {"title": "商品标题", "category": "分类", "description": "商品描述", "labels": "标签", "status": "状态"}
    for err in exc.errors():
        loc = err.get("loc", ())
        key = str(loc[0]) if loc else "form"
        if key == "skus" and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(form.skus):
            column = {"price_fen": "price", "stock": "stock"}.get(str(loc[2]) if len(loc) > 2 else "", "name")
            form.skus[loc[1]].errors[column] = "该项填写有误"
        else:
            form.errors[key if key in names else "form"] = f"{names.get(key, '表单')}填写有误"


def _product_row(p: Product) -> dict[str, Any]:
    skus = [k for k in p.skus if k.is_active]
    prices = [k.price_fen for k in skus]
    return {
        "id": p.id,
        "title": p.title,
        "image": p.images[0] if p.images else None,
        "category": p.category.name if p.category else "",
        "labels": list(p.labels),
        "low": min(prices, default=0),
        "high": max(prices, default=0),
        "stock": sum(k.stock for k in skus),
        "sold": sum(k.sold for k in p.skus),
        "skus": len(skus),
        "status": p.status,
        "updated_at": p.updated_at,
    }


_NOTICES = {
    "created": "商品已创建",
    "saved": "修改已保存",
    "deleted": "商品已下架删除",
    "shipped": "已发货",
}


def _notice(request: Request) -> str:
    return _NOTICES.get(request.query_params.get("ok", ""), "")


@router.get("/products", response_class=HTMLResponse)
async def products(ctx: CatalogRead, q: str = "", status: str = "", cursor: str = "") -> Response:
    q = q.strip()[:60]
    status = status if status in PRODUCT_STATUS_ZH else ""
    async with ctx.db.read() as s:
        rows, nxt = await catalog.list_products(
            s, q=q or None, status=status or None, before_id=_cursor(cursor), limit=PAGE_SIZE, include_hidden=True
        )
    return render(
        ctx,
        "products.html",
        active="products",
        rows=[_product_row(p) for p in rows],
        q=q,
        status=status,
        next_url=_page_link(ctx.request, nxt),
        paged=bool(cursor),
        notice=_notice(ctx.request),
    )


async def _categories(db: Database) -> list[str]:
    async with db.read() as s:
        return [c.name for c in await catalog.list_categories(s)]


async def _product_page(
    ctx: Console, form: ProductForm, *, product: Product | None = None, status_code: int = 200, notice: str = ""
) -> HTMLResponse:
    return render(
        ctx,
        "product_form.html",
        status_code=status_code,
        active="products",
        form=form,
        product=product,
        categories=await _categories(ctx.db),
        readonly=not ctx.can("catalog"),
        notice=notice,
    )


@router.get("/products/new", response_class=HTMLResponse)
async def product_new(ctx: CatalogWrite) -> Response:
    return await _product_page(ctx, ProductForm())


@router.post("/products/new", response_class=HTMLResponse)
async def product_create(ctx: CatalogWrite) -> Response:
    form = ProductForm.from_form(await ctx.request.form())
    body = form.validate()
    if body is not None:
        try:
            data = ProductCreate.model_validate(body)
        except ValidationError as exc:
            _schema_errors(form, exc)
        else:
            try:
                async with ctx.db.tx() as s:
                    p = await catalog.create_product(s, data=data)
            except AppError as exc:
                form.errors["form"] = error_text(exc)
            else:
                return RedirectResponse(f"/admin/products/{p.id}?ok=created", status_code=303)
    return await _product_page(ctx, form, status_code=422)


async def _load_product(ctx: Console, product_id: int) -> Product | None:
    try:
        async with ctx.db.read() as s:
            return await catalog.get_product(s, product_id=product_id, include_hidden=True)
    except AppError:
        return None


@router.get("/products/{product_id}", response_class=HTMLResponse)
async def product_edit(ctx: CatalogRead, product_id: IdPath) -> Response:
    p = await _load_product(ctx, product_id)
    if p is None:
        return _not_found(ctx, "该商品不存在或已删除。")
    return await _product_page(ctx, ProductForm.from_product(p), product=p, notice=_notice(ctx.request))


@router.post("/products/{product_id}", response_class=HTMLResponse)
async def product_update(ctx: CatalogWrite, product_id: IdPath) -> Response:
    p = await _load_product(ctx, product_id)
    if p is None:
        return _not_found(ctx, "该商品不存在或已删除。")
    form = ProductForm.from_form(await ctx.request.form())
    body = form.validate()
    if body is not None:
        try:
            data = ProductUpdate.model_validate(body)
        except ValidationError as exc:
            _schema_errors(form, exc)
        else:
            try:
                async with ctx.db.tx() as s:
                    await catalog.update_product(s, product_id=product_id, data=data)
            except AppError as exc:
                form.errors["form"] = error_text(exc)
            else:
                return RedirectResponse(f"/admin/products/{product_id}?ok=saved", status_code=303)
    return await _product_page(ctx, form, product=p, status_code=422)


@router.post("/products/{product_id}/delete")
async def product_delete(ctx: CatalogWrite, product_id: IdPath) -> Response:
    try:
        async with ctx.db.tx() as s:
            await catalog.delete_product(s, product_id=product_id)
    except AppError:
        return _not_found(ctx, "该商品不存在或已删除。")
    return RedirectResponse("/admin/products?ok=deleted", status_code=303)


# ---- orders --------------------------------------------------------------------------------------

ORDER_TABS = (("", "全部"), *((st, ORDER_STATUS_ZH[st]) for st in ORDER_STATUSES))


@router.get("/orders", response_class=HTMLResponse)
async def order_list(ctx: OrdersRead, status: str = "", q: str = "", cursor: str = "") -> Response:
    q = q.strip()[:32]
    status = status if status in ORDER_STATUS_ZH else ""
    async with ctx.db.read() as s:
        rows, nxt = await orders.list_orders(
            s, status=status or None, q=q or None, before_id=_cursor(cursor), limit=PAGE_SIZE
        )
        counts = await orders.count_by_status(s)
    tabs = [
        (
            key,
            label,
            counts.get(key) if key else sum(counts.values()),
            "/admin/orders?" + urlencode(_drop_empty(key, q)),
        )
        for key, label in ORDER_TABS
    ]
    return render(
        ctx,
        "orders.html",
        active="orders",
        rows=rows,
        tabs=tabs,
        status=status,
        q=q,
        next_url=_page_link(ctx.request, nxt),
        paged=bool(cursor),
    )


def _drop_empty(status: str, q: str) -> dict[str, str]:
    return {k: v for k, v in {"status": status, "q": q}.items() if v}


def _timeline(o: Order) -> list[tuple[str, datetime | None]]:
    steps = [("下单", o.created_at), ("付款", o.paid_at), ("发货", o.shipped_at), ("确认收货", o.received_at)]
    steps.append(("完成", o.completed_at))
    if o.cancelled_at:
        steps = [("下单", o.created_at), ("取消", o.cancelled_at)]
    elif o.closed_at:
        steps = [(label, at) for label, at in steps if at]
        steps.append(("关闭（已全额退款）", o.closed_at))
    return steps


async def _order_context(s: AsyncSession, order_id: int) -> dict[str, Any]:
    o = await orders.get_order(s, order_id=order_id)
    return {
        "order": o,
        "timeline": _timeline(o),
        "refunds": await orders.refunds_of(s, o.id),
        "payment": await payments.paid_payment_of(s, o.id),
        "customer": await accounts.get_customer(s, o.customer_id),
    }


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_detail(ctx: OrdersRead, order_id: IdPath) -> Response:
    try:
        async with ctx.db.read() as s:
            data = await _order_context(s, order_id)
    except AppError:
        return _not_found(ctx, "该订单不存在。")
    return render(ctx, "order_detail.html", active="orders", notice=_notice(ctx.request), **data)


def _ship_error(exc: ValidationError) -> str:
    fields = {str(e.get("loc", ("",))[0]) for e in exc.errors()}
    if "carrier" in fields:
        return "请填写快递公司"
    return "快递单号应为 4 到 40 位字母、数字或短横线"


@router.post("/orders/{order_id}/ship", response_class=HTMLResponse)
async def order_ship(ctx: OrdersWrite, order_id: IdPath) -> Response:
    form = await ctx.request.form()
    typed = {"carrier": _field(form, "carrier", 64), "tracking_no": _field(form, "tracking_no", 64)}
    error = ""
    try:
        body = ShipIn.model_validate(typed)
    except ValidationError as exc:
        error = _ship_error(exc)
    else:
        try:
            async with ctx.db.tx() as s:
                await orders.ship(
                    s, order_id=order_id, carrier=body.carrier, tracking_no=body.tracking_no, settings=ctx.settings
                )
        except AppError as exc:
            error = SHIP_ZH.get(exc.code) or error_text(exc)
    if not error and not ctx.htmx:
        return RedirectResponse(f"/admin/orders/{order_id}?ok=shipped", status_code=303)
    try:
        async with ctx.db.read() as s:
            data = await _order_context(s, order_id)
    except AppError:
        return _not_found(ctx, "该订单不存在。")
    status_code = 409 if error else 200
    name = "_order_status.html" if ctx.htmx else "order_detail.html"
    return render(
        ctx, name, status_code=status_code, active="orders", ship_error=error, typed=typed if error else {}, **data
    )


# ---- refunds -------------------------------------------------------------------------------------

REFUND_TABS = (("", "全部"), *((st, REFUND_STATUS_ZH[st]) for st in REFUND_TRANSITIONS))


async def _order_numbers(s: AsyncSession, refunds: list[Refund]) -> dict[int, str]:
    numbers: dict[int, str] = {}
    for order_id in {r.order_id for r in refunds}:
        numbers[order_id] = (await orders.get_order(s, order_id=order_id)).no
    return numbers


@router.get("/refunds", response_class=HTMLResponse)
async def refund_list(ctx: RefundsRead, status: str = "", cursor: str = "") -> Response:
    status = status if status in REFUND_STATUS_ZH else ""
    async with ctx.db.read() as s:
        rows, nxt = await orders.list_refunds(s, status=status or None, before_id=_cursor(cursor), limit=PAGE_SIZE)
        numbers = await _order_numbers(s, rows)
        pending = await reports.count_refunds(s, "pending")
    tabs = [(key, label, "/admin/refunds" + (f"?status={key}" if key else "")) for key, label in REFUND_TABS]
    return render(
        ctx,
        "refunds.html",
        active="refunds",
        rows=rows,
        numbers=numbers,
        tabs=tabs,
        status=status,
        pending=pending,
        next_url=_page_link(ctx.request, nxt),
        paged=bool(cursor),
    )


async def _refund_row(ctx: Console, refund_id: int, *, error: str = "", status_code: int = 200) -> Response:
    try:
        async with ctx.db.read() as s:
            r = await orders.get_refund(s, refund_id=refund_id)
            numbers = await _order_numbers(s, [r])
    except AppError:
        return _not_found(ctx, "该售后单不存在。")
    return render(ctx, "_refund_row.html", status_code=status_code, r=r, numbers=numbers, row_error=error)


@router.get("/refunds/{refund_id}/row", response_class=HTMLResponse)
async def refund_row(ctx: RefundsRead, refund_id: IdPath) -> Response:
    return await _refund_row(ctx, refund_id)


async def _decided(ctx: Console, refund_id: int, error: str) -> Response:
    if ctx.htmx:
        return await _refund_row(ctx, refund_id, error=error, status_code=409 if error else 200)
    if error:
        return _refusal(ctx, "无法处理售后", error, status_code=409)
    return RedirectResponse("/admin/refunds", status_code=303)


@router.post("/refunds/{refund_id}/approve", response_class=HTMLResponse)
async def refund_approve(ctx: RefundsWrite, refund_id: IdPath) -> Response:
    error = ""
    try:
        async with ctx.db.tx() as s:
            await orders.approve_refund(s, refund_id=refund_id, admin_id=ctx.admin.id)
    except AppError as exc:
        error = error_text(exc)
    return await _decided(ctx, refund_id, error)


@router.post("/refunds/{refund_id}/reject", response_class=HTMLResponse)
async def refund_reject(ctx: RefundsWrite, refund_id: IdPath) -> Response:
    form = await ctx.request.form()
    error = ""
    try:
        body = RejectIn.model_validate({"reason": _field(form, "reason", 500)})
    except ValidationError:
        error = "请填写拒绝原因（最多 200 字）"
    else:
        try:
            async with ctx.db.tx() as s:
                await orders.reject_refund(s, refund_id=refund_id, admin_id=ctx.admin.id, reason=body.reason)
        except AppError as exc:
            error = error_text(exc)
    return await _decided(ctx, refund_id, error)


# ---- jobs and gateway notifications --------------------------------------------------------------


@router.get("/jobs", response_class=HTMLResponse)
async def job_list(ctx: System) -> Response:
    async with ctx.db.read() as s:
        counts = await ops.job_counts(s)
        dead = await ops.list_jobs(s, status="dead", limit=100)
    return render(ctx, "jobs.html", active="jobs", counts=counts, dead=dead)


@router.post("/jobs/{job_id}/retry", response_class=HTMLResponse)
async def job_retry(ctx: System, job_id: IdPath) -> Response:
    async with ctx.db.tx() as s:
        ok = await jobs.retry_dead(s, job_id)
    if not ctx.htmx:
        if not ok:
            return _refusal(ctx, "无法重试", OpsError.JOB_NOT_DEAD.text, status_code=409)
        return RedirectResponse("/admin/jobs", status_code=303)
    async with ctx.db.read() as s:
        job = await s.get(jobs.Job, job_id)
    if job is None:
        return _not_found(ctx, "该任务不存在。")
    return render(
        ctx,
        "_job_row.html",
        status_code=200 if ok else 409,
        job=job,
        requeued=ok,
        row_error="" if ok else OpsError.JOB_NOT_DEAD.text,
    )


@router.get("/notifications", response_class=HTMLResponse)
async def notification_list(ctx: System, failed: str = "") -> Response:
    async with ctx.db.read() as s:
        rows = await payments.list_notifications(s, exclude_outcomes=NOTE_OK if failed == "1" else frozenset())
        unsaved = await payments.unsaved_refusals(s)
    return render(
        ctx,
        "notifications.html",
        active="notifications",
        rows=rows,
        unsaved=unsaved,
        kept_per_hour=payments.REFUSED_KEPT_PER_HOUR,
        failed_only=failed == "1",
    )


# ---- mounting ------------------------------------------------------------------------------------


async def _console_exit(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleExit)
    return exc.response


def mount(app: FastAPI, settings: Settings) -> None:
    """Serve the console under /admin, with every domain's console pages.

    A domain adds pages with an `admin.py` module (found by `registry`) holding `router` (an APIRouter
    with prefix /admin/<area>) and `NAV` rows (key, label, href, permission). Its handlers take a
    `Console` from `console(permission)` and answer with `render(ctx, "<domain>/<page>.html", active=key)`;
    templates live in web/templates/admin/<domain>/ and extend "admin/layout.html".
    """
    app.include_router(router)
    for module in registry.import_all("admin"):
        app.include_router(module.router)
        for row in getattr(module, "NAV", ()):
            if row not in NAV:
                NAV.insert(len(NAV) - 2, row)  # before the system pages (jobs, notifications)
    app.add_exception_handler(ConsoleExit, _console_exit)
