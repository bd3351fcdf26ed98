"""Console page for risk control: the flash-sale limits, and the shoppers blocked across every tool."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from fissionmall.accounts import service as accounts
from fissionmall.core.errors import AppError
from fissionmall.risk import service
from fissionmall.risk.rules import Limits
from fissionmall.risk.schemas import RiskLimits
from fissionmall.web.console import Console, console, error_text, render

router = APIRouter(prefix="/admin/risk", include_in_schema=False)
NAV = [
    ("risk", "风控", "/admin/risk", "marketing.read"),
    ("risk-rules", "风控规则", "/admin/risk/rules", "marketing.read"),
    ("risk-decisions", "决策记录", "/admin/risk/decisions", "marketing.read"),
    ("risk-reviews", "审核队列", "/admin/risk/reviews", "marketing.read"),
    ("risk-lists", "黑白名单", "/admin/risk/lists", "marketing.read"),
]
NAV_SECTION = "marketing"

Read = Annotated[Console, Depends(console("marketing.read"))]
Write = Annotated[Console, Depends(console("marketing"))]

# name, label, hint: written for a merchant who has never heard of a sliding window.
FIELDS = [
    ("window_seconds", "统计窗口（秒）", "下面各项“每窗口”的次数都在这段时间内累计，过后重新计数。"),
    ("per_user", "每人每窗口最多尝试次数", "同一买家在一个窗口内抢购超过这个次数，会被提示“操作太频繁”。"),
    (
        "per_ip",
        "每个网络地址每窗口最多尝试次数",
        "同一 IP 地址的总次数。公司、校园网常常共用一个地址，请设得宽松些。",
    ),
    ("per_device", "每台设备每窗口最多尝试次数", "按小程序上报的设备编号计，防止一台手机切换多个账号刷单。"),
    ("captcha_after", "超过多少次后要求输入验证码", "一个窗口内尝试超过这个次数，买家须先答对算术验证码才能继续。"),
    ("token_lead_seconds", "提前多少秒发放抢购令牌", "秒杀开始前这么久买家才能领取抢购令牌；0 表示开始时才发放。"),
]
NOTICES = {
    "limits": "风控规则已保存，立即生效",
    "blocked": "已封禁该买家：他在所有活动中的操作都会被拒绝",
    "unblocked": "已解除封禁",
}
MAX_ID = 2**62  # the API's IdPath bound


def _bounds(name: str) -> tuple[int, int]:
    """The API's bounds for one limit, so the form can never accept what PUT /risk/limits refuses."""
    lo, hi = 0, 0
    for m in RiskLimits.model_fields[name].metadata:
        lo, hi = getattr(m, "ge", lo), getattr(m, "le", hi)
    return lo, hi


BOUNDS = {name: _bounds(name) for name, _, _ in FIELDS}


def _parse_limits(form: dict[str, str]) -> tuple[Limits | None, dict[str, str]]:
    """The limits typed in, checked against the API's bounds; else a message per wrong field."""
    values: dict[str, int] = {}
    bad: set[str] = set()
    for name, _, _ in FIELDS:
        raw = form.get(name, "").strip()
        if raw.isascii() and raw.isdigit() and len(raw) <= 12:
            values[name] = int(raw)
        else:
            bad.add(name)
    if not bad:
        try:
            return Limits(**RiskLimits.model_validate(values).model_dump()), {}
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors()}
    return None, {name: f"请填写 {BOUNDS[name][0]} 到 {BOUNDS[name][1]:,} 之间的整数" for name in bad}


async def _page(
    ctx: Console,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    block_error: str = "",
    block_id: str = "",
    status_code: int = 200,
) -> Response:
    if values is None:
        service.forget()  # show what is stored, not what this process cached a moment ago (as the API does)
        values = (await service.limits(ctx.db)).to_dict()
    blocked = await accounts.blocked_customers(ctx.db)
    return render(
        ctx,
        "risk/page.html",
        status_code=status_code,
        active="risk",
        fields=FIELDS,
        values=values,
        errors=errors or {},
        blocked=blocked,
        block_error=block_error,
        block_id=block_id,
        notice=NOTICES.get(ctx.request.query_params.get("ok", ""), ""),
        readonly=not ctx.can("marketing"),
    )


