"""Console pages for group buying: activities with their figures, the activity editor, groups and shipping."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.catalog.admin import picked_products
from fissionmall.core import clock
from fissionmall.core.errors import AppError, NotFoundCode
from fissionmall.core.schemas import IdPath, parse_cursor, to_local
from fissionmall.groupbuy import activities as gb_activities
from fissionmall.groupbuy import groups as gb_groups
from fissionmall.groupbuy import rules, views
from fissionmall.groupbuy.schemas import ActivityCreate, ActivityUpdate
from fissionmall.orders import service as orders
from fissionmall.orders.schemas import ShipmentCreate
from fissionmall.web.console import Console, FormInvalid, console, error_text, form_to, render, shop_zone

router = APIRouter(prefix="/admin/groupbuy", include_in_schema=False)
NAV = [("groupbuy", "拼团", "/admin/groupbuy", "marketing.read")]
NAV_SECTION = "marketing"

Read = Annotated[Console, Depends(console("marketing.read"))]
Write = Annotated[Console, Depends(console("marketing"))]
Ship = Annotated[Console, Depends(console("orders"))]

GROUP_TABS = (("", "全部"), *((k, rules.GROUP_STATUS_ZH[k]) for k in ("forming", "succeeded", "failed", "pending")))
# Shared codes in this page's words (the shipping button, the activity's stock); the rest read as the table says.
ERRORS_ZH = {
    "GROUP_FORMING": "该团还在拼团中，成团后才能发货",
    "INSUFFICIENT_STOCK": "商品库存不足，无法划出这么多活动库存",
}


def _cursor(raw: str) -> int | None:
    try:
        return parse_cursor(raw)
    except AppError:
        return None


def _text(exc: AppError) -> str:
    return ERRORS_ZH.get(exc.code) or error_text(exc)


def _local(d: datetime | None) -> str:
    return to_local(d).strftime("%Y-%m-%dT%H:%M") if d else ""


def _parse_local(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M").replace(tzinfo=shop_zone())
    except ValueError:
        return None


@router.get("", response_class=HTMLResponse)
async def activities(ctx: Read, cursor: str = "") -> Response:
    async with ctx.db.read() as s:
        rows, nxt = await gb_activities.list_activities(s, before_id=_cursor(cursor), limit=20)
        stats = {a.id: await views.activity_stats(s, activity_id=a.id) for a in rows}
        titles = {}
        for a in rows:
            try:
                titles[a.id] = (await catalog.get_product(s, product_id=a.product_id, include_hidden=True)).title
            except AppError:
                titles[a.id] = "（商品已删除）"
    next_url = f"/admin/groupbuy?{urlencode({'cursor': nxt})}" if nxt else None
    ok = {"created": "活动已创建", "saved": "活动已保存", "closed": "活动已结束"}.get(
        ctx.request.query_params.get("ok", "")
    )
    return render(
        ctx,
        "groupbuy/activities.html",
        active="groupbuy",
        rows=rows,
        stats=stats,
        titles=titles,
        duration_text=rules.duration_text,
        next_url=next_url,
        paged=bool(cursor),
        notice=ok or "",
    )


def _form_values(form: Any) -> dict[str, str]:
    return {k: (v.strip() if isinstance(v, str) else "") for k, v in form.multi_items()}


async def _editor(
    ctx: Console,
    *,
    product_id: int | None,
    activity: Any = None,
    values: dict[str, str] | None = None,
    error: str = "",
    product_error: str = "",
    status_code: int = 200,
) -> Response:
    async with ctx.db.read() as s:
        product = None
        if product_id:
            try:
                product = await catalog.get_product(s, product_id=product_id, include_hidden=True)
            except AppError:
                product = None
    if values is None:
        values = {}
        if activity is not None:
            values = {
                "title": activity.title,
                "group_size": str(activity.group_size),
                "duration_minutes": str(activity.duration_minutes),
                "pay_minutes": str(activity.pay_minutes),
                "leader_discount": f"{activity.leader_discount_fen / 100:.2f}",
                "leader_points": str(activity.leader_points),
                "max_open_per_user": str(activity.max_open_per_user),
                "per_user_limit": str(activity.per_user_limit),
                "per_order_limit": str(activity.per_order_limit),
                "starts_at": _local(activity.starts_at),
                "ends_at": _local(activity.ends_at),
                "new_user_required": "1" if activity.new_user_required else "",
                "auto_fill": "1" if activity.auto_fill else "",
            }
            for item in activity.skus:
                values[f"price_{item['sku_id']}"] = f"{item['price_fen'] / 100:.2f}"
            for pool in activity.pools:
                if not pool.closed:
                    values[f"stock_{pool.sku_id}"] = str(pool.pool)
        else:
            values = {
                "group_size": "3",
                "duration_minutes": "1440",
                "pay_minutes": "15",
                "max_open_per_user": "3",
                "per_user_limit": "0",
                "per_order_limit": "5",
                "leader_discount": "0",
                "leader_points": "0",
            }
    return render(
        ctx,
        "groupbuy/activity_form.html",
        status_code=status_code,
        active="groupbuy",
        product=product,
        chosen=await picked_products(ctx.db, [product.id]) if product is not None else [],
        activity=activity,
        pools={p.sku_id: p for p in activity.pools} if activity is not None else {},
        v=values,
        error=error,
        product_error=product_error,
    )


def _payload(values: dict[str, str], product: Any) -> dict[str, Any]:
    """The typed form as an API body, as text: form_to reads the amounts (元) and the counts."""
    skus = []
    for sku in product.skus if product else []:
        raw = values.get(f"price_{sku.id}", "")
        if raw:
            item: dict[str, Any] = {"sku_id": sku.id, "price_fen": raw}
            units = values.get(f"stock_{sku.id}", "")
            if units:  # blank: the SKU sells from its own stock
                item["stock"] = units
            skus.append(item)
    body: dict[str, Any] = {k: values.get(k, "") for k in WHOLE if k != "stock"}
    body |= {
        "leader_discount_fen": values.get("leader_discount", "0") or "0",
        "new_user_required": values.get("new_user_required") == "1",
        "auto_fill": values.get("auto_fill") == "1",
        "starts_at": _parse_local(values.get("starts_at", "")),
        "ends_at": _parse_local(values.get("ends_at", "")),
        "skus": skus,
    }
    if values.get("title"):
        body["title"] = values["title"]
    return body


WHOLE = (
    "group_size",
    "duration_minutes",
    "pay_minutes",
    "max_open_per_user",
    "per_user_limit",
    "per_order_limit",
    "leader_points",
    "stock",
)
LABELS = {
    "skus": "拼团价（至少填写一个规格，按元填写）",
    "starts_at": "开始时间",
    "ends_at": "结束时间",
    "group_size": "成团人数（2 人起）",
    "duration_minutes": "成团时限（5 分钟起）",
    "stock": "活动库存",
    "leader_discount_fen": "团长优惠",
    "pay_minutes": "支付时限",
    "max_open_per_user": "每人同时开团数",
    "per_user_limit": "每人限购",
    "per_order_limit": "每单限购",
    "leader_points": "团长积分",
    "price_fen": "拼团价",
    "title": "活动名称",
}


M = TypeVar("M", ActivityCreate, ActivityUpdate)


def _validated(schema: type[M], body: dict[str, Any]) -> M:
    return form_to(schema, body, money=("price_fen", "leader_discount_fen"), whole=WHOLE, labels=LABELS)


@router.get("/new", response_class=HTMLResponse)
async def new_activity(ctx: Write, product_id: int | None = None) -> Response:
    return await _editor(ctx, product_id=product_id)


@router.post("/new", response_class=HTMLResponse)
async def create_activity(ctx: Write) -> Response:
    values = _form_values(await ctx.request.form())
    pid = int(values["product_id"]) if values.get("product_id", "").isdigit() else None
    async with ctx.db.read() as s:
        try:
            product = await catalog.get_product(s, product_id=pid, include_hidden=True) if pid else None
        except AppError:
            product = None
    if product is None:
        return await _editor(ctx, product_id=None, values=values, product_error="请先选择商品", status_code=400)
    try:
        data = _validated(ActivityCreate, {**_payload(values, product), "product_id": product.id})
        async with ctx.db.tx() as s:
            await gb_activities.create_activity(s, data=data)
    except FormInvalid as exc:
        return await _editor(ctx, product_id=pid, values=values, error=exc.message, status_code=400)
    except AppError as exc:
        return await _editor(ctx, product_id=pid, values=values, error=_text(exc), status_code=400)
    return RedirectResponse("/admin/groupbuy?ok=created", status_code=303)


@router.get("/{activity_id}/edit", response_class=HTMLResponse)
async def edit_activity(ctx: Read, activity_id: IdPath) -> Response:
    async with ctx.db.read() as s:
        try:
            act = await gb_activities.get_activity(s, activity_id=activity_id)
        except AppError:
            return render(
                ctx, "message.html", status_code=404, title="找不到活动", message="该拼团活动不存在。", level="error"
            )
    return await _editor(ctx, product_id=act.product_id, activity=act)


@router.post("/{activity_id}/edit", response_class=HTMLResponse)
async def save_activity(ctx: Write, activity_id: IdPath) -> Response:
    values = _form_values(await ctx.request.form())
    async with ctx.db.read() as s:
        act = await gb_activities.get_activity(s, activity_id=activity_id)
        product = await catalog.get_product(s, product_id=act.product_id, include_hidden=True)
    try:
        data = _validated(ActivityUpdate, _payload(values, product))
        async with ctx.db.tx() as s:
            await gb_activities.update_activity(s, activity_id=activity_id, data=data)
    except FormInvalid as exc:
        return await _editor(
            ctx, product_id=act.product_id, activity=act, values=values, error=exc.message, status_code=400
        )
    except AppError as exc:
        return await _editor(
            ctx, product_id=act.product_id, activity=act, values=values, error=_text(exc), status_code=400
        )
    return RedirectResponse("/admin/groupbuy?ok=saved", status_code=303)


@router.post("/{activity_id}/close", response_class=HTMLResponse)
async def close_activity(ctx: Write, activity_id: IdPath) -> Response:
    async with ctx.db.tx() as s:
        await gb_activities.close_activity(s, activity_id=activity_id)
    return RedirectResponse("/admin/groupbuy?ok=closed", status_code=303)


@router.get("/groups", response_class=HTMLResponse)
async def groups(ctx: Read, status: str = "", activity_id: str = "", cursor: str = "") -> Response:
    status = status if status in rules.GROUP_STATUS_ZH else ""
    aid = int(activity_id) if activity_id.isdigit() else None
    async with ctx.db.read() as s:
        rows, nxt = await views.list_groups(s, activity_id=aid, status=status or None, before_id=_cursor(cursor))
        names = await _activity_names(s, {g.activity_id for g in rows} | ({aid} if aid else set()))
    keep = {"activity_id": str(aid)} if aid else {}
    tabs = [
        (k, label, "/admin/groupbuy/groups?" + urlencode({**keep, **({"status": k} if k else {})}))
        for k, label in GROUP_TABS
    ]
    next_url = ("/admin/groupbuy/groups?" + urlencode({**keep, "status": status, "cursor": nxt})) if nxt else None
    return render(
        ctx,
        "groupbuy/groups.html",
        active="groupbuy",
        rows=rows,
        tabs=tabs,
        status=status,
        activity_id=aid,
        names=names,
        next_url=next_url,
        paged=bool(cursor),
        now=clock.now(),
    )


async def _activity_names(s: AsyncSession, ids: set[int]) -> dict[int, str]:
    """Each activity's name, so a group list shows names, not ids."""
    out: dict[int, str] = {}
    for activity_id in sorted(ids):
        try:
            out[activity_id] = (await gb_activities.get_activity(s, activity_id=activity_id)).title
        except AppError:
            out[activity_id] = "（活动已删除）"
    return out


