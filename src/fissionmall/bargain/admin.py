"""Console pages for bargaining: activities with their funnels, the editor (SKU picker, the live "can this
reach the target?" check), and bargains by state."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from fissionmall.bargain import activities as bg_activities
from fissionmall.bargain import rules, views
from fissionmall.bargain.schemas import ActivityCreate, ActivityUpdate
from fissionmall.catalog.admin import clean_ids, picked_skus
from fissionmall.core import clock
from fissionmall.core.errors import AppError
from fissionmall.core.schemas import IdPath, parse_cursor, to_local
from fissionmall.web.console import (
    Console,
    FormInvalid,
    console,
    error_text,
    form_list,
    form_to,
    render,
    shop_zone,
    whole_number,
    yuan_field,
)

router = APIRouter(prefix="/admin/bargain", include_in_schema=False)
NAV = [("bargain", "砍价", "/admin/bargain", "marketing.read")]
NAV_SECTION = "marketing"

Read = Annotated[Console, Depends(console("marketing.read"))]
Write = Annotated[Console, Depends(console("marketing"))]

TABS = (("", "全部"), *((k, rules.STATUS_ZH[k]) for k in rules.STATUSES))
WHOLE = (
    "helpers_needed",
    "duration_minutes",
    "buy_minutes",
    "pay_minutes",
    "stock",
    "max_starts_per_user",
    "daily_help_limit",
)
MONEY = ("start_fen", "target_fen", "min_cut_fen", "max_cut_fen")
LABELS = {
    "sku_id": "砍价商品",
    "title": "活动名称",
    "start_fen": "起始价",
    "target_fen": "底价",
    "helpers_needed": "助力人数（1–100）",
    "min_cut_fen": "每刀最少",
    "max_cut_fen": "每刀最多",
    "duration_minutes": "砍价时限（5 分钟起）",
    "buy_minutes": "砍到底价后的购买时限",
    "pay_minutes": "支付时限",
    "stock": "活动库存",
    "max_starts_per_user": "每人可发起次数",
    "daily_help_limit": "每人每天助力次数",
    "new_user_boost_bp": "新用户助力倍数",
    "starts_at": "开始时间",
    "ends_at": "结束时间",
}
M = TypeVar("M", ActivityCreate, ActivityUpdate)


def _cursor(raw: str) -> int | None:
    try:
        return parse_cursor(raw)
    except AppError:
        return None


def _local(d: datetime | None) -> str:
    return to_local(d).strftime("%Y-%m-%dT%H:%M") if d else ""


def _parse_local(text: str) -> datetime | str | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M").replace(tzinfo=shop_zone())
    except ValueError:
        return text  # the schema refuses it with the field's own message


@router.get("", response_class=HTMLResponse)
async def activities(ctx: Read, cursor: str = "") -> Response:
    async with ctx.db.read() as s:
        rows, nxt = await bg_activities.list_activities(s, before_id=_cursor(cursor), limit=20)
        funnels = {a.id: await views.funnel(s, activity_id=a.id) for a in rows}
    ok = {"created": "活动已创建", "saved": "活动已保存", "closed": "活动已结束"}.get(
        ctx.request.query_params.get("ok", "")
    )
    return render(
        ctx,
        "bargain/activities.html",
        active="bargain",
        rows=rows,
        funnels=funnels,
        minutes_text=rules.minutes_text,
        next_url=f"/admin/bargain?{urlencode({'cursor': nxt})}" if nxt else None,
        paged=bool(cursor),
        notice=ok or "",
        now=clock.now(),
    )


def _values(act: Any) -> dict[str, str]:
    if act is None:
        return {
            "helpers_needed": "5",
            "duration_minutes": "1440",
            "buy_minutes": "1440",
            "pay_minutes": "15",
            "stock": "10",
            "max_starts_per_user": "1",
            "daily_help_limit": "10",
            "boost": "1",
            "starts_at": _local(clock.now()),
        }
    return {
        "title": act.title,
        "start_fen": yuan_field(act.start_fen),
        "target_fen": yuan_field(act.target_fen),
        "min_cut_fen": yuan_field(act.min_cut_fen) if act.min_cut_fen is not None else "",
        "max_cut_fen": yuan_field(act.max_cut_fen) if act.max_cut_fen is not None else "",
        **{k: str(getattr(act, k)) for k in WHOLE},
        "boost": str(act.new_user_boost_bp // 10_000) if act.new_user_boost_bp % 10_000 == 0 else "1",
        "buy_early": "1" if act.buy_early else "",
        "new_user_only": "1" if act.new_user_only else "",
        "starts_at": _local(act.starts_at),
        "ends_at": _local(act.ends_at),
    }


async def _editor(
    ctx: Console,
    *,
    activity: Any = None,
    values: dict[str, str] | None = None,
    sku_ids: list[int] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    ids = sku_ids if sku_ids is not None else ([activity.sku_id] if activity is not None else [])
    return render(
        ctx,
        "bargain/activity_form.html",
        status_code=status_code,
        active="bargain",
        activity=activity,
        chosen=await picked_skus(ctx.db, ids),
        v=values if values is not None else _values(activity),
        error=error,
    )


def _payload(values: dict[str, str]) -> dict[str, Any]:
    """The typed form as an API body, as text: form_to reads the amounts (元) and the counts."""
    body: dict[str, Any] = {k: values.get(k, "") for k in (*WHOLE, *MONEY)}
    boost = whole_number(values.get("boost", "1") or "1")
    body |= {
        "new_user_boost_bp": (boost or 1) * 10_000,
        "buy_early": values.get("buy_early") == "1",
        "new_user_only": values.get("new_user_only") == "1",
        "starts_at": _parse_local(values.get("starts_at", "")),
        "ends_at": _parse_local(values.get("ends_at", "")),
    }
    if values.get("title"):
        body["title"] = values["title"]
    return body


def _validated(schema: type[M], body: dict[str, Any]) -> M:
    return form_to(schema, body, money=MONEY, whole=WHOLE, labels=LABELS)


async def _form(ctx: Console) -> tuple[dict[str, str], list[int]]:
    form = await ctx.request.form()
    values = {k: (v.strip() if isinstance(v, str) else "") for k, v in form.multi_items() if k != "sku_id"}
    return values, clean_ids(form_list(form, "sku_id"))


@router.get("/new", response_class=HTMLResponse)
async def new_activity(ctx: Write) -> Response:
    return await _editor(ctx)


@router.post("/new", response_class=HTMLResponse)
async def create_activity(ctx: Write) -> Response:
    values, ids = await _form(ctx)
    chosen = await picked_skus(ctx.db, ids[:1])
    if not chosen:
        return await _editor(ctx, values=values, sku_ids=[], error="请先选择砍价商品的规格", status_code=400)
    body = _payload(values) | {"product_id": chosen[0]["product_id"], "sku_id": chosen[0]["id"]}
    if body.get("start_fen") in ("", None):
        body.pop("start_fen")
    try:
        data = _validated(ActivityCreate, body)
        async with ctx.db.tx() as s:
            await bg_activities.create_activity(s, data=data)
    except FormInvalid as exc:
        return await _editor(ctx, values=values, sku_ids=ids[:1], error=exc.message, status_code=400)
    except AppError as exc:
        return await _editor(ctx, values=values, sku_ids=ids[:1], error=error_text(exc), status_code=400)
    return RedirectResponse("/admin/bargain?ok=created", status_code=303)


async def _activity_or_404(ctx: Console, activity_id: int) -> Any:
    async with ctx.db.read() as s:
        try:
            return await bg_activities.get_activity(s, activity_id=activity_id)
        except AppError:
            return None


def _missing(ctx: Console) -> Response:
    return render(ctx, "message.html", status_code=404, title="找不到活动", message="该砍价活动不存在。", level="error")


@router.get("/check")
async def check(
    ctx: Read, start: str = "", target: str = "", helpers: str = "", lo: str = "", hi: str = ""
) -> Response:
    """The editor's live answer (JSON, fen in): can these figures reach the target in N helps within bounds?"""

    def num(text: str) -> int | None:
        return int(text) if text.strip().lstrip("-").isdigit() and len(text) < 15 else None

    s, t, n = num(start), num(target), num(helpers)
    if s is None or t is None or n is None:
        return JSONResponse({"ok": None, "message": "填写起始价、底价和助力人数后，这里检查能否正好砍到底价"})
    given: dict[str, Any] = {"start_fen": s, "target_fen": t, "helpers": n, "min_cut": num(lo), "max_cut": num(hi)}
    code = rules.config_refusal(**given)
    if code is not None:
        return JSONResponse({"ok": False, "code": code.value, "message": rules.refusal_text(code, **given)})
    cuts = rules.plan_cuts(**given, seed=20261206)
    return JSONResponse({"ok": True, "message": f"可以：第 {n} 位好友助力后正好砍到底价", "sample_cuts": cuts})


