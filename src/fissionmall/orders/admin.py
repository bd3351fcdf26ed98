"""Console pages: orders (tabs by status, detail, shipping) and after-sales refunds (review, approve, reject,
confirm a return's receipt; a refund's page with its photos and negotiation history),
and the dashboard's order, money and refund figures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts import service as accounts
from fissionmall.addresses.schemas import Address
from fissionmall.core import clock, extras
from fissionmall.core.errors import AppError
from fissionmall.core.schemas import IdPath
from fissionmall.orders import aftersales, batch, export, refunds, reports, tools
from fissionmall.orders import service as orders
from fissionmall.orders import tenders as order_tenders
from fissionmall.orders.admin_customers import day_of
from fissionmall.orders.export import ORDER_STATUS_ZH, SOURCE_ZH
from fissionmall.orders.models import Order, Refund
from fissionmall.orders.rules import ORDER_STATUSES, REFUND_TRANSITIONS
from fissionmall.orders.schemas import (
    AddressCorrection,
    MerchantRemarkUpdate,
    PriceChangeCreate,
    RefundRejection,
    ShipmentCreate,
)
from fissionmall.orders.tools import OrderFilter
from fissionmall.web.console import (
    PAGE_SIZE,
    Console,
    FormInvalid,
    console,
    counter,
    cursor_of,
    dashboard_part,
    error_text,
    form_text,
    form_to,
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
NAV_SECTION = "orders"

OrdersRead = Annotated[Console, Depends(console("orders.read"))]
OrdersWrite = Annotated[Console, Depends(console("orders"))]
RefundsRead = Annotated[Console, Depends(console("refunds.read"))]
RefundsWrite = Annotated[Console, Depends(console("refunds"))]

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
CANCEL_REASON_ZH = {
    "timeout": "超时未支付",
    "customer": "买家取消",
    "group_expired": "拼团失败自动取消",
    "risk_review": "风控审核未通过",
}
CARRIERS = ("顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流", "EMS", "极兔速递")

# Shared codes in the shipping panel's words (a shopper asking for a second refund reads the table's text).
SHIP_ZH = {"REFUND_PENDING": "该订单有待处理的售后申请，请先处理售后再发货"}
# A paid order its source holds back (orders.ship_hold): the badge in the list and on the order page.
HOLD_ZH = {"GROUP_FORMING": "拼团中", "GROUP_UNDER_REVIEW": "风控审核中", "ORDER_UNDER_REVIEW": "风控审核中"}
vocabulary(
    ORDER_STATUS_ZH=ORDER_STATUS_ZH,
    REFUND_STATUS_ZH=REFUND_STATUS_ZH,
    REFUND_KIND_ZH=REFUND_KIND_ZH,
    REFUND_SERVICE_ZH=REFUND_SERVICE_ZH,
    REFUND_ACTOR_ZH=REFUND_ACTOR_ZH,
    SOURCE_ZH=SOURCE_ZH,
    CANCEL_REASON_ZH=CANCEL_REASON_ZH,
    CARRIERS=CARRIERS,
    HOLD_ZH=HOLD_ZH,
)
_NOTICES = {"shipped": "已发货", "remark": "备注已保存", "price": "已改价", "address": "收货地址已修改"}

# ---- orders --------------------------------------------------------------------------------------

ORDER_TABS = (("", "全部"), *((st, ORDER_STATUS_ZH[st]) for st in ORDER_STATUSES))


def _filter_of(q: str, status: str, source: str, date_from: str, date_to: str) -> tuple[OrderFilter, dict[str, str]]:
    """The list's filter from the query string (unknown values dropped) and the query that repeats it."""
    f = OrderFilter(
        q=q.strip()[:64] or None,
        status=status if status in ORDER_STATUS_ZH else None,
        source=source if source in SOURCE_ZH else None,
        date_from=day_of(date_from),
        date_to=day_of(date_to),
    )
    keep = {"q": f.q, "status": f.status, "source": f.source, "from": f.date_from, "to": f.date_to}
    return f, {k: str(v) for k, v in keep.items() if v}


@router.get("/orders", response_class=HTMLResponse)
async def order_list(
    ctx: OrdersRead,
    status: str = "",
    q: str = "",
    source: str = "",
    date_from: Annotated[str, Query(alias="from")] = "",
    date_to: Annotated[str, Query(alias="to")] = "",
    cursor: str = "",
) -> Response:
    f, query = _filter_of(q, status, source, date_from, date_to)
    async with ctx.db.read() as s:
        rows, nxt = await tools.search_orders(s, f=f, zone=shop_zone(), before_id=cursor_of(cursor), limit=PAGE_SIZE)
        counts = await orders.count_by_status(s)
        holds = await _holds(s, rows)
    others = {k: v for k, v in query.items() if k != "status"}
    tabs = [
        (
            key,
            label,
            counts.get(key) if key else sum(counts.values()),
            "/admin/orders?" + urlencode({**others, **({"status": key} if key else {})}),
        )
        for key, label in ORDER_TABS
    ]
    return render(
        ctx,
        "orders.html",
        active="orders",
        rows=rows,
        holds=holds,
        tabs=tabs,
        status=f.status or "",
        q=f.q or "",
        filters=query,
        filtered=bool(query),
        export_query=urlencode(query),
        next_url=page_link(ctx.request, nxt),
        paged=bool(cursor),
    )


