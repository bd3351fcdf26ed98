"""A shopper's try at a flash-sale item: the path token, the attempt, and polling its outcome.

Production (Redis): the attempt does no database work; one Lua call (hot.py) judges it and queues the
reservation on the stream, which the consumer (consumer.py) turns into an order. Embedded (no Redis):
the database is the only wall and the order is placed at once (`source.place_order`). This process's
hints (memory.py) answer a storm on a spent pool or a junk item id without asking either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fissionmall.addresses import state as address_state
from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.core.errors import AppError, Conflict, NotFound, not_found
from fissionmall.orders import reports
from fissionmall.risk import ask
from fissionmall.risk import service as risk
from fissionmall.risk.decisions import Action
from fissionmall.seckill import memory, mirror, rules, sessions, source
from fissionmall.seckill.errors import SeckillError
from fissionmall.seckill.hot import Try, get_hot
from fissionmall.seckill.models import SeckillAttempt
from fissionmall.settings import Settings


@dataclass(frozen=True)
class Caller:
    id: int
    ip: str
    device_id: str | None


# What the risk layer is told when the hot path refuses a shopper (credit.py's signals): a token no page
# would send (forged, another's, expired or spent) and a wrong captcha answer at once; the rate limits only
# when one shopper keeps going past them (a crowd behind one NAT address is rate limited too, and is not
# scripting): more than SCRIPTING_REFUSALS refusals in SCRIPTING_WINDOW_S seconds.
_SIGNAL = {"BAD_TOKEN": "forged_token", "captcha_failed": "captcha_farm"}
_BURST = frozenset({"RATE_LIMITED", "CAPTCHA_REQUIRED"})
SCRIPTING_REFUSALS = 20
SCRIPTING_WINDOW_S = 10.0


async def issue_token(
    db: Database, *, settings: Settings, item_id: int, customer_id: int, caller: Caller | None = None
) -> dict[str, Any]:
    """A one-time path token, from `token_lead_seconds` before the start until the end. The risk layer
    judges the attempt here (one token per attempt, off the Lua path): a refused shopper gets no token."""
    lim = await risk.limits(db)
    async with db.read() as s:
        it, sess = await sessions.get_item(s, item_id=item_id)
        # "New users only" is decided here, off the hot path: no token, no attempt. Order creation
        # checks again as the second wall.
        if it.new_users_only and not await reports.is_new_customer(s, customer_id=customer_id):
            raise Conflict(SeckillError.NEW_USERS_ONLY)
    now = clock.now()
    if (sess.starts_at - now).total_seconds() > lim.token_lead_seconds:
        raise Conflict(SeckillError.NOT_STARTED, starts_at=sess.starts_at.isoformat())
    if now >= sess.ends_at:
        raise Conflict(SeckillError.ENDED)
    who = caller or Caller(customer_id, "", None)
    await ask.guard(
        db,
        action=Action.SECKILL_ATTEMPT,
        subject=ask.subject_of(who),
        facts={
            "item_id": item_id,
            "session_id": sess.id,
            "price_fen": it.price_fen,
            "new_users_only": it.new_users_only,
        },
    )
    token, expires = risk.issue_token(settings.secret_key, item_id=item_id, customer_id=customer_id)
    return {"token": token, "expires_at": datetime.fromtimestamp(expires, tz=now.tzinfo)}


def _refuse(code: str) -> AppError:
    member = rules.REFUSALS.get(code)
    # A code the hot path learnt that this table has not: still a 409 with a Chinese message.
    return AppError(member) if member is not None else Conflict(code, "抢购未成功，请稍后重试")


async def attempt(
    db: Database,
    *,
    settings: Settings,
    item_id: int,
    caller: Caller,
    qty: int,
    token: str | None,
    address: dict[str, Any] | None,
    address_id: int | None = None,
    captcha_id: str | None = None,
    captcha_answer: str | None = None,
) -> dict[str, Any]:
    """Try to win `qty` units: 202-style {attempt_id, status} or an AppError with a refusal code.
    Without `address` or `address_id` the order ships to the shopper's default address."""
    ask.standing_refusal(caller.id)  # frozen or denied as this process last saw: no I/O
    try:
        nonce = risk.token_nonce(settings.secret_key, token, item_id=item_id, customer_id=caller.id)
    except AppError:
        await _scripting(db, caller, "BAD_TOKEN")  # forged, another's, expired: a page would not send it
        raise
    lim = await risk.limits(db)
    cap = risk.captcha_passed(settings.secret_key, captcha_id, captcha_answer, customer_id=caller.id)
    if captcha_id and not cap:
        await _scripting(db, caller, "captcha_failed")
    aid = rules.new_attempt_id(item_id, caller.id)
    hot = get_hot()
    if hot is None:
        return await _attempt_embedded(
            db,
            settings,
            lim=lim,
            item_id=item_id,
            caller=caller,
            qty=qty,
            nonce=nonce,
            address=address,
            address_id=address_id,
            captcha_ok=cap,
            aid=aid,
        )
    if memory.sold_out(item_id):
        raise _refuse("SOLD_OUT")  # a storm on a spent pool: answered here for a moment, not by Redis
    if address is None and address_id is None and not await address_state.has_default(db, customer_id=caller.id):
        # Refused up front, from this process's memory (addresses/state.py), not with a query per attempt:
        # a unit won by a shopper whose order could not be addressed would only go back to the pool later.
        raise _refuse("ADDRESS_REQUIRED")
    t = Try(
        aid,
        item_id,
        caller.id,
        qty,
        caller.ip,
        caller.device_id or "",
        nonce,
        cap,
        json.dumps(_payload(address, address_id), ensure_ascii=False, separators=(",", ":")),
    )
    limits = (lim.window_seconds * 1000, lim.per_user, lim.per_ip, lim.per_device, lim.captcha_after)
    code = await hot.submit(t, now_ms=rules.epoch_ms(clock.now()), limits=limits)
    if code == "MISSING":
        # Unknown to Redis: a new item, or Redis lost its keys. Rebuild from the database (rare), retry once.
        if memory.known_missing(item_id) or not await mirror.rebuild(db, hot=hot, item_id=item_id):
            memory.hint_missing(item_id)
            raise not_found("item")
        code = await hot.submit(t, now_ms=rules.epoch_ms(clock.now()), limits=limits)
        if code == "MISSING":
            raise not_found("item")
    if code != "OK":
        if code == "SOLD_OUT":
            memory.hint_sold_out(item_id)
        await _scripting(db, caller, code)
        raise _refuse(code)
    return {"attempt_id": aid, "status": "queued"}


