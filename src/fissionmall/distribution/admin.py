"""Console pages for distribution: settings, distributors (approval, ranking, drill-down), withdrawals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from fissionmall.accounts import service as accounts
from fissionmall.catalog.admin import clean_ids, picked_products, picked_skus
from fissionmall.core.errors import AppError
from fissionmall.core.schemas import IdPath, parse_cursor
from fissionmall.distribution import board, config, settlement
from fissionmall.distribution import distributors as distributor_flow
from fissionmall.distribution import withdrawals as withdrawal_flow
from fissionmall.distribution.models import Commission, Distributor
from fissionmall.distribution.schemas import ConfigUpdate
from fissionmall.distribution.settings_form import (
    APPROVAL_ZH,
    BIND_MODE_ZH,
    FIELDS,
    ROW_LABELS,
    SAMPLE_FEN,
    SOURCE_MODE_ZH,
    SOURCES_ZH,
    TARGETS,
    UNIT_ZH,
    SettingsForm,
    Typed,
    blank,
    check,
    config_data,
    from_saved,
    place,
    preview,
    price_text,
    stub,
    typed_body,
)
from fissionmall.orders.models import Order, OrderLine
from fissionmall.web.console import (
    Console,
    FormInvalid,
    console,
    error_text,
    field_errors,
    form_list,
    form_text,
    form_to,
    render,
)

router = APIRouter(prefix="/admin/distribution", include_in_schema=False)
NAV = [
    ("distribution", "分销", "/admin/distribution", "marketing.read"),
    ("distribution-withdrawals", "佣金提现", "/admin/distribution/withdrawals", "withdrawals.read", "finance"),
]
NAV_SECTION = "distribution"

Read = Annotated[Console, Depends(console("marketing.read"))]
Write = Annotated[Console, Depends(console("marketing"))]
WdRead = Annotated[Console, Depends(console("withdrawals.read"))]
WdWrite = Annotated[Console, Depends(console("withdrawals"))]

DISTRIBUTOR_STATUS_ZH = {"pending": "待审核", "approved": "已通过", "rejected": "已拒绝", "disabled": "已停用"}
WITHDRAWAL_STATUS_ZH = {
    "pending": "待审核",
    "held": "风控审核中",
    "paying": "打款中",
    "paid": "已到账",
    "failed": "打款失败（已退回）",
    "rejected": "已拒绝（已退回）",
}
KIND_ZH = {
    "accrue": "订单佣金（冻结）",
    "mature_out": "结算解冻",
    "mature_in": "结算入账",
    "reverse": "退款扣回",
    "void": "订单作废",
    "withdraw_hold": "提现冻结",
    "withdraw_paid": "提现到账",
    "withdraw_return": "提现退回",
}
VOCAB: dict[str, Any] = {
    "DISTRIBUTOR_STATUS_ZH": DISTRIBUTOR_STATUS_ZH,
    "WITHDRAWAL_STATUS_ZH": WITHDRAWAL_STATUS_ZH,
    "KIND_ZH": KIND_ZH,
    "BIND_MODE_ZH": BIND_MODE_ZH,
    "APPROVAL_ZH": APPROVAL_ZH,
}


def _err(exc: AppError) -> str:
    return error_text(exc)  # the shared table: an English message never reaches the operator


def _back(path: str, **params: str) -> RedirectResponse:
    return RedirectResponse(path + (f"?{urlencode(params)}" if params else ""), status_code=303)


# ---- the settings form: rates in %, amounts in 元, overrides as rows (stored as bp and fen) ----------------


def _typed_rows(form: FormData, kind: str) -> list[dict[str, Any]]:
    prefix = TARGETS[kind][0]
    cols = {c: form_list(form, f"{prefix}_{c}") for c in ("id", "l1", "l1_unit", "l2", "l2_unit")}
    rows = []
    for i, target in enumerate(cols["id"]):
        row = {c: (v[i].strip() if i < len(v) else "") for c, v in cols.items()}
        row["id"] = target.strip()
        for u in ("l1_unit", "l2_unit"):
            row[u] = row[u] if row[u] in UNIT_ZH else "rate"
        rows.append({**row, "errors": {}})
    return rows


def _from_form(form: FormData) -> SettingsForm:
    values: dict[str, Any] = {
        "enabled": form.get("enabled") == "on",
        "self_purchase_commission": form.get("self_purchase_commission") == "on",
        "bind_mode": form_text(form, "bind_mode", 32),
        "approval": form_text(form, "approval", 32),
    }
    for name, *_ in FIELDS:
        values[name] = form_text(form, name, 64).strip()
    sources = []
    for key, label in SOURCES_ZH.items():
        mode = form_text(form, f"src_{key}", 16)
        sources.append(
            {
                "key": key,
                "label": label,
                "mode": mode if mode in SOURCE_MODE_ZH else "shop",
                "level1": form_text(form, f"src_{key}_level1", 64).strip(),
                "level2": form_text(form, f"src_{key}_level2", 64).strip(),
                "errors": {},
            }
        )
    return SettingsForm(values=values, sources=sources, rows={k: _typed_rows(form, k) for k in TARGETS})


def read_settings(form: FormData) -> tuple[SettingsForm, ConfigUpdate | None]:
    """The settings form read into ConfigUpdate, or the form with every refusal beside its field."""
    f = _from_form(form)
    labels = {**{key: label for _, key, _, label in FIELDS}, **ROW_LABELS}
    rates = ("level1_rate_bp", "level2_rate_bp", "cap_bp", "withdraw_fee_bp")
    money = ("min_withdraw_fen", "level1_fixed_fen", "level2_fixed_fen")
    body = typed_body(f)

    def typed_of(body: dict[str, Any]) -> Typed:
        whole = ("levels", "frozen_days", "binding_expiry_days")
        return form_to(Typed, body, rate=rates, money=money, whole=whole, labels=labels)

    try:
        typed = typed_of(body)
    except FormInvalid as exc:
        place(f, exc.errors)
        # The rest is still checked with what was readable, so a second mistake does not wait for a second save.
        for path in exc.errors:
            blank(body, path.split("."))
        try:
            typed = typed_of(body)
        except FormInvalid:
            typed = Typed()
    check(f, typed)
    if f.has_errors:
        return f, None
    try:
        return f, ConfigUpdate.model_validate(config_data(f, typed))
    except ValidationError as exc:  # the last word stays the API's: a rule the console does not know yet
        place(f, {"form": "；".join(field_errors(exc, labels).values())})
    except AppError as exc:
        f.errors["form"] = error_text(exc)
    return f, None


async def _with_items(ctx: Console, f: SettingsForm) -> None:
    """Each override row gets the picker's item (name, thumbnail, price) for its product or SKU."""
    for kind, pick in (("product", picked_products), ("sku", picked_skus)):
        rows = f.rows[kind]
        items = {str(it["id"]): it for it in await pick(ctx.db, clean_ids([r["id"] for r in rows]))}
        for r in rows:
            r["item"] = items.get(r["id"]) or stub(kind, r["id"])