@router.get("/orders/export")
async def order_export(
    ctx: OrdersRead,
    format: str = "xlsx",
    status: str = "",
    q: str = "",
    source: str = "",
    date_from: Annotated[str, Query(alias="from")] = "",
    date_to: Annotated[str, Query(alias="to")] = "",
) -> Response:
    f, _ = _filter_of(q, status, source, date_from, date_to)
    fmt, cap = ("csv" if format == "csv" else "xlsx"), ctx.settings.export_max_rows
    try:
        return await export.response(ctx.db, f=f, zone=shop_zone(), fmt=fmt, max_rows=cap)
    except AppError as exc:
        return refusal(ctx, "无法导出", f"{error_text(exc)}（共 {exc.detail.get('count', 0)} 单）", status_code=400)


@router.get("/orders/batch-ship", response_class=HTMLResponse)
async def batch_ship_page(ctx: OrdersWrite) -> Response:
    return render(ctx, "order_batch_ship.html", active="orders", result=None, error="", max_rows=batch.MAX_ROWS)


@router.post("/orders/batch-ship", response_class=HTMLResponse)
async def batch_ship_upload(ctx: OrdersWrite) -> Response:
    form = await ctx.request.form()
    upload = form.get("file")
    error, result = "", None
    if upload is None or isinstance(upload, str) or not upload.filename:
        error = "请选择要上传的 CSV 或 Excel 文件"
    else:
        try:
            rows = batch.parse(await upload.read(batch.MAX_BYTES + 1), filename=upload.filename)
        except AppError as exc:
            error = error_text(exc)
        else:
            result = await batch.ship_rows(ctx.db, rows=rows, settings=ctx.settings)
    return render(
        ctx,
        "order_batch_ship.html",
        status_code=400 if error else 200,
        active="orders",
        result=result,
        error=error,
        max_rows=batch.MAX_ROWS,
    )


def _timeline(o: Order) -> list[tuple[str, datetime | None]]:
    steps = [("下单", o.created_at), ("付款", o.paid_at), ("发货", o.shipped_at), ("确认收货", o.received_at)]
    steps.append(("完成", o.completed_at))
    if o.cancelled_at:
        steps = [("下单", o.created_at), ("取消", o.cancelled_at)]
    elif o.closed_at:
        steps = [(label, at) for label, at in steps if at]
        steps.append(("关闭（已全额退款）", o.closed_at))
    return steps


async def _holds(s: AsyncSession, rows: list[Order]) -> dict[int, str]:
    """{order id: refusal code} for the paid orders on the page that may not ship yet (a forming group's)."""
    out = {}
    for o in rows:
        code = await orders.ship_hold(s, order=o)
        if code is not None:
            out[o.id] = code
    return out


def _hold_text(code: str | None) -> str:
    return error_text(AppError(code)) if code else ""


async def _order_context(s: AsyncSession, order_id: int) -> dict[str, Any]:
    o = await orders.get_order(s, order_id=order_id)
    hold = await orders.ship_hold(s, order=o)
    return {
        "order": o,
        # A paid order its source holds back shows why instead of a ship form (ship() refuses it anyway).
        "ship_hold": hold,
        "ship_hold_text": _hold_text(hold),
        "timeline": _timeline(o),
        "refunds": await refunds.refunds_of(s, order_id=o.id),
        "customer": await accounts.get_customer(s, customer_id=o.customer_id),
        "payment": None,
        "changes": await tools.changes_of(s, order_id=o.id),
        "paid_by": order_tenders.paid_by(o),
        # what other rooms show on the order (payments: the payment that paid it), without orders naming them
        **await extras.gather(extras.ORDER_PAGE, s=s, order=o),
    }


async def _order_page(ctx: Console, order_id: int, *, status_code: int = 200, **extra: Any) -> Response:
    try:
        async with ctx.db.read() as s:
            data = await _order_context(s, order_id)
    except AppError:
        return not_found(ctx, "该订单不存在。")
    return render(ctx, "order_detail.html", status_code=status_code, active="orders", **extra, **data)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_detail(ctx: OrdersRead, order_id: IdPath) -> Response:
    return await _order_page(ctx, order_id, notice=_NOTICES.get(ctx.request.query_params.get("ok", ""), ""))


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


