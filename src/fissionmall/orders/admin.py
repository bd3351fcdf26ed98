"""Console pages: orders (tabs by status, detail, shipping) and after-sales refunds (review, approve, reject,
confirm a return's receipt; a refund's page with its photos and negotiation history),
and the dashboard's order, money and refund figures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts import service as accounts
from fissionmall.core import clock, extras
from fissionmall.core.errors import AppError
from fissionmall.core.schemas import IdPath
from fissionmall.orders import aftersales, refunds, reports
from fissionmall.orders import service as orders
from fissionmall.orders.models import Order, Refund
from fissionmall.orders.rules import ORDER_STATUSES, REFUND_TRANSITIONS
from fissionmall.orders.schemas import RefundRejection, ShipmentCreate
from fissionmall.web.console import (
    PAGE_SIZE,
    Console,
    console,
    cursor_of,
    dashboard_part,
    error_text,
    form_text,
    not_found,
    page_link,
    refusal,
    render,
    shop_zone,
    vocabulary,
)

router = APIRouter(prefix="/admin", include_in_schema=False)
NAV = [
    ("orders", "订单", "/admin/orders", "orders.read"),
    ("refunds", "售后", "/admin/refunds", "refunds.read"),
]
NAV_SECTION = "shop"

OrdersRead = Annotated[Console, Depends(console("orders.read"))]
OrdersWrite = Annotated[Console, Depends(console("orders"))]
RefundsRead = Annotated[Console, Depends(console("refunds.read"))]
RefundsWrite = Annotated[Console, Depends(console("refunds"))]

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
    "approved": "待买家退货",
    "return_shipped": "待确认收货",
    "processing": "退款中",
    "succeeded": "已退款",
    "rejected": "已拒绝",
    "failed": "退款失败",
    "cancelled": "买家已撤销",
    "closed": "已关闭",
}
REFUND_KIND_ZH = {"after_sales": "售后退款", "late_payment": "超时支付退回", "system": "系统退款"}
REFUND_SERVICE_ZH = {"refund_only": "仅退款", "return": "退货退款"}
REFUND_ACTOR_ZH = {"shopper": "买家", "merchant": "商家", "system": "系统"}
SOURCE_ZH = {"normal": "普通订单", "seckill": "秒杀", "groupbuy": "拼团", "bargain": "砍价"}
CANCEL_REASON_ZH = {"timeout": "超时未支付", "customer": "买家取消", "group_expired": "拼团失败自动取消"}
CARRIERS = ("顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流", "EMS", "极兔速递")

# Shared codes in the shipping panel's words (a shopper asking for a second refund reads the table's text).
SHIP_ZH = {"REFUND_PENDING": "该订单有待处理的售后申请，请先处理售后再发货"}
vocabulary(
    ORDER_STATUS_ZH=ORDER_STATUS_ZH,
    REFUND_STATUS_ZH=REFUND_STATUS_ZH,
    REFUND_KIND_ZH=REFUND_KIND_ZH,
    REFUND_SERVICE_ZH=REFUND_SERVICE_ZH,
    REFUND_ACTOR_ZH=REFUND_ACTOR_ZH,
    SOURCE_ZH=SOURCE_ZH,
    CANCEL_REASON_ZH=CANCEL_REASON_ZH,
    CARRIERS=CARRIERS,
)
_NOTICES = {"shipped": "已发货"}

# ---- orders --------------------------------------------------------------------------------------

ORDER_TABS = (("", "全部"), *((st, ORDER_STATUS_ZH[st]) for st in ORDER_STATUSES))


@router.get("/orders", response_class=HTMLResponse)
async def order_list(ctx: OrdersRead, status: str = "", q: str = "", cursor: str = "") -> Response:
    q = q.strip()[:32]
    status = status if status in ORDER_STATUS_ZH else ""
    async with ctx.db.read() as s:
        rows, nxt = await orders.list_orders(
            s, status=status or None, q=q or None, before_id=cursor_of(cursor), limit=PAGE_SIZE
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
        next_url=page_link(ctx.request, nxt),
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
        "refunds": await refunds.refunds_of(s, order_id=o.id),
        "customer": await accounts.get_customer(s, customer_id=o.customer_id),
        "payment": None,
        # what other rooms show on the order (payments: the payment that paid it), without orders naming them
        **await extras.gather(extras.ORDER_PAGE, s=s, order=o),
    }


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_detail(ctx: OrdersRead, order_id: IdPath) -> Response:
    try:
        async with ctx.db.read() as s:
            data = await _order_context(s, order_id)
    except AppError:
        return not_found(ctx, "该订单不存在。")
    return render(
        ctx,
        "order_detail.html",
        active="orders",
        notice=_NOTICES.get(ctx.request.query_params.get("ok", ""), ""),
        **data,
    )


def _ship_error(exc: ValidationError) -> str:
    fields = {str(e.get("loc", ("",))[0]) for e in exc.errors()}
    if "carrier" in fields:
        return "请填写快递公司"
    return "快递单号应为 4 到 40 位字母、数字或短横线"


@router.post("/orders/{order_id}/ship", response_class=HTMLResponse)
async def order_ship(ctx: OrdersWrite, order_id: IdPath) -> Response:
    form = await ctx.request.form()
    typed = {"carrier": form_text(form, "carrier", 64), "tracking_no": form_text(form, "tracking_no", 64)}
    error = ""
    try:
        body = ShipmentCreate.model_validate(typed)
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
        return not_found(ctx, "该订单不存在。")
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
        rows, nxt = await refunds.list_refunds(s, status=status or None, before_id=cursor_of(cursor), limit=PAGE_SIZE)
        numbers = await _order_numbers(s, rows)
        pending = await reports.count_refunds(s, status="pending")
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
        return_address=ctx.settings.return_address,
        next_url=page_link(ctx.request, nxt),
        paged=bool(cursor),
    )


async def _refund_row(ctx: Console, refund_id: int, *, error: str = "", status_code: int = 200) -> Response:
    try:
        async with ctx.db.read() as s:
            r = await refunds.get_refund(s, refund_id=refund_id)
            numbers = await _order_numbers(s, [r])
    except AppError:
        return not_found(ctx, "该售后单不存在。")
    return render(
        ctx,
        "_refund_row.html",
        status_code=status_code,
        r=r,
        numbers=numbers,
        row_error=error,
        return_address=ctx.settings.return_address,
    )


@router.get("/refunds/{refund_id}/row", response_class=HTMLResponse)
async def refund_row(ctx: RefundsRead, refund_id: IdPath) -> Response:
    return await _refund_row(ctx, refund_id)


async def _decided(ctx: Console, refund_id: int, error: str, *, back: str = "") -> Response:
    if ctx.htmx:
        return await _refund_row(ctx, refund_id, error=error, status_code=409 if error else 200)
    if error:
        return refusal(ctx, "无法处理售后", error, status_code=409)
    return RedirectResponse(f"/admin/refunds/{refund_id}" if back == "detail" else "/admin/refunds", status_code=303)


@router.post("/refunds/{refund_id}/approve", response_class=HTMLResponse)
async def refund_approve(ctx: RefundsWrite, refund_id: IdPath) -> Response:
    form = await ctx.request.form()
    address = form_text(form, "return_address", 500)
    error = ""
    if len(address) > 200:
        return await _decided(ctx, refund_id, "退货地址最多 200 字", back=form_text(form, "back", 10))
    try:
        async with ctx.db.tx() as s:
            await aftersales.approve(
                s, refund_id=refund_id, admin_id=ctx.admin.id, settings=ctx.settings, return_address=address or None
            )
    except AppError as exc:
        error = error_text(exc)
    return await _decided(ctx, refund_id, error, back=form_text(form, "back", 10))


@router.post("/refunds/{refund_id}/receive", response_class=HTMLResponse)
async def refund_receive(ctx: RefundsWrite, refund_id: IdPath) -> Response:
    form = await ctx.request.form()
    error = ""
    try:
        async with ctx.db.tx() as s:
            await aftersales.confirm_receipt(s, refund_id=refund_id, admin_id=ctx.admin.id)
    except AppError as exc:
        error = error_text(exc)
    return await _decided(ctx, refund_id, error, back=form_text(form, "back", 10))


@router.get("/refunds/{refund_id}", response_class=HTMLResponse)
async def refund_detail(ctx: RefundsRead, refund_id: IdPath) -> Response:
    try:
        async with ctx.db.read() as s:
            r = await refunds.get_refund(s, refund_id=refund_id)
            numbers = await _order_numbers(s, [r])
            entries = await refunds.entries_of(s, refund_id=r.id)
    except AppError:
        return not_found(ctx, "该售后单不存在。")
    return render(
        ctx,
        "refund_detail.html",
        active="refunds",
        r=r,
        numbers=numbers,
        entries=entries,
        row_error="",
        return_address=ctx.settings.return_address,
    )


@router.post("/refunds/{refund_id}/reject", response_class=HTMLResponse)
async def refund_reject(ctx: RefundsWrite, refund_id: IdPath) -> Response:
    form = await ctx.request.form()
    error = ""
    try:
        body = RefundRejection.model_validate({"reason": form_text(form, "reason", 500)})
    except ValidationError:
        error = "请填写拒绝原因（最多 200 字）"
    else:
        try:
            async with ctx.db.tx() as s:
                await refunds.reject_refund(s, refund_id=refund_id, admin_id=ctx.admin.id, reason=body.reason)
        except AppError as exc:
            error = error_text(exc)
    return await _decided(ctx, refund_id, error, back=form_text(form, "back", 10))


# ---- the dashboard's figures ---------------------------------------------------------------------


def _today_start() -> datetime:
    local = clock.now().astimezone(shop_zone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@dashboard_part("orders.read")
async def _order_figures(ctx: Console, s: AsyncSession) -> dict[str, Any]:
    recent, _ = await orders.list_orders(s, limit=6)
    return {"by_status": await orders.count_by_status(s), "recent": recent, "statuses": ORDER_STATUSES}


@dashboard_part("dashboard")
async def _money_figures(ctx: Console, s: AsyncSession) -> dict[str, Any]:
    today = _today_start()
    data: dict[str, Any] = {}
    data["today_orders"], data["today_gmv"], _ = await reports.paid_figures(s, since=today)
    data["total_orders"], data["total_gmv"], data["total_refunded"] = await reports.paid_figures(s, since=None)
    data["today_label"] = today.strftime("%m月%d日")
    return data


@dashboard_part("refunds.read")
async def _refund_figures(ctx: Console, s: AsyncSession) -> dict[str, Any]:
    return {"pending_refunds": await reports.count_refunds(s, status="pending")}