async def _config_page(ctx: Console, *, form: SettingsForm | None = None, status: int = 200) -> Response:
    """The settings page: what is saved, or (after a refusal) what the operator typed with every refusal."""
    async with ctx.db.read() as s:
        saved = await config.get_config(s)
        by_gmv = await board.ranking(s, by="gmv", limit=10)
        by_commission = await board.ranking(s, by="commission", limit=10)
    form = form or from_saved(saved)
    await _with_items(ctx, form)
    return render(
        ctx,
        "distribution/index.html",
        status_code=status,
        active="distribution",
        form=form,
        preview=preview(level1_bp=saved.level1_rate_bp, level2_bp=saved.level2_rate_bp, levels=saved.levels),
        sample=price_text(SAMPLE_FEN).removeprefix("¥"),
        notice="设置已保存" if ctx.request.query_params.get("ok") else "",
        by_gmv=by_gmv,
        by_commission=by_commission,
        SOURCES_ZH=SOURCES_ZH,
        SOURCE_MODE_ZH=SOURCE_MODE_ZH,
        UNIT_ZH=UNIT_ZH,
        **VOCAB,
    )


@router.get("")
async def index(ctx: Read) -> Response:
    return await _config_page(ctx)


@router.post("/config")
async def save_config(ctx: Write) -> Response:
    form, cfg = read_settings(await ctx.request.form())
    if cfg is None:
        return await _config_page(ctx, form=form, status=400)
    async with ctx.db.tx() as s:
        await config.save_config(s, data=cfg, admin_id=ctx.admin.id)
    return _back("/admin/distribution", ok="1")


@router.get("/distributors")
async def distributors(ctx: Read, status: str = "", cursor: str = "") -> Response:
    status = status if status in DISTRIBUTOR_STATUS_ZH else ""
    try:
        before = parse_cursor(cursor)
    except AppError:
        before = None
    async with ctx.db.read() as s:
        rows, nxt = await board.list_distributors(s, status=status or None, before_id=before, limit=20)
    return render(
        ctx,
        "distribution/distributors.html",
        active="distribution",
        rows=rows,
        status=status,
        next_url=f"/admin/distribution/distributors?{urlencode({'status': status, 'cursor': nxt})}" if nxt else None,
        notice=ctx.request.query_params.get("ok", ""),
        **VOCAB,
    )


