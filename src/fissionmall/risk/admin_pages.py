"""Console pages of the risk layer (a module of its own: risk/admin.py holds the flash-sale limits): 风控规则
(edit with a preview against the last 24 h of decisions), 决策记录, 审核队列 (who decided, when, why), 黑白名单,
and the customer page's credit buttons (恢复信用分, 冻结 / 解冻营销资格)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fissionmall.core.errors import AppError
from fissionmall.core.schemas import MAX_BIGINT, IdPath
from fissionmall.risk import engine, reviews, rulestore
from fissionmall.risk.decisions import Action
from fissionmall.risk.rulebook import ACTION_LABELS, DEFAULTS, OUTCOME_LABELS
from fissionmall.web.console import Console, console, error_text, render

pages = APIRouter(include_in_schema=False)  # included by risk/admin.py under /admin/risk
Read = Annotated[Console, Depends(console("marketing.read"))]
Write = Annotated[Console, Depends(console("marketing"))]
Any_ = Annotated[Console, Depends(console())]
ACTIONS = [(a.value, ACTION_LABELS[a.value]) for a in Action]
NOTICES = {
    "saved": "规则已保存，立即生效",
    "deleted": "规则已删除",
    "decided": "审核已处理",
    "listed": "已加入名单，立即生效",
    "unlisted": "已移出名单",
}
LIST_KINDS = {"block": "黑名单（一律拒绝营销活动）", "allow": "白名单（跳过所有规则）"}
# What each list dimension is, for a merchant: the value an operator types.
LIST_DIMS = {
    "customer": ("买家编号", "例如：1024"),
    "device": ("设备编号", "小程序上报的设备编号，可在决策记录里找到"),
    "ip": ("网络地址", "例如：203.0.113.7"),
    "ip24": ("网段", "填写其中任一地址，例如 203.0.113.7，整个 /24 网段生效"),
    "phone": ("手机号摘要", "决策记录里的手机号摘要"),
    "address": ("收货地址摘要", "决策记录里的地址摘要"),
    "distributor": ("分销员买家编号", "例如：2048"),
}
CREDIT_DONE = {"cleared": "信用分已恢复为 100", "frozen": "已冻结营销资格", "unfrozen": "已解除冻结"}
HELP = (
    (
        "acts_device_5m",
        "这台设备 5 分钟内做这件事的次数（含本次）；device 可换成 customer、ip、ip24、phone、address、distributor",
    ),
    ("any_customer_1h", "这个买家 1 小时内所有操作的次数"),
    ("order_customer_30m", "这个买家 30 分钟内下单的次数（可换成任一操作名）"),
    ("accounts_device_5m", "这台设备 5 分钟内出现过的不同账号数（ip、ip24 同理）"),
    ("account_age_minutes", "账号注册了多少分钟"),
    ("credit", "信用分（0–100）"),
    ("amount_fen", "金额（分），如提现金额"),
    ("unpaid_orders", "30 分钟内未支付的订单数"),
    ("wechat_risk_rank", "微信风险等级 0–4（未配置或未知为 -1，不会因此拒绝）"),
    ("joins_same_leader_1d", "1 天内参加同一团长的团的次数"),
    ("helps_without_purchase", "从未购买的买家 30 天内的助力次数"),
    ("distributor_same_device", "买家与分销员用过同一台设备"),
    ("circular_referral", "循环推荐（绑定后形成环）"),
    ("refund_after_commission", "产生佣金后 1 天内退款"),
)


def _rule_form(form: Any) -> dict[str, Any]:
    def num(name: str, default: int) -> int:
        raw = str(form.get(name) or "").strip()
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else default

    return {
        "name": str(form.get("name") or "").strip()[:48],
        "label": str(form.get("label") or "").strip()[:64],
        "actions": [str(a) for a in form.getlist("actions")][:20],
        "condition": str(form.get("condition") or "").strip()[:1000],
        "outcome": str(form.get("outcome") or "deny"),
        "penalty": min(num("penalty", 0), 100),
        "position": min(num("position", 100), 10_000),
        "enabled": form.get("enabled") == "on",
        "confirm": form.get("confirm") == "on",
    }


def _form_problem(body: dict[str, Any]) -> str:
    import re

    if not re.fullmatch(r"[a-z][a-z0-9_]{1,47}", body["name"]):
        return "规则代号须以小写字母开头，只含小写字母、数字和下划线（2–48 个字符）"
    if not body["label"]:
        return "请填写规则名称"
    if body["outcome"] not in OUTCOME_LABELS:
        return "请选择处理方式"
    return ""


async def _rules_page(
    ctx: Console, *, form: dict[str, Any] | None = None, error: str = "", edit_id: int | None = None, status: int = 200
) -> Response:
    rules = await rulestore.list_rules(ctx.db)
    return render(
        ctx,
        "risk/rules.html",
        status_code=status,
        active="risk-rules",
        rules=rules,
        form=form or {"actions": [], "outcome": "deny", "penalty": 0, "position": 100, "enabled": True},
        error=error,
        edit_id=edit_id,
        actions=ACTIONS,
        action_labels=ACTION_LABELS,
        outcomes=OUTCOME_LABELS,
        help=HELP,
        notice=NOTICES.get(ctx.request.query_params.get("ok", ""), ""),
        readonly=not ctx.can("marketing"),
    )


@pages.get("/rules", response_class=HTMLResponse)
async def rules_page(ctx: Read) -> Response:
    """风控规则: the rulebook and a blank editor."""
    return await _rules_page(ctx)


@pages.get("/rules/{rule_id}", response_class=HTMLResponse)
async def rule_edit(rule_id: IdPath, ctx: Read) -> Response:
    """One rule in the editor."""
    if not 1 <= rule_id <= MAX_BIGINT:
        return await _rules_page(ctx, error="找不到这条规则", status=404)
    try:
        r = await rulestore.get_rule(ctx.db, rule_id=rule_id)
    except AppError:
        return await _rules_page(ctx, error="找不到这条规则", status=404)
    form = {
        k: getattr(r, k) for k in ("name", "label", "actions", "condition", "outcome", "penalty", "position", "enabled")
    }
    return await _rules_page(ctx, form=form, edit_id=rule_id)


async def _save(ctx: Console, rule_id: int | None) -> Response:
    body = _rule_form(await ctx.request.form())
    problem = _form_problem(body)
    if problem:
        return await _rules_page(ctx, form=body, error=problem, edit_id=rule_id, status=422)
    try:
        await rulestore.save_rule(ctx.db, body=body, rule_id=rule_id)
    except AppError as exc:
        msg = exc.message if exc.code == "RULE_INVALID" else error_text(exc)
        return await _rules_page(ctx, form=body, error=msg, edit_id=rule_id, status=422)
    return RedirectResponse("/admin/risk/rules?ok=saved", status_code=303)


@pages.post("/rules", response_class=HTMLResponse)
async def rule_create(ctx: Write) -> Response:
    """Save a new rule from the editor."""
    return await _save(ctx, None)


@pages.post("/rules/preview", response_class=HTMLResponse)
async def rule_preview(ctx: Read) -> Response:
    """The preview fragment (htmx): what the rule typed in would have done to the last 24 h."""
    body = _rule_form(await ctx.request.form())
    try:
        result = await rulestore.preview(ctx.db, body={**body, "name": "preview", "label": "preview"})
        error = ""
    except AppError as exc:
        result, error = None, (exc.message if exc.code == "RULE_INVALID" else error_text(exc))
    return render(ctx, "risk/_preview.html", result=result, error=error, outcomes=OUTCOME_LABELS)


@pages.post("/rules/{rule_id}", response_class=HTMLResponse)
async def rule_update(rule_id: IdPath, ctx: Write) -> Response:
    """Save an edited rule."""
    if not 1 <= rule_id <= MAX_BIGINT:
        return await _rules_page(ctx, error="找不到这条规则", status=404)
    return await _save(ctx, rule_id)


@pages.post("/rules/{rule_id}/delete", response_class=HTMLResponse)
async def rule_delete(rule_id: IdPath, ctx: Write) -> Response:
    """Delete a rule."""
    try:
        if not 1 <= rule_id <= MAX_BIGINT:
            raise AppError("RULE_NOT_FOUND")
        await rulestore.delete_rule(ctx.db, rule_id=rule_id)
    except AppError:
        return await _rules_page(ctx, error="找不到这条规则", status=404)
    return RedirectResponse("/admin/risk/rules?ok=deleted", status_code=303)


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and 1 <= len(raw) <= 18 and int(raw) >= 1 else None


@pages.get("/decisions", response_class=HTMLResponse)
async def decisions_page(ctx: Read) -> Response:
    """决策记录: decisions newest first, filtered by shopper, act and outcome."""
    q = ctx.request.query_params
    action = q.get("action") if q.get("action") in ACTION_LABELS else None
    outcome = q.get("outcome") if q.get("outcome") in OUTCOME_LABELS else None
    customer_id = _int(q.get("customer_id"))
    rows = await rulestore.decisions(
        ctx.db, customer_id=customer_id, action=action, outcome=outcome, before=_int(q.get("cursor")), limit=50
    )
    return render(
        ctx,
        "risk/decisions.html",
        active="risk-decisions",
        rows=rows,
        next_cursor=str(rows[-1].id) if len(rows) == 50 else None,
        actions=ACTIONS,
        action_labels=ACTION_LABELS,
        outcomes=OUTCOME_LABELS,
        rule_labels=await _rule_labels(ctx),
        filters={"customer_id": customer_id or "", "action": action or "", "outcome": outcome or ""},
    )


async def _rule_labels(ctx: Console) -> dict[str, str]:
    """Rule code -> its Chinese name (the merchant's rules, then the defaults for a deleted default rule)."""
    labels = {str(d["name"]): str(d["label"]) for d in DEFAULTS}
    labels.update({r.name: r.label for r in await rulestore.list_rules(ctx.db)})
    return labels


def _can_review(ctx: Console) -> bool:
    return ctx.can("marketing") or ctx.can("withdrawals")


@pages.get("/reviews", response_class=HTMLResponse)
async def reviews_page(ctx: Any_) -> Response:
    """审核队列: pending reviews, or the decided ones with who, when and why."""
    return await _reviews(ctx)


async def _reviews(ctx: Console, *, error: str = "", status: int = 200) -> Response:
    if not (_can_review(ctx) or ctx.can("marketing.read")):
        return render(
            ctx, "message.html", status_code=403, title="审核队列", message="你的角色不能查看审核队列", level="error"
        )
    want = ctx.request.query_params.get("status", "pending")
    want = want if want in ("pending", "released", "voided") else "pending"
    rows = await reviews.list_reviews(ctx.db, status=want, limit=100)
    return render(
        ctx,
        "risk/reviews.html",
        status_code=status,
        active="risk-reviews",
        rows=[reviews.public(r) for r in rows],
        status=want,
        error=error,
        notice=NOTICES.get(ctx.request.query_params.get("ok", ""), ""),
        can_decide=_can_review(ctx),
        rule_labels=await _rule_labels(ctx),
    )


@pages.post("/reviews/{review_id}/decide", response_class=HTMLResponse)
async def review_decide(review_id: IdPath, ctx: Any_) -> Response:
    """Release or void a review from the queue (once)."""
    if not _can_review(ctx):
        return render(
            ctx, "message.html", status_code=403, title="审核队列", message="你的角色不能处理审核", level="error"
        )
    form = await ctx.request.form()
    decision = str(form.get("decision") or "")
    note = str(form.get("note") or "").strip()[:200]
    try:
        if not 1 <= review_id <= MAX_BIGINT:
            raise AppError("REVIEW_NOT_FOUND")
        await reviews.decide(
            ctx.db,
            review_id=review_id,
            decision=decision,
            admin_id=ctx.admin.id,
            admin_name=ctx.admin.username,
            note=note,
        )
    except AppError as exc:
        msg = "找不到这条审核" if exc.code == "REVIEW_NOT_FOUND" else error_text(exc)
        return await _reviews(ctx, error=msg, status=409 if exc.code == "REVIEW_ALREADY_DECIDED" else 422)
    return RedirectResponse("/admin/risk/reviews?ok=decided", status_code=303)


# ---- 黑白名单 -------------------------------------------------------------------------------------------


async def _lists(ctx: Console, *, form: dict[str, str] | None = None, error: str = "", status: int = 200) -> Response:
    rows = await rulestore.list_entries(ctx.db)
    return render(
        ctx,
        "risk/lists.html",
        status_code=status,
        active="risk-lists",
        rows=rows,
        kinds=LIST_KINDS,
        dims=LIST_DIMS,
        form=form or {"kind": "block", "dim": "device", "value": "", "note": ""},
        error=error,
        notice=NOTICES.get(ctx.request.query_params.get("ok", ""), ""),
        readonly=not ctx.can("marketing"),
    )


@pages.get("/lists", response_class=HTMLResponse)
async def lists_page(ctx: Read) -> Response:
    """黑白名单: the entries, and a form to add one."""
    return await _lists(ctx)


@pages.post("/lists", response_class=HTMLResponse)
async def list_add(ctx: Write) -> Response:
    """Put a shopper, device, address or network on the block or allow list."""
    f = await ctx.request.form()
    form = {k: str(f.get(k) or "").strip()[:200] for k in ("kind", "dim", "value", "note")}
    if form["kind"] not in LIST_KINDS or form["dim"] not in LIST_DIMS:
        return await _lists(ctx, form=form, error="请选择名单和类型", status=422)
    if not form["value"] or len(form["value"]) > 64:
        return await _lists(ctx, form=form, error=f"请填写{LIST_DIMS[form['dim']][0]}（最多 64 个字符）", status=422)
    if form["dim"] in ("customer", "distributor") and not (form["value"].isascii() and form["value"].isdigit()):
        return await _lists(ctx, form=form, error="买家编号须是正整数", status=422)
    try:
        await rulestore.add_entry(ctx.db, kind=form["kind"], dim=form["dim"], value=form["value"], note=form["note"])
    except AppError as exc:
        dup = exc.code == "RISK_LIST_DUPLICATE"
        msg = "名单里已有这一条" if dup else "这个值无法加入名单，请检查格式（网段须填 IPv4 地址）"
        return await _lists(ctx, form=form, error=msg, status=409 if dup else 422)
    return RedirectResponse("/admin/risk/lists?ok=listed", status_code=303)


@pages.post("/lists/{entry_id}/delete", response_class=HTMLResponse)
async def list_remove(entry_id: IdPath, ctx: Write) -> Response:
    """Take an entry off its list (an id that is not there: nothing to do)."""
    if 1 <= entry_id <= MAX_BIGINT:
        await rulestore.remove_entry(ctx.db, entry_id=entry_id)
    return RedirectResponse("/admin/risk/lists?ok=unlisted", status_code=303)


# ---- the customer page's credit buttons ---------------------------------------------------------------


@pages.post("/credit/{customer_id}", response_class=HTMLResponse)
async def credit_set(customer_id: IdPath, ctx: Write) -> Response:
    """恢复信用分 / 冻结 / 解冻 from the customer page's 风控 card, then back to that page."""
    act = str((await ctx.request.form()).get("act") or "")
    if act not in CREDIT_DONE:
        return render(ctx, "message.html", status_code=422, title="风控", message="请选择要做的操作", level="error")
    try:
        if not 1 <= customer_id <= MAX_BIGINT:
            raise AppError("CUSTOMER_NOT_FOUND")
        await rulestore.customer_exists(ctx.db, customer_id=customer_id)
    except AppError:
        return render(ctx, "message.html", status_code=404, title="风控", message="找不到这个买家", level="error")
    note = f"{ctx.admin.username}：{CREDIT_DONE[act]}"
    if act == "cleared":
        await engine.set_credit(ctx.db, customer_id=customer_id, clear=True, note=note)
    else:
        await engine.set_credit(ctx.db, customer_id=customer_id, frozen=act == "frozen", note=note)
    return RedirectResponse(f"/admin/customers/{customer_id}", status_code=303)