async def _scripting(db: Database, caller: Caller, code: str) -> None:
    """Tell the risk layer of a refusal that says scripting (see _SIGNAL)."""
    signal = _SIGNAL.get(code)
    if signal is None and code in _BURST:
        if ask.burst(caller.id, over=SCRIPTING_REFUSALS, window_s=SCRIPTING_WINDOW_S):
            signal = "seckill_scripting"
    if signal is not None:
        await ask.report_once(db, subject=ask.subject_of(caller), signal=signal, action=Action.SECKILL_ATTEMPT)


def _payload(address: dict[str, Any] | None, address_id: int | None) -> dict[str, Any]:
    """What the stream entry carries for the order's address: the inline address itself (as before the
    address book, so entries queued by an older process read the same), `{"address_id": n}`, or `{}` for
    the default address, which the consumer reads when it creates the order."""
    if address is not None:
        return address
    return {"address_id": address_id} if address_id is not None else {}


async def _attempt_embedded(
    db: Database,
    settings: Settings,
    *,
    lim: Any,
    item_id: int,
    caller: Caller,
    qty: int,
    nonce: str,
    address: dict[str, Any] | None,
    address_id: int | None,
    captcha_ok: bool,
    aid: str,
) -> dict[str, Any]:
    try:
        await risk.gate_embedded(
            lim, customer_id=caller.id, ip=caller.ip, device_id=caller.device_id, captcha_ok=captcha_ok
        )
    except AppError as exc:
        memory.count(item_id, exc.code)
        await _scripting(db, caller, exc.code)
        raise
    if memory.sold_out(item_id):
        memory.count(item_id, "SOLD_OUT")
        raise _refuse("SOLD_OUT")
    try:
        async with memory.writer(db), db.tx() as s:
            it, sess = await sessions.get_item(s, item_id=item_id)
            state = rules.window_state(clock.now(), sess.starts_at, sess.ends_at)
            if state != "active":
                raise _refuse("NOT_STARTED" if state == "upcoming" else "ENDED")
            if qty > it.per_user_limit:
                raise _refuse("LIMIT_REACHED")
            used = await s.scalar(select(SeckillAttempt.id).where(SeckillAttempt.token_nonce == nonce))
            if used is not None:
                raise _refuse("BAD_TOKEN")  # reported below, outside the transaction
            order = await source.place_order(
                s,
                customer_id=caller.id,
                body=source.checkout_body(sku_id=it.sku_id, qty=qty, payload=_payload(address, address_id)),
                settings=settings,
                item_id=item_id,
                reservation_id=aid,
                nonce=nonce,
                attribution={"ip": caller.ip, "device_id": caller.device_id},
            )
    except IntegrityError:
        memory.count(item_id, "BAD_TOKEN")
        await _scripting(db, caller, "BAD_TOKEN")
        raise _refuse("BAD_TOKEN") from None  # the same token raced itself: one won
    except AppError as exc:
        memory.count(item_id, exc.code)
        if exc.code == "SOLD_OUT":
            memory.hint_sold_out(item_id)
        if exc.code == "BAD_TOKEN":
            await _scripting(db, caller, exc.code)
        raise
    memory.count(item_id, "OK")
    return {"attempt_id": aid, "status": "succeeded", "order_id": order.id}


async def attempt_status(db: Database, *, attempt_id: str, customer_id: int) -> dict[str, Any]:
    """Where an attempt is: queued, succeeded (with the order id) or failed (with the reason)."""
    owner = rules.attempt_owner(attempt_id)
    if owner is None or owner[1] != customer_id:
        raise NotFound(SeckillError.ATTEMPT_NOT_FOUND)
    hot = get_hot()
    if hot is not None:
        h = await hot.redis.hgetall(hot.k(f"sk:a:{attempt_id}"))
        if h:
            out: dict[str, Any] = {"attempt_id": attempt_id, "status": h.get("s", "queued")}
            if h.get("o"):
                out["order_id"] = int(h["o"])
            if h.get("r"):
                out["reason"] = h["r"]
            return out
    async with db.read() as s:
        att = await s.scalar(select(SeckillAttempt).where(SeckillAttempt.attempt_id == attempt_id))
    if att is None or att.customer_id != customer_id:
        if hot is None:
            raise NotFound(SeckillError.ATTEMPT_NOT_FOUND)
        # Redis forgot it (expired, or lost with Redis) and no consumer recorded it.
        return {"attempt_id": attempt_id, "status": "failed", "reason": "LOST"}
    out = {"attempt_id": attempt_id, "status": att.status}
    if att.order_id:
        out["order_id"] = att.order_id
    if att.reason:
        out["reason"] = att.reason
    return out
