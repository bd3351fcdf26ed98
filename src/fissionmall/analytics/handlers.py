"""The server's own events, recorded once: orders, payments, refunds, registrations and participations.

Each subscriber turns one outbox event into one row (two for a line refund's order, none for a grant
that was not a claim), keyed `"<event type>:<domain id>"` so a redelivery adds nothing (recorder.py).
A row's time is the outbox event's (when it happened: a refund on the refund date), not the worker's.
On `OrderPaid` the order is also attributed (attribution.py). Flash-sale attempts are not events: the
worker copies seckill's own attempt rows in batches (seckill_copy.py), so the hot path writes nothing
more. Tools never import this package; it imports their typed events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.analytics import attribution, seckill_copy  # noqa: F401  (seckill_copy: its loop)
from fissionmall.analytics import rollups as rollups  # the dashboard's rollup loop and subscribers
from fissionmall.analytics.models import AnalyticsEvent
from fissionmall.analytics.recorder import record
from fissionmall.bargain.events import BargainHelped, BargainStarted
from fissionmall.core import jobs
from fissionmall.core.errors import AppError
from fissionmall.core.events import DomainEvent
from fissionmall.coupons.events import CouponGranted
from fissionmall.distribution import binding, distributors
from fissionmall.distribution.events import DistributorApplied
from fissionmall.experiments import service as experiments
from fissionmall.groupbuy.events import GroupJoined, GroupOpened
from fissionmall.orders.events import OrderCreated, OrderLineRefunded, OrderPaid
from fissionmall.orders.models import Order

E = TypeVar("E", bound=DomainEvent)
# An order's attribution names the tool's campaign by these keys (orders placed by a tool).
CAMPAIGN_KEYS = {
    "seckill_item_id": "seckill",
    "groupbuy_activity_id": "groupbuy",
    "bargain_activity_id": "bargain",
    "points_mall_item_id": "points_mall",
}


def subscribe(
    cls: type[E], name: str
) -> Callable[[Callable[[AsyncSession, E, jobs.Job], Awaitable[None]]], Callable[..., Awaitable[None]]]:
    """Like `core.events.on`, but the handler also gets the job (the event's time and outbox id)."""

    def deco(fn: Callable[[AsyncSession, E, jobs.Job], Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        async def handle(s: AsyncSession, job: jobs.Job) -> None:
            await fn(s, cls.parse(job.payload), job)

        handle.__qualname__ = fn.__qualname__
        jobs.on(cls.type_name(), name)(handle)
        return fn

    return deco


def campaign_of(order_attribution: dict[str, Any] | None) -> str | None:
    """The tool's campaign an order came from ("groupbuy:12"), from the order's attribution."""
    for key, tool in CAMPAIGN_KEYS.items():
        value = (order_attribution or {}).get(key)
        if isinstance(value, int):
            return f"{tool}:{value}"
    return None


async def distributor_of_ref(s: AsyncSession, *, ref: str | None) -> int | None:
    """The distributor (their shopper id) behind a share code; None for no code or one not in use."""
    if not ref:
        return None
    try:
        return (await distributors.by_code(s, ref=ref)).customer_id
    except AppError:
        return None


@subscribe(OrderCreated, "analytics.order_created")
async def _order_created(s: AsyncSession, e: OrderCreated, job: jobs.Job) -> None:
    order = await s.get(Order, e.order_id)
    await record(
        s,
        kind="order_created",
        at=job.created_at,
        key=f"OrderCreated:{e.order_id}",
        customer_id=e.customer_id,
        tool=e.source,
        campaign=campaign_of(order.attribution if order else None),
        variant=await experiments.variant_of(s, customer_id=e.customer_id, at=job.created_at),
        order_id=e.order_id,
        amount_fen=e.payable_fen,
    )


@subscribe(OrderPaid, "analytics.order_paid")
async def _order_paid(s: AsyncSession, e: OrderPaid, job: jobs.Job) -> None:
    order = await s.get(Order, e.order_id)
    paid_at = (order.paid_at if order else None) or job.created_at
    dist = await binding.upline(s, customer_id=e.customer_id, now=paid_at)
    await record(
        s,
        kind="order_paid",
        at=paid_at,
        key=f"OrderPaid:{e.order_id}",
        customer_id=e.customer_id,
        tool=e.source,
        campaign=campaign_of(e.attribution),
        distributor_id=dist,
        variant=await experiments.variant_of(s, customer_id=e.customer_id, at=order.created_at if order else paid_at),
        order_id=e.order_id,
        amount_fen=e.paid_fen,
    )
    await attribution.attribute(
        s,
        order_id=e.order_id,
        customer_id=e.customer_id,
        source=e.source,
        created_at=order.created_at if order else paid_at,
        paid_at=paid_at,
        paid_fen=e.paid_fen,
        distributor_id=dist,
    )


@subscribe(OrderLineRefunded, "analytics.order_refund")
async def _line_refunded(s: AsyncSession, e: OrderLineRefunded, job: jobs.Job) -> None:
    paid = (
        await s.execute(
            select(AnalyticsEvent.distributor_id, AnalyticsEvent.campaign).where(
                AnalyticsEvent.key == f"OrderPaid:{e.order_id}"
            )
        )
    ).first()
    await record(
        s,
        kind="order_refund",
        at=job.created_at,  # the refund's date, not the order's: GMV net of refunds on the refund date
        key=f"OrderLineRefunded:{e.refund_id}:{e.line_id}",
        customer_id=e.customer_id,
        tool=e.source,
        campaign=paid.campaign if paid else None,
        distributor_id=paid.distributor_id if paid else None,
        order_id=e.order_id,
        ref=str(e.refund_id),
        amount_fen=e.amount_fen,
    )


@jobs.on("CustomerRegistered", "analytics.customer_new")
async def _registered(s: AsyncSession, job: jobs.Job) -> None:
    ref = job.payload.get("ref")
    await record(
        s,
        kind="customer_new",
        at=job.created_at,
        key=f"CustomerRegistered:{job.payload['customer_id']}",
        customer_id=int(job.payload["customer_id"]),
        distributor_id=await distributor_of_ref(s, ref=ref),
        ref=str(ref)[:64] if ref else None,
    )


def participation(
    cls: type[E], name: str, kind: str
) -> Callable[[Callable[[E], dict[str, Any] | None]], Callable[[E], dict[str, Any] | None]]:
    """Record a tool's participation event as `kind` at the event's time; the function gives the row's
    fields (its key first of all), or None for an event that is no participation."""

    def deco(fn: Callable[[E], dict[str, Any] | None]) -> Callable[[E], dict[str, Any] | None]:
        async def handle(s: AsyncSession, e: E, job: jobs.Job) -> None:
            fields = fn(e)
            if fields is not None:
                if "variant" not in fields:
                    cid = fields.get("customer_id")
                    fields["variant"] = await experiments.variant_of(s, customer_id=cid, at=job.created_at)
                await record(s, kind=kind, at=job.created_at, **fields)

        handle.__qualname__ = fn.__qualname__
        subscribe(cls, name)(handle)
        return fn

    return deco


@participation(BargainStarted, "analytics.bargain_start", "bargain_start")
def _bargain_started(e: BargainStarted) -> dict[str, Any]:
    key = f"BargainStarted:{e.bargain_id}"
    return {"key": key, "customer_id": e.customer_id, "tool": "bargain", "campaign": f"bargain:{e.activity_id}"}


@participation(BargainHelped, "analytics.bargain_help", "bargain_help")
def _bargain_helped(e: BargainHelped) -> dict[str, Any]:
    key = f"BargainHelped:{e.bargain_id}:{e.helper_id}"
    campaign = f"bargain:{e.activity_id}"
    return {"key": key, "customer_id": e.helper_id, "tool": "bargain", "campaign": campaign, "amount_fen": e.cut_fen}


@participation(CouponGranted, "analytics.coupon_claim", "coupon_claim")
def _coupon_granted(e: CouponGranted) -> dict[str, Any] | None:
    if e.source != "claim":
        return None  # issued by an operator or a pack: the shopper did nothing
    key = f"CouponClaimed:{e.coupon_id}"
    return {"key": key, "customer_id": e.customer_id, "tool": "coupons", "campaign": f"coupon:{e.template_id}"}


@participation(GroupOpened, "analytics.group_open", "group_open")
def _group_opened(e: GroupOpened) -> dict[str, Any]:
    return {
        "key": f"GroupOpened:{e.group_id}",
        "customer_id": e.leader_id,
        "tool": "groupbuy",
        "campaign": f"groupbuy:{e.activity_id}",
        "order_id": e.order_id,
        "ref": str(e.group_id),
    }


@participation(GroupJoined, "analytics.group_join", "group_join")
def _group_joined(e: GroupJoined) -> dict[str, Any]:
    group = {"ref": str(e.group_id), "campaign": f"groupbuy:{e.activity_id}", "order_id": e.order_id}
    return {"key": f"GroupJoined:{e.order_id}", "customer_id": e.customer_id, "tool": "groupbuy", **group}


@participation(DistributorApplied, "analytics.distributor_apply", "distributor_apply")
def _distributor_applied(e: DistributorApplied) -> dict[str, Any]:
    return {"key": f"DistributorApplied:{e.customer_id}", "customer_id": e.customer_id, "tool": "distribution"}
