"""Subscribe messages (订阅消息) on the events a shopper cares about.

The merchant registers message templates in the WeChat console and maps our events to them in
`FISSIONMALL_WECHAT_SUBSCRIBE_TEMPLATES` (template id, mini-program page, and each data field as a
format string over the event: `{order_no}`, `{title}`, `{paid_yuan}`, `{amount_yuan}`, `{paid_at}`, …).
The settings refuse, when they load, a template over a placeholder its event does not offer or a
field type WeChat does not know (fissionmall/subscribe_fields.py). Values are shaped as WeChat wants them
(times as `2026-12-01 20:30`, `thing` cut to 20 characters, …); a message with a value WeChat would
still refuse (empty, or not of its type) is not sent. An event with no template queues nothing.
Quota errors (the shopper did not subscribe, or ran out) are recorded by the client and are not
failures; a WeChat outage is retried like any job.
"""

from __future__ import annotations

import logging
import string
from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import Customer
from fissionmall.core import clock, jobs
from fissionmall.core.money import yuan
from fissionmall.orders.models import Order
from fissionmall.settings import get_settings
from fissionmall.subscribe_fields import EVENTS, LIMITS, field_type, shape, wechat_time
from fissionmall.wechat import riskrank  # noqa: F401  (registers the risk rules' wechat_risk_rank)
from fissionmall.wechat.miniprogram import client_for

log = logging.getLogger("fissionmall.wechat")

__all__ = ["field_limit", "render", "send_for", "template_for"]


def field_limit(key: str) -> int:
    """How many characters WeChat takes for this data key's type (20 for a type it does not list)."""
    return LIMITS.get(field_type(key), 20)


def template_for(event: str) -> dict[str, Any] | None:
    """The event's configured subscribe template, or None (none set, or WeChat login not configured)."""
    settings = get_settings()
    if not settings.wechat_login_configured:
        return None
    t = settings.wechat_subscribe_templates.get(event)
    return t if t and t.get("template_id") else None


def recipients(payload: dict[str, Any], order: Order | None) -> list[int]:
    """The shoppers an event concerns: its customer, a group's members, a notify list, or the order's buyer."""
    if "customer_ids" in payload:
        return [int(c) for c in payload["customer_ids"]]
    if "members" in payload:
        return [int(m["customer_id"]) for m in payload["members"] if m.get("customer_id")]
    if payload.get("customer_id"):
        return [int(payload["customer_id"])]
    return [order.customer_id] if order is not None else []


def context(payload: dict[str, Any], order: Order | None) -> dict[str, Any]:
    """What a template's placeholders read: the payload's plain values, the order's fields, and now."""
    ctx: dict[str, Any] = defaultdict(str, {k: v for k, v in payload.items() if not isinstance(v, list | dict)})
    ctx["now"] = clock.now()
    if "amount_fen" in payload:
        ctx["amount_yuan"] = yuan(int(payload["amount_fen"]))
    if order is not None:
        ctx.update(
            order_id=order.id,
            order_no=order.no,
            paid_yuan=yuan(order.paid_fen),
            payable_yuan=yuan(order.payable_fen),
            title=order.lines[0].title if order.lines else "",
            carrier=order.carrier or "",
            tracking_no=order.tracking_no or "",
            created_at=order.created_at,
            paid_at=order.paid_at or "",
            shipped_at=order.shipped_at or "",
        )
    return ctx


class _Formatter(string.Formatter):
    """Moments print in the shop's time zone as WeChat writes them (`2026-12-01 20:30`; `date` fields
    `2026-12-01`), or with an explicit spec: `{paid_at:%Y年%m月%d日 %H:%M}`."""

    def __init__(self, tz: str, with_clock: bool) -> None:
        self.tz, self.with_clock = tz, with_clock

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, datetime):
            if format_spec:
                return format(value.astimezone(ZoneInfo(self.tz)), format_spec)
            return wechat_time(value, self.tz, with_clock=self.with_clock)
        return str(super().format_field(value, format_spec))


def render(template: dict[str, Any], ctx: dict[str, Any], tz: str) -> dict[str, str]:
    """Each data field's value as WeChat takes it for its type."""
    data = {}
    for key, fmt in template.get("data", {}).items():
        formatter = _Formatter(tz, with_clock=field_type(key) != "date")
        data[key] = shape(key, formatter.vformat(str(fmt), (), ctx), tz)
    return data


async def send_for(s: AsyncSession, *, event: str, payload: dict[str, Any]) -> int:
    """Send the event's subscribe message to each shopper it concerns. Returns how many were sent."""
    template = template_for(event)
    if template is None:
        return 0
    order = await s.get(Order, payload["order_id"]) if payload.get("order_id") else None
    ctx = context(payload, order)
    data = render(template, ctx, get_settings().timezone)
    page = str(template.get("page", "")).format_map(ctx)
    ids = recipients(payload, order)
    openids = (await s.scalars(select(Customer.openid).where(Customer.id.in_(ids)))).all() if ids else []
    client = client_for(get_settings())
    sent = 0
    for openid in openids:
        if openid.startswith("sandbox-"):
            continue  # a sandbox login has no real WeChat user behind it
        result = await client.send_subscribe(
            openid=openid,
            template_id=template["template_id"],
            data=data,
            page=page,
            state=get_settings().wechat_miniprogram_state,
        )
        sent += result.ok
    return sent


def _register(event: str) -> None:
    async def handle(s: AsyncSession, job: jobs.Job) -> None:
        await send_for(s, event=event, payload=job.payload)

    jobs.on(event, f"wechat.subscribe.{event}", when=lambda _payload: template_for(event) is not None)(handle)


for _event in EVENTS:
    _register(_event)
