"""The merchant's data over HTTP: the shop's `POST /events`; the admin API's dashboard (admin_api.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from fissionmall.accounts.deps import MaybeCustomer
from fissionmall.analytics import ingest
from fissionmall.analytics.admin_api import admin_router
from fissionmall.analytics.schemas import EventBatch, EventIn, EventsAccepted
from fissionmall.core.deps import DbDep, SettingsDep
from fissionmall.core.errors import CoreError, TooMany
from fissionmall.core.kv import get_kv
from fissionmall.core.security import client_ip

router = APIRouter(tags=["events"])

# Requests per minute: per shopper (or per anonymous device), and per address whatever the device says.
PER_SENDER = 60
PER_IP = 600


@router.post("/events", status_code=202, response_model=EventsAccepted)
async def post_events(
    body: EventBatch | EventIn, request: Request, caller: MaybeCustomer, db: DbDep, settings: SettingsDep
) -> EventsAccepted:
    """Views, shares and share-link opens from the shop: one event or `{events: [...]}` (at most 50).
    Anonymous calls are allowed (a share page opened before login); rate-limited per shopper or device."""
    events = body.events if isinstance(body, EventBatch) else [body]
    ingest.check(events)
    ip = client_ip(request, settings.trusted_proxies)
    header = request.headers.get("x-device-id")
    device = caller.device_id if caller is not None else (header[:64] if header else None)
    sender = f"u{caller.id}" if caller is not None else (f"d{device}" if device else f"ip{ip}")
    kv = get_kv()
    if not await kv.allow(f"events:{sender}", limit=PER_SENDER, window_seconds=60) or not await kv.allow(
        f"events-ip:{ip}", limit=PER_IP, window_seconds=60
    ):
        raise TooMany(CoreError.RATE_LIMITED)
    async with db.tx() as s:
        stored = await ingest.ingest(s, events=events, customer_id=caller.id if caller else None, device_id=device)
    return EventsAccepted(received=len(events), stored=stored)


__all__ = ["admin_router", "router"]