async def _group_page(
    ctx: Console, group_id: int, *, error: str = "", notice: str = "", status_code: int = 200
) -> Response:
    async with ctx.db.read() as s:
        try:
            g = await gb_groups.get_group(s, group_id=group_id)
        except AppError:
            return render(ctx, "message.html", status_code=404, title="找不到团", message="该团不存在。", level="error")
        members = await views.group_members(s, group_id=g.id)
        act = await gb_activities.get_activity(s, activity_id=g.activity_id)
    return render(
        ctx,
        "groupbuy/group_detail.html",
        status_code=status_code,
        active="groupbuy",
        g=g,
        act=act,
        members=members,
        ship_error=error,
        notice=notice,
    )


@router.get("/groups/{group_id}", response_class=HTMLResponse)
async def group_detail(ctx: Read, group_id: IdPath) -> Response:
    notice = "已发货" if ctx.request.query_params.get("ok") == "shipped" else ""
    return await _group_page(ctx, group_id, notice=notice)


@router.post("/groups/{group_id}/orders/{order_id}/ship", response_class=HTMLResponse)
async def ship(ctx: Ship, group_id: IdPath, order_id: IdPath) -> Response:
    """Ship one member's order, refused while the group is still forming."""
    form = _form_values(await ctx.request.form())
    try:
        body = ShipmentCreate.model_validate(
            {"carrier": form.get("carrier", ""), "tracking_no": form.get("tracking_no", "")}
        )
    except ValidationError:
        return await _group_page(ctx, group_id, error="请填写快递公司和 4 到 40 位的快递单号", status_code=400)
    try:
        async with ctx.db.tx() as s:
            m = await gb_groups.member_of_order(s, order_id=order_id)
            if m is None or m.group_id != group_id:
                raise AppError(NotFoundCode.ORDER_NOT_FOUND, "订单不属于该团")
            await orders.ship(
                s, order_id=order_id, carrier=body.carrier, tracking_no=body.tracking_no, settings=ctx.settings
            )
    except AppError as exc:
        return await _group_page(ctx, group_id, error=_text(exc), status_code=409)
    return RedirectResponse(f"/admin/groupbuy/groups/{group_id}?ok=shipped", status_code=303)