@router.get("", response_class=HTMLResponse)
async def page(ctx: Read) -> Response:
    return await _page(ctx)


@router.post("/limits", response_class=HTMLResponse)
async def save_limits(ctx: Write) -> Response:
    form = {k: v for k, v in (await ctx.request.form()).items() if isinstance(v, str)}
    new, errors = _parse_limits(form)
    if new is None:
        return await _page(ctx, values=form, errors=errors, status_code=422)
    await service.save_limits(ctx.db, new=new)  # drops this process's cached limits, so the next attempt reads them
    return RedirectResponse("/admin/risk?ok=limits", status_code=303)


async def _set_blocked(ctx: Console, *, blocked: bool) -> Response:
    raw = str((await ctx.request.form()).get("customer_id") or "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19 and 1 <= int(raw) <= MAX_ID):
        return await _page(ctx, block_error="请填写买家编号（正整数）", block_id=raw[:20], status_code=422)
    try:
        await accounts.set_blocked(ctx.db, customer_id=int(raw), blocked=blocked)
    except AppError as exc:
        msg = f"找不到编号为 {raw} 的买家" if exc.code == "CUSTOMER_NOT_FOUND" else error_text(exc)
        return await _page(ctx, block_error=msg, block_id=raw, status_code=422)
    return RedirectResponse(f"/admin/risk?ok={'blocked' if blocked else 'unblocked'}", status_code=303)


@router.post("/block", response_class=HTMLResponse)
async def block(ctx: Write) -> Response:
    return await _set_blocked(ctx, blocked=True)


@router.post("/unblock", response_class=HTMLResponse)
async def unblock(ctx: Write) -> Response:
    return await _set_blocked(ctx, blocked=False)


# ---- the customer page's blocked state (customers/admin.py reads it through core/extras.py) -----------
# (appended with its own imports)

from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from fissionmall.core import extras  # noqa: E402


@extras.contributes(extras.CUSTOMER_PANELS)
async def _customer_risk(s: AsyncSession, customer_id: int) -> dict[str, Any]:
    c = await accounts.get_customer(s, customer_id=customer_id)
    blocked = bool(c and c.is_blocked)
    fields = (("customer_id", str(customer_id)),)
    if blocked:
        action = ("解除封禁", "/admin/risk/unblock", fields, "", False)
    else:
        question = "确定封禁这个买家吗？封禁后他的所有请求都会被拒绝，直到解除。"
        action = ("封禁", "/admin/risk/block", fields, question, True)
    state = "已封禁：下单、秒杀、拼团、领券等操作都会被拒绝" if blocked else "正常"
    link = ("风控记录", f"/admin/risk/decisions?customer_id={customer_id}")
    row = await s.get(RiskCredit, customer_id)
    st = credit.Standing(row.score, row.scored_at, row.frozen) if row else credit.FRESH
    score = credit.score_of(st, customer_id)
    standing = (
        "已冻结：不能参加营销活动"
        if st.frozen
        else ("偏低：营销活动暂不可参加" if score < credit.FREEZE_BELOW else "正常")
    )
    rows = (("状态", state), ("信用分", f"{score} / 100"), ("营销资格", standing))
    part = {"customer_id": customer_id, "score": score, "full": score >= credit.START, "frozen": st.frozen}
    return {
        "risk": extras.CustomerPanel(
            "风控", 40, rows, link=link, action=action, include=("admin/risk/_credit.html", part)
        )
    }


from fissionmall.risk import credit  # noqa: E402
from fissionmall.risk.admin_pages import pages  # noqa: E402
from fissionmall.risk.models import RiskCredit  # noqa: E402

router.include_router(pages)