@router.post("/distributors/{distributor_id}/decide")
async def decide(ctx: Write, distributor_id: IdPath) -> Response:
    form = await ctx.request.form()
    try:
        async with ctx.db.tx() as s:
            await distributor_flow.decide_distributor(
                s, distributor_id=distributor_id, approve=form.get("approve") == "1", admin_id=ctx.admin.id
            )
    except AppError as exc:
        return _back("/admin/distribution/distributors", ok=_err(exc))
    return _back("/admin/distribution/distributors", ok="已处理")


async def _orders_named(s: AsyncSession, entries: Sequence[Commission]) -> dict[str, dict[int, Any]]:
    """The ledger's orders and lines by id: the order's number and buyer, the line's product and SKU names."""
    ids = {e.order_id for e in entries if e.order_id}
    if not ids:
        return {"orders": {}, "lines": {}}
    rows = (await s.execute(select(Order.id, Order.no, Order.customer_id).where(Order.id.in_(ids)))).all()
    buyers = await accounts.nicknames_of(s, customer_ids=[c for _, _, c in rows])
    lines = await s.execute(
        select(OrderLine.id, OrderLine.title, OrderLine.sku_name).where(OrderLine.order_id.in_(ids))
    )
    return {
        "orders": {i: {"no": no, "buyer": buyers.get(c, "—")} for i, no, c in rows},
        "lines": {i: f"{t} · {k}" if k else t for i, t, k in lines.all()},
    }


@router.get("/distributors/{distributor_id}")
async def detail(ctx: Read, distributor_id: IdPath) -> Response:
    async with ctx.db.read() as s:
        d = await s.get(Distributor, distributor_id)
        if d is None:
            return render(
                ctx, "message.html", status_code=404, title="找不到分销员", message="分销员不存在", level="error"
            )
        summary = await board.distributor_summary(s, distributor=d)
        bal = await board.balances(s, customer_id=d.customer_id)
        l1, l2 = await board.team_sizes(s, customer_id=d.customer_id)
        statements = await settlement.statements_of(s, customer_id=d.customer_id)
        entries, _ = await board.ledger(s, customer_id=d.customer_id, before_id=None, limit=50)
        named = await _orders_named(s, entries)
        wds, _ = await withdrawal_flow.list_withdrawals(s, customer_id=d.customer_id, limit=20)
    return render(
        ctx,
        "distribution/detail.html",
        active="distribution",
        d=summary,
        bal=bal,
        l1=l1,
        l2=l2,
        statements=statements,
        entries=entries,
        named=named,
        withdrawals=wds,
        **VOCAB,
    )