@router.get("/{activity_id}/edit", response_class=HTMLResponse)
async def edit_activity(ctx: Read, activity_id: IdPath) -> Response:
    act = await _activity_or_404(ctx, activity_id)
    return _missing(ctx) if act is None else await _editor(ctx, activity=act)


@router.post("/{activity_id}/edit", response_class=HTMLResponse)
async def save_activity(ctx: Write, activity_id: IdPath) -> Response:
    act = await _activity_or_404(ctx, activity_id)
    if act is None:
        return _missing(ctx)
    values, _ = await _form(ctx)
    body = _payload(values)
    for key in ("start_fen", "starts_at"):  # blank keeps these; blank bounds and a blank end clear theirs
        if body.get(key) in ("", None):
            body.pop(key)
    try:
        data = _validated(ActivityUpdate, body)
        async with ctx.db.tx() as s:
            await bg_activities.update_activity(s, activity_id=activity_id, data=data)
    except FormInvalid as exc:
        return await _editor(ctx, activity=act, values=values, error=exc.message, status_code=400)
    except AppError as exc:
        return await _editor(ctx, activity=act, values=values, error=error_text(exc), status_code=400)
    return RedirectResponse("/admin/bargain?ok=saved", status_code=303)


@router.post("/{activity_id}/close", response_class=HTMLResponse)
async def close_activity(ctx: Write, activity_id: IdPath) -> Response:
    if await _activity_or_404(ctx, activity_id) is None:
        return _missing(ctx)
    async with ctx.db.tx() as s:
        await bg_activities.close_activity(s, activity_id=activity_id)
    return RedirectResponse("/admin/bargain?ok=closed", status_code=303)