_TOOL_LABELS = {
    "merchant_remark": "备注",
    "payable_fen": "改价后金额",
    "discount_fen": "优惠金额",
    "reason": "原因",
    "name": "收货人",
    "phone": "手机号",
    "region": "所在地区",
    "detail": "详细地址",
}


async def _order_tool(ctx: Console, order_id: int, notice: str, apply: Any, read: Any) -> Response:
    """A form on the order page: read it through the API's schema, apply it, or show the page again with
    the refusals beside the fields (400 for what was typed, 409 for the order's state)."""
    form = await ctx.request.form()
    typed = {k: form_text(form, k, 600) for k in form if k != "csrf_token"}
    errors: dict[str, str] = {}
    status_code = 400
    try:
        body = read(typed)
        async with ctx.db.tx() as s:
            await apply(s, body)
    except FormInvalid as exc:
        errors = exc.errors
    except AppError as exc:
        errors, status_code = {notice: error_text(exc)}, exc.status
    if not errors:
        return RedirectResponse(f"/admin/orders/{order_id}?ok={notice}", status_code=303)
    return await _order_page(ctx, order_id, status_code=status_code, tool=notice, tool_errors=errors, tool_typed=typed)


@router.post("/orders/{order_id}/remark", response_class=HTMLResponse)
async def order_remark(ctx: OrdersWrite, order_id: IdPath) -> Response:
    def read(typed: dict[str, str]) -> MerchantRemarkUpdate:
        return form_to(MerchantRemarkUpdate, {"merchant_remark": typed.get("merchant_remark", "")}, labels=_TOOL_LABELS)

    async def apply(s: AsyncSession, body: MerchantRemarkUpdate) -> None:
        await tools.set_merchant_remark(s, order_id=order_id, remark=body.merchant_remark)

    return await _order_tool(ctx, order_id, "remark", apply, read)


@router.post("/orders/{order_id}/price", response_class=HTMLResponse)
async def order_price(ctx: OrdersWrite, order_id: IdPath) -> Response:
    def read(typed: dict[str, str]) -> PriceChangeCreate:
        mode = "discount_fen" if typed.get("mode") == "discount" else "payable_fen"
        body = {mode: typed.get("amount", ""), "reason": typed.get("reason", "")}
        try:
            return form_to(PriceChangeCreate, body, money=(mode,), labels=_TOOL_LABELS)
        except FormInvalid as exc:
            raise FormInvalid({("amount" if k in (mode, "form") else k): v for k, v in exc.errors.items()}) from None

    async def apply(s: AsyncSession, body: PriceChangeCreate) -> None:
        await tools.change_price(
            s,
            order_id=order_id,
            admin_id=ctx.admin.id,
            reason=body.reason,
            payable_fen=body.payable_fen,
            discount_fen=body.discount_fen,
        )

    return await _order_tool(ctx, order_id, "price", apply, read)


@router.post("/orders/{order_id}/address", response_class=HTMLResponse)
async def order_address(ctx: OrdersWrite, order_id: IdPath) -> Response:
    def read(typed: dict[str, str]) -> AddressCorrection:
        fields = ("name", "phone", "region", "detail", "reason")
        return form_to(AddressCorrection, {k: typed.get(k, "") for k in fields}, labels=_TOOL_LABELS)

    async def apply(s: AsyncSession, body: AddressCorrection) -> None:
        address = Address.model_validate(body.model_dump(exclude={"reason"}))
        await tools.change_address(s, order_id=order_id, admin_id=ctx.admin.id, address=address, reason=body.reason)

    return await _order_tool(ctx, order_id, "address", apply, read)


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
            # What comes back: each line's product and quantity (the refund keeps only line ids).
            by_line = {ln.id: ln for ln in (await orders.get_order(s, order_id=r.order_id)).lines}
            items = [
                {"line": by_line.get(part["line_id"]), "qty": part["qty"], "amount_fen": part["amount_fen"]}
                for part in r.lines
            ]
    except AppError:
        return not_found(ctx, "该售后单不存在。")
    return render(
        ctx,
        "refund_detail.html",
        active="refunds",
        r=r,
        numbers=numbers,
        entries=entries,
        items=items,
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


# The badges of the 订单 and 售后 rows, re-read after every htmx action (a shipped order, a decided refund).
@counter("orders", "orders.read", list_href="/admin/orders?status=paid")
async def _to_ship(ctx: Console, s: AsyncSession) -> int:
    return (await orders.count_by_status(s)).get("paid", 0)


@counter("refunds", "refunds.read", list_href="/admin/refunds?status=pending")
async def _refunds_waiting(ctx: Console, s: AsyncSession) -> int:
    return await reports.count_refunds(s, status="pending")