async def _distributors_named(s: AsyncSession, customer_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each customer's nickname and distributor page (the withdrawals list links the name, never shows an id)."""
    nick = await accounts.nicknames_of(s, customer_ids=customer_ids)
    ids = dict(
        (
            await s.execute(
                select(Distributor.customer_id, Distributor.id).where(Distributor.customer_id.in_(list(nick)))
            )
        ).all()
    )
    return {c: {"nickname": nick.get(c, "已注销的顾客"), "id": ids.get(c)} for c in customer_ids}


@router.get("/withdrawals")
async def withdrawals(ctx: WdRead, status: str = "pending", cursor: str = "") -> Response:
    status = status if status in WITHDRAWAL_STATUS_ZH or status == "all" else "pending"
    try:
        before = parse_cursor(cursor)
    except AppError:
        before = None
    async with ctx.db.read() as s:
        rows, nxt = await withdrawal_flow.list_withdrawals(
            s, status=None if status == "all" else status, before_id=before, limit=20
        )
        names = await _distributors_named(s, [w.distributor_customer_id for w in rows])
    return render(
        ctx,
        "distribution/withdrawals.html",
        active="distribution-withdrawals",
        rows=rows,
        names=names,
        status=status,
        next_url=f"/admin/distribution/withdrawals?{urlencode({'status': status, 'cursor': nxt})}" if nxt else None,
        notice=ctx.request.query_params.get("ok", ""),
        **VOCAB,
    )


@router.post("/withdrawals/{withdrawal_id}/approve")
async def approve(ctx: WdWrite, withdrawal_id: IdPath) -> Response:
    try:
        async with ctx.db.tx() as s:
            await withdrawal_flow.approve_withdrawal(s, withdrawal_id=withdrawal_id, admin_id=ctx.admin.id)
    except AppError as exc:
        return _back("/admin/distribution/withdrawals", ok=_err(exc))
    return _back("/admin/distribution/withdrawals", ok="已同意，正在打款", status="all")


@router.post("/withdrawals/{withdrawal_id}/reject")
async def reject(ctx: WdWrite, withdrawal_id: IdPath) -> Response:
    form = await ctx.request.form()
    reason = str(form.get("reason") or "").strip()[:200] or "不符合提现要求"
    try:
        async with ctx.db.tx() as s:
            await withdrawal_flow.reject_withdrawal(
                s, withdrawal_id=withdrawal_id, admin_id=ctx.admin.id, reason=reason
            )
    except AppError as exc:
        return _back("/admin/distribution/withdrawals", ok=_err(exc))
    return _back("/admin/distribution/withdrawals", ok="已拒绝，金额已退回分销员")


# ---- the customer pages' distribution: relation filter and column, the distribution card ---------------
# (appended with its own imports; customers/admin.py reads these through core/extras.py)


from fissionmall.accounts.models import Customer  # noqa: E402
from fissionmall.core import extras  # noqa: E402
from fissionmall.distribution.models import Binding  # noqa: E402
from fissionmall.web.console import local_time, money, whole_number  # noqa: E402

RELATION_ZH = {"distributor": "是分销员", "bound": "已绑定分销员", "unbound": "未绑定分销员"}
ORIGIN_ZH = {"registration": "注册时绑定", "share_link": "分享链接绑定"}


@extras.contributes(extras.CUSTOMER_FILTERS)
async def _customer_filters(params: dict[str, str]) -> dict[str, Any]:
    relation, raw_upline = params.get("relation", ""), params.get("bound_to", "")
    upline = whole_number(raw_upline) if raw_upline else None
    errors = (("bound_to", "请从搜索结果中选择分销员"),) if raw_upline and not upline else ()
    where = []
    if relation == "distributor":
        where.append(Customer.id.in_(select(Distributor.customer_id).where(Distributor.status == "approved")))
    elif relation in ("bound", "unbound"):
        bound = Customer.id.in_(select(Binding.customer_id))
        where.append(bound if relation == "bound" else ~bound)
    if upline:
        where.append(Customer.id.in_(select(Binding.customer_id).where(Binding.distributor_customer_id == upline)))
    fields = (
        extras.FilterField("select", ("relation",), "分销关系", (("", "不限"), *RELATION_ZH.items())),
        extras.FilterField("customer", ("bound_to",), "绑定的分销员", hint="他带来的客户"),
    )
    cond = where[0] if len(where) == 1 else (where[0] & where[1] if where else None)
    return {"distribution": extras.CustomerFilter(fields, cond, errors, order=30)}


@extras.contributes(extras.CUSTOMER_COLUMNS)
async def _customer_column(s: AsyncSession, customer_ids: list[int]) -> dict[str, Any]:
    ids = set(customer_ids)
    if not ids:
        return {}
    selling = set((await s.scalars(select(Distributor.customer_id).where(Distributor.customer_id.in_(ids)))).all())
    bindings = dict(
        (
            await s.execute(
                select(Binding.customer_id, Binding.distributor_customer_id).where(Binding.customer_id.in_(ids))
            )
        ).all()
    )
    names = await accounts.nicknames_of(s, customer_ids=list(bindings.values()))
    text = {cid: f"上级 {names.get(up, f'#{up}')}" for cid, up in bindings.items()}
    text.update({cid: "分销员" for cid in selling})
    return {"分销": text}


@extras.contributes(extras.CUSTOMER_PANELS)
async def _customer_distribution(s: AsyncSession, customer_id: int) -> dict[str, Any]:
    d = await s.scalar(select(Distributor).where(Distributor.customer_id == customer_id))
    b = await s.scalar(select(Binding).where(Binding.customer_id == customer_id))
    rows: list[tuple[str, extras.Cell]] = []
    if d is not None:
        status = DISTRIBUTOR_STATUS_ZH.get(d.status, d.status)
        rows.append(("分销员", (status, f"/admin/distribution/distributors/{d.id}")))
        rows.append(("分享码", d.share_code))
        l1, l2 = await board.team_sizes(s, customer_id=customer_id)
        rows.append(("下级人数", f"一级 {l1} 人 · 二级 {l2} 人"))
        bal = await board.balances(s, customer_id=customer_id)
        rows.append(("可提现佣金", money(bal.get("available", 0))))
    else:
        rows.append(("分销员", "不是分销员"))
    if b is not None:
        name = (await accounts.nicknames_of(s, customer_ids=[b.distributor_customer_id])).get(b.distributor_customer_id)
        rows.append(
            ("上级分销员", (name or f"#{b.distributor_customer_id}", f"/admin/customers/{b.distributor_customer_id}"))
        )
        rows.append(("绑定方式", ORIGIN_ZH.get(b.origin, b.origin)))
        rows.append(("绑定时间", local_time(b.bound_at)))
        rows.append(("绑定到期", local_time(b.expires_at) if b.expires_at else "长期有效"))
    else:
        rows.append(("上级分销员", "未绑定"))
    return {"distribution": extras.CustomerPanel("分销关系", 30, tuple(rows))}
