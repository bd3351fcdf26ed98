"""Console pages for the system: durable jobs (counts, dead letters, retry) and the payment gateway's
notifications, the dead-letter badge of the 系统 section, the 开发者 page (where the API documentation
of web/docs.py is) and 实时监控 (ops/monitor.py's figures, refreshed every few seconds)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import jobs
from fissionmall.core.schemas import IdPath, to_local
from fissionmall.ops import monitor
from fissionmall.ops import service as ops
from fissionmall.ops.errors import OpsError
from fissionmall.payments import service as payments
from fissionmall.seckill.admin import reason_text
from fissionmall.web.console import Console, console, counter, not_found, refusal, render, vocabulary

router = APIRouter(prefix="/admin", include_in_schema=False)
NAV = [
    ("jobs", "任务/死信", "/admin/jobs", "system"),
    ("notifications", "支付通知", "/admin/notifications", "system"),
    ("developer", "开发者", "/admin/developer", "system"),
    ("monitor", "实时监控", "/admin/monitor", "monitor"),
]
NAV_SECTION = "system"

System = Annotated[Console, Depends(console("system"))]
Monitor = Annotated[Console, Depends(console("monitor"))]

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
vocabulary(JOB_STATUS_ZH=JOB_STATUS_ZH, NOTE_KIND_ZH=NOTE_KIND_ZH, NOTE_OUTCOME_ZH=NOTE_OUTCOME_ZH, NOTE_OK=NOTE_OK)


# The dead letters are a badge on 任务/死信 (the 系统 section), not a figure of the merchant's 概览.
@counter("jobs", "system")
async def _dead_jobs(ctx: Console, s: AsyncSession) -> int:
    return (await ops.job_counts(s)).get("dead", 0)


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
            return refusal(ctx, "无法重试", OpsError.JOB_NOT_DEAD.text, status_code=409)
        return RedirectResponse("/admin/jobs", status_code=303)
    async with ctx.db.read() as s:
        job = await s.get(jobs.Job, job_id)
    if job is None:
        return not_found(ctx, "该任务不存在。")
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


# ---- 开发者: the API documentation's addresses, said in Chinese ----------------------------------------

# (address, name, what it is): the page's rows, also what its test reads.
DOC_LINKS = (
    (
        "/docs",
        "接口文档（交互式）",
        "Swagger UI：按模块列出全部接口，可查看参数、返回格式，并可在页面上直接发起请求调试。",
    ),
    (
        "/redoc",
        "接口文档（阅读版）",
        "Redoc：同一份接口说明的单页阅读版，左侧目录、右侧示例，适合通读与打印。",
    ),
    (
        "/openapi.json",
        "OpenAPI 描述文件",
        "机器可读的接口定义（OpenAPI 3 格式的 JSON），可导入 Postman、Apifox 等工具或生成客户端代码。",
    ),
    (
        "/api/v1/error-codes",
        "错误码对照表",
        "每个错误码及其中文说明（JSON）。商城与后台显示的提示都来自这张表。",
    ),
)


@router.get("/developer", response_class=HTMLResponse)
async def developer_page(ctx: System) -> Response:
    return render(ctx, "developer.html", active="developer", links=DOC_LINKS)


# ---- 实时监控 ----------------------------------------------------------------------------------------------

REFRESH_SECONDS = 5
CHART_HEIGHT = 100
BAR_WIDTH = 10


def _bars(values: list[int], peak: int) -> list[dict[str, int]]:
    """SVG bar geometry (attributes only: the console's policy allows no inline style)."""
    out = []
    for i, v in enumerate(values):
        h = 0 if peak <= 0 else max(1 if v else 0, round(v * CHART_HEIGHT / peak))
        out.append({"x": i * BAR_WIDTH, "y": CHART_HEIGHT - h, "h": h, "v": v})
    return out


def _pct(bp: int | None) -> str:
    return "—" if bp is None else f"{bp / 100:.2f}%"


async def _monitor_view(ctx: Console) -> dict[str, Any]:
    f = await monitor.figures(ctx.db)
    orders = f["orders"]
    peak = max(f["orders_peak"], 1)
    for o, placed, paid in zip(orders, _bars([o["placed"] for o in orders], peak),
                               _bars([o["paid"] for o in orders], peak), strict=True):  # fmt: skip
        o["label"] = to_local(o["at"]).strftime("%H:%M")
        o["bar"], o["paid_bar"] = placed, paid
    http = f["http"]
    http["bars"] = _bars([m["requests"] for m in http["minutes"]], max([m["requests"] for m in http["minutes"]] or [1]))
    f["success_pct"] = _pct(f["payments"]["success_bp"])
    f["error_pct"] = _pct(http["error_bp"])
    f["refused"] = [(reason_text(code), n) for code, n in f["seckill"]["refused"].items()]
    f["chart"] = {"width": BAR_WIDTH * len(orders), "height": CHART_HEIGHT, "bar": BAR_WIDTH - 2}
    f["refresh"] = REFRESH_SECONDS
    return f


@router.get("/monitor", response_class=HTMLResponse)
async def monitor_page(ctx: Monitor) -> Response:
    return render(ctx, "monitor.html", active="monitor", m=await _monitor_view(ctx))


@router.get("/monitor/figures", response_class=HTMLResponse)
async def monitor_figures(ctx: Monitor) -> Response:
    """The page's figures alone: what htmx swaps in every REFRESH_SECONDS."""
    return render(ctx, "_monitor.html", m=await _monitor_view(ctx))