@router.get("/bargains", response_class=HTMLResponse)
async def bargains(ctx: Read, status: str = "", activity_id: str = "", cursor: str = "") -> Response:
    status = status if status in rules.STATUS_ZH else ""
    aid = int(activity_id) if activity_id.isdigit() and len(activity_id) < 15 else None
    async with ctx.db.read() as s:
        rows, nxt = await views.list_bargains(s, activity_id=aid, status=status or None, before_id=_cursor(cursor))
        names: dict[int, str] = {}
        for a_id in sorted({b.activity_id for b in rows} | ({aid} if aid else set())):
            try:
                names[a_id] = (await bg_activities.get_activity(s, activity_id=a_id)).title
            except AppError:
                names[a_id] = "（活动不存在）"
    keep = {"activity_id": str(aid)} if aid else {}
    tabs = [
        (k, label, "/admin/bargain/bargains?" + urlencode({**keep, **({"status": k} if k else {})}))
        for k, label in TABS
    ]
    return render(
        ctx,
        "bargain/bargains.html",
        active="bargain",
        rows=rows,
        tabs=tabs,
        status=status,
        activity_id=aid,
        names=names,
        status_zh=rules.STATUS_ZH,
        next_url=("/admin/bargain/bargains?" + urlencode({**keep, "status": status, "cursor": nxt})) if nxt else None,
        paged=bool(cursor),
    )
