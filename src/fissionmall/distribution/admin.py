"""Console pages for distribution: settings, distributors (approval, ranking, drill-down), withdrawals."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from fissionmall.core.errors import AppError
from fissionmall.core.schemas import IdPath, parse_cursor
from fissionmall.distribution import board, config, settlement
from fissionmall.distribution import distributors as distributor_flow
from fissionmall.distribution import withdrawals as withdrawal_flow
from fissionmall.distribution.models import Distributor
from fissionmall.distribution.schemas import ConfigUpdate
from fissionmall.web.console import Console, FormInvalid, console, error_text, form_to, render

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
BIND_MODE_ZH = {"first": "首次绑定有效", "registration_only": "仅注册时绑定", "latest": "以最新链接为准"}
APPROVAL_ZH = {"auto": "自动通过", "manual": "人工审核", "everyone": "人人分销"}
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


async def _config_page(
    ctx: Console, *, cfg: dict[str, Any] | None = None, error: str = "", status: int = 200, typed: str | None = None
) -> Response:
    """The settings page; after a refusal it shows what the operator sent (`typed`: the advanced box as typed)."""
    async with ctx.db.read() as s:
        current = (await config.get_config(s)).model_dump(mode="json")
        by_gmv = await board.ranking(s, by="gmv", limit=10)
        by_commission = await board.ranking(s, by="commission", limit=10)
    cfg = cfg or current
    return render(
        ctx,
        "distribution/index.html",
        status_code=status,
        active="distribution",
        cfg=cfg,
        advanced=typed
        if typed is not None
        else json.dumps(
            {"overrides": cfg.get("overrides", []), "source_rates": cfg.get("source_rates", {})},
            ensure_ascii=False,
            indent=2,
        ),
        error=error,
        notice="设置已保存" if ctx.request.query_params.get("ok") else "",
        by_gmv=by_gmv,
        by_commission=by_commission,
        **VOCAB,
    )


@router.get("")
async def index(ctx: Read) -> Response:
    return await _config_page(ctx)


WHOLE = (
    "levels",
    "level1_rate_bp",
    "level2_rate_bp",
    "cap_bp",
    "frozen_days",
    "binding_expiry_days",
    "min_withdraw_fen",
    "withdraw_fee_bp",
)
LABELS = {
    "levels": "分销层级",
    "level1_rate_bp": "一级佣金比例",
    "level2_rate_bp": "二级佣金比例",
    "cap_bp": "佣金上限",
    "frozen_days": "冻结天数",
    "binding_expiry_days": "绑定有效天数",
    "min_withdraw_fen": "最低提现金额",
    "withdraw_fee_bp": "提现手续费",
    "bind_mode": "绑定方式",
    "approval": "审核方式",
}


@router.post("/config")
async def save_config(ctx: Write) -> Response:
    form = await ctx.request.form()
    data: dict[str, Any] = {
        "enabled": form.get("enabled") == "on",
        "self_purchase_commission": form.get("self_purchase_commission") == "on",
        "bind_mode": form.get("bind_mode"),
        "approval": form.get("approval"),
    }
    for name in WHOLE:
        data[name] = str(form.get(name) or "").strip()
    typed = str(form.get("advanced") or "")
    try:
        advanced = json.loads(typed or "{}")
    except ValueError:
        advanced = None
    if not isinstance(advanced, dict):
        error = '设置有误：高级设置须为 JSON 对象，例如 {"overrides": [], "source_rates": {}}'
        return await _config_page(ctx, cfg=data, error=error, status=400, typed=typed)
    data.update({k: advanced[k] for k in ("overrides", "source_rates") if k in advanced})
    try:
        cfg = form_to(ConfigUpdate, data, whole=WHOLE, labels=LABELS)
    except AppError as exc:
        return await _config_page(ctx, cfg=data, error=_err(exc), status=400, typed=typed)
    except FormInvalid as exc:
        return await _config_page(ctx, cfg=data, error=f"设置有误：{exc.message[:300]}", status=400, typed=typed)
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
        withdrawals=wds,
        **VOCAB,
    )


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
        names = {
            w.distributor_customer_id: await board.nickname(s, customer_id=w.distributor_customer_id) for w in rows
        }
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

from sqlalchemy import select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from fissionmall.accounts import service as accounts  # noqa: E402
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
