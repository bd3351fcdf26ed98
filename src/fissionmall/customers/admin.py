"""Console pages 客户: the customer list (search by nickname or phone; filters by source and by what the
tools answer: spend, last order, distributor), a customer's page (one card per tool), and
`GET /admin/customers/search?q=` (JSON) behind the customer pickers (static/console/customer_picker.js).

Phones are stored sealed with a keyed hash (wechat/vault.py), so a phone is found by the whole number
only and shown masked."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts import customers
from fissionmall.accounts import service as accounts
from fissionmall.accounts.models import Customer
from fissionmall.core import extras
from fissionmall.core.errors import AppError, CoreError, Forbidden, Unauthorized
from fissionmall.core.schemas import IdPath
from fissionmall.web.console import (
    PAGE_SIZE,
    Console,
    ConsoleExit,
    console,
    cursor_of,
    not_found,
    page_link,
    render,
)
from fissionmall.wechat import identity, vault

router = APIRouter(prefix="/admin/customers", include_in_schema=False)
NAV = [("customers", "客户", "/admin/customers", "customers.read")]
NAV_SECTION = "customers"

Read = Annotated[Console, Depends(console("customers.read"))]

SEARCH_LIMIT = 20
Q_MAX = 64
_PHONE = re.compile(r"^\+?[\d\s-]{7,20}$")


def _phone_like(q: str) -> bool:
    return bool(_PHONE.match(q)) and 7 <= sum(ch.isdigit() for ch in q) <= 15


async def _match(s: AsyncSession, q: str) -> Any:
    """Nickname contains q, or q is the shopper's whole phone number or their number (编号)."""
    ids = await identity.customers_with_phone(s, number=q) if _phone_like(q) else []
    return customers.match_clause(q=q, phone_ids=ids)


def _masked_phone(secret_key: str, c: Customer) -> str:
    phone = identity.phone_of(secret_key, c)
    return vault.mask_phone(phone[1]) if phone else ""


# ---- the list --------------------------------------------------------------------------------------


async def _filters(params: Mapping[str, str]) -> list[extras.CustomerFilter]:
    found = await extras.gather(extras.CUSTOMER_FILTERS, params=params)
    return sorted((f for f in found.values() if isinstance(f, extras.CustomerFilter)), key=lambda f: f.order)


@router.get("", response_class=HTMLResponse)
async def customer_list(ctx: Read, q: str = "", source: str = "", cursor: str = "") -> Response:
    params = {k: v.strip()[:Q_MAX] for k, v in ctx.request.query_params.items() if k != "cursor"}
    q = q.strip()[:Q_MAX]
    tool_filters = await _filters(params)
    errors = {name: msg for f in tool_filters for name, msg in f.errors}
    rows: list[Customer] = []
    nxt, columns = None, {}
    if not errors:
        async with ctx.db.read() as s:
            where = [f.where for f in tool_filters if f.where is not None]
            if q:
                where.append(await _match(s, q))
            if source in customers.SOURCE_ZH:
                where.append(customers.source_clause(source))  # type: ignore[arg-type]
            rows, nxt = await customers.search_customers(s, where=where, before_id=cursor_of(cursor), limit=PAGE_SIZE)
            columns = await extras.gather(extras.CUSTOMER_COLUMNS, s=s, customer_ids=[c.id for c in rows])
    secret = ctx.settings.secret_key
    return render(
        ctx,
        "customers/list.html",
        status_code=422 if errors else 200,
        active="customers",
        rows=rows,
        phones={c.id: _masked_phone(secret, c) for c in rows},
        columns=columns,
        q=q,
        source=source,
        sources=customers.SOURCE_ZH,
        tool_filters=tool_filters,
        params=params,
        errors=errors,
        filtered=any(params.values()),
        next_url=page_link(ctx.request, nxt),
        paged=bool(cursor),
    )


# ---- the picker's search -----------------------------------------------------------------------------


async def _json_reader(request: Request) -> Console:
    """console("customers.read") answering in JSON: 401 without a login, 403 without the permission."""
    try:
        return await console("customers.read")(request)
    except ConsoleExit as exc:
        if exc.response.status_code == 403:
            raise Forbidden(CoreError.PERMISSION_DENIED) from None
        raise Unauthorized(CoreError.AUTH_REQUIRED) from None


@router.get("/search")
async def search(ctx: Annotated[Console, Depends(_json_reader)], q: str = "") -> Response:
    q = q.strip()
    if not q or len(q) > Q_MAX:
        raise AppError(CoreError.FORM_INVALID, f"请输入 1-{Q_MAX} 个字的昵称、手机号或买家编号")
    async with ctx.db.read() as s:
        rows, _ = await customers.search_customers(s, where=[await _match(s, q)], limit=SEARCH_LIMIT)
    secret = ctx.settings.secret_key
    items = [
        {
            "id": c.id,
            "nickname": c.nickname,
            "phone": _masked_phone(secret, c) or None,
            "avatar_url": c.avatar_url,
            "blocked": c.is_blocked,
        }
        for c in rows
    ]
    return JSONResponse({"items": items}, headers={"Cache-Control": "no-store"})


# ---- one customer ----------------------------------------------------------------------------------


@router.get("/{customer_id}", response_class=HTMLResponse)
async def customer_page(ctx: Read, customer_id: IdPath) -> Response:
    async with ctx.db.read() as s:
        c = await accounts.get_customer(s, customer_id=customer_id)
        if c is None:
            return not_found(ctx, f"找不到编号为 {customer_id} 的客户")
        found = await extras.gather(extras.CUSTOMER_PANELS, s=s, customer_id=c.id)
    panels = sorted((p for p in found.values() if isinstance(p, extras.CustomerPanel)), key=lambda p: p.order)
    return render(
        ctx,
        "customers/detail.html",
        active="customers",
        c=c,
        phone=_masked_phone(ctx.settings.secret_key, c),
        source=customers.SOURCE_ZH["share_link" if c.first_ref else "organic"],
        panels=panels,
    )
