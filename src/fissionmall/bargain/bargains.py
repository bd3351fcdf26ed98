"""Starting a bargain and friends helping it: the per-shopper start quota, the daily help quota, the
risk gate, and each help as one compare-and-set on the bargain's price and help count.

A help reads the bargain, draws its cut from the remainder (rules.next_cut), and writes
`price = price − cut, helps = helps + 1 WHERE price = :read AND helps = :read AND status = 'active'`;
a concurrent help that got there first makes it read again and draw again, so no cut is lost and no
bargain takes more than its N helps. The help's own row has a unique key on (bargain, friend): a friend
who helps twice at once loses on it, and the whole help rolls back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts import service as accounts
from fissionmall.bargain import rules
from fissionmall.bargain.activities import SOLD_OUT_TEXT, get_activity, rows_changed
from fissionmall.bargain.errors import BargainError
from fissionmall.bargain.events import BargainHelped, BargainReached, BargainStarted
from fissionmall.bargain.models import Bargain, BargainActivity, BargainHelp, BargainHelpDay, BargainQuota
from fissionmall.catalog.errors import CatalogError
from fissionmall.core import clock, events, jobs
from fissionmall.core.db import is_postgres
from fissionmall.core.errors import Conflict, NotFound
from fissionmall.core.schemas import to_local
from fissionmall.orders import reports
from fissionmall.risk import service as risk
from fissionmall.risk.rules import HelpFacts, HelpLimits

EXPIRE_HANDLER = "bargain.expire"
CAS_TRIES = 60  # a help that keeps losing the race this often says HELP_BUSY (never seen under 200 at once)


@dataclass(frozen=True)
class Who:
    """The caller as the gate sees them."""

    id: int
    ip: str
    device_id: str | None


@dataclass(frozen=True)
class Helped:
    cut_fen: int
    price_fen: int
    helps: int
    helpers_needed: int
    status: str


def _insert(s: AsyncSession, model: type) -> Any:
    return pg_insert(model) if is_postgres(s) else sqlite_insert(model)


async def get_bargain(s: AsyncSession, *, bargain_id: int) -> Bargain:
    """The bargain, read fresh; 404 BARGAIN_NOT_FOUND if there is none."""
    b = await s.scalar(select(Bargain).where(Bargain.id == bargain_id).execution_options(populate_existing=True))
    if b is None:
        raise NotFound(BargainError.BARGAIN_NOT_FOUND)
    return b


async def _schedule_expiry(s: AsyncSession, b: Bargain, at: datetime) -> None:
    await jobs.schedule(
        s, EXPIRE_HANDLER, {"bargain_id": b.id}, due_at=at, key=f"bargain-expire:{b.id}:{int(at.timestamp())}"
    )


async def _take_start_quota(s: AsyncSession, act: BargainActivity, customer_id: int) -> None:
    await s.execute(
        _insert(s, BargainQuota)
        .values(activity_id=act.id, customer_id=customer_id, started=0)
        .on_conflict_do_nothing(index_elements=["activity_id", "customer_id"])
    )
    res = await s.execute(
        update(BargainQuota)
        .where(
            BargainQuota.activity_id == act.id,
            BargainQuota.customer_id == customer_id,
            BargainQuota.started < act.max_starts_per_user,
        )
        .values(started=BargainQuota.started + 1)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) != 1:
        raise Conflict(
            BargainError.START_LIMIT_REACHED,
            f"本活动每人最多发起 {act.max_starts_per_user} 次砍价",
            limit=act.max_starts_per_user,
        )


async def start(s: AsyncSession, *, activity_id: int, who: Who) -> Bargain:
    """Start the caller's bargain at the activity's start price, with the activity's rules copied onto it
    and its expiry timer (BargainStarted). Refused before the start, after the end, when sold out, or past
    the shopper's starts in this activity."""
    act = await get_activity(s, activity_id=activity_id, for_sale=True)
    now = clock.now()
    refusal = rules.window_refusal(
        rules.Window(act.starts_at, act.ends_at or datetime.max.replace(tzinfo=now.tzinfo)), now
    )
    if refusal is not None:
        raise Conflict(refusal)
    if act.stock_closed or act.stock_left < 1:
        raise Conflict(CatalogError.SOLD_OUT, SOLD_OUT_TEXT)
    await _take_start_quota(s, act, who.id)
    b = Bargain(
        activity_id=act.id,
        customer_id=who.id,
        sku_id=act.sku_id,
        start_fen=act.start_fen,
        target_fen=act.target_fen,
        price_fen=act.start_fen,
        helpers_needed=act.helpers_needed,
        helps=0,
        new_helpers=0,
        min_cut_fen=act.min_cut_fen,
        max_cut_fen=act.max_cut_fen,
        boost_bp=act.new_user_boost_bp,
        seed=secrets.randbits(62),
        status="active",
        expires_at=now + timedelta(minutes=act.duration_minutes),
        orders_placed=0,
        starter_ip=who.ip[:45],
        starter_device=who.device_id,
        created_at=now,
    )
    s.add(b)
    await s.flush()
    await _schedule_expiry(s, b, b.expires_at)
    await events.publish(
        s,
        BargainStarted(
            bargain_id=b.id,
            activity_id=act.id,
            customer_id=who.id,
            start_fen=b.start_fen,
            target_fen=b.target_fen,
            helpers_needed=b.helpers_needed,
        ),
    )
    return b


def shop_day(now: datetime) -> str:
    """The shop's calendar day (its own zone) that a daily limit counts in."""
    return to_local(now).strftime("%Y-%m-%d")


async def _take_daily_help(s: AsyncSession, *, customer_id: int, limit: int, now: datetime) -> None:
    day = shop_day(now)
    await s.execute(
        _insert(s, BargainHelpDay)
        .values(customer_id=customer_id, day=day, helps=0)
        .on_conflict_do_nothing(index_elements=["customer_id", "day"])
    )
    res = await s.execute(
        update(BargainHelpDay)
        .where(BargainHelpDay.customer_id == customer_id, BargainHelpDay.day == day, BargainHelpDay.helps < limit)
        .values(helps=BargainHelpDay.helps + 1)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) != 1:
        raise Conflict(BargainError.DAILY_HELP_LIMIT, f"每天最多助力 {limit} 次，明天再来吧", limit=limit)


async def _facts(
    s: AsyncSession, b: Bargain, who: Who, lim: HelpLimits, *, since: datetime, is_new: bool, now: datetime
) -> HelpFacts:
    """What the risk gate needs about this help, read in the help's transaction."""
    age = int((now - since).total_seconds())
    fresh_since = now - timedelta(minutes=lim.new_account_minutes)
    window_since = now - timedelta(seconds=lim.burst_window_seconds)
    fresh = await s.scalar(
        select(func.count())
        .select_from(BargainHelp)
        .where(
            BargainHelp.bargain_id == b.id,
            BargainHelp.created_at > window_since,
            BargainHelp.helper_since > fresh_since,
        )
    )
    lifetime = 0
    if is_new:  # the free-help cap is only for accounts that never paid
        lifetime = int(
            await s.scalar(select(func.count()).select_from(BargainHelp).where(BargainHelp.helper_id == who.id)) or 0
        )
    return HelpFacts(
        starter_ip=b.starter_ip,
        starter_device=b.starter_device,
        ip=who.ip,
        device_id=who.device_id,
        account_age_seconds=age,
        fresh_helps_in_window=int(fresh or 0),
        lifetime_helps=lifetime,
        has_paid=not is_new,
    )


def _refuse_help(b: Bargain, who: Who, now: datetime) -> None:
    code = rules.help_refusal(status=b.status, expired=b.expires_at <= now, own=b.customer_id == who.id)
    if code is not None:
        raise Conflict(code)


async def help_bargain(s: AsyncSession, *, bargain_id: int, who: Who, lim: HelpLimits, least: bool = False) -> Helped:
    """A friend's help: checked (self-help, state, new-shopper rule, duplicate, risk gate, daily quota), then
    one compare-and-set cut (`least`: the risk layer degraded it to the smallest cut that keeps the target
    reachable). The last help reaches the target (BargainReached) and opens the buying window. Every
    refusal leaves nothing written."""
    now = clock.now()
    b = await get_bargain(s, bargain_id=bargain_id)
    _refuse_help(b, who, now)
    act = await get_activity(s, activity_id=b.activity_id)
    is_new = await reports.is_new_customer(s, customer_id=who.id)
    if act.new_user_only and not is_new:
        raise Conflict(BargainError.HELPER_NOT_NEW)
    done = await s.scalar(select(BargainHelp.id).where(BargainHelp.bargain_id == b.id, BargainHelp.helper_id == who.id))
    if done is not None:
        raise Conflict(BargainError.ALREADY_HELPED)
    helper = await accounts.get_customer(s, customer_id=who.id)
    since = helper.created_at if helper is not None else now
    risk.gate_help(lim, await _facts(s, b, who, lim, since=since, is_new=is_new, now=now))
    await _take_daily_help(s, customer_id=who.id, limit=act.daily_help_limit, now=now)
    bounds = rules.bounds(b.start_fen - b.target_fen, b.min_cut_fen, b.max_cut_fen)
    for _ in range(CAS_TRIES):
        cut = rules.next_cut(
            remaining=b.price_fen - b.target_fen,
            helps_left=b.helpers_needed - b.helps,
            b=bounds,
            seed=b.seed,
            index=b.helps,
            boost_bp=b.boost_bp if is_new else 10_000,
        )
        if least:
            cut = rules.cut_range(b.price_fen - b.target_fen, b.helpers_needed - b.helps, bounds)[0]
        reached = b.helps + 1 == b.helpers_needed
        values: dict[str, object] = {
            "price_fen": b.price_fen - cut,
            "helps": b.helps + 1,
            "new_helpers": Bargain.new_helpers + (1 if is_new else 0),
        }
        if reached:
            values |= {
                "status": "reached",
                "reached_at": now,
                "expires_at": max(b.expires_at, now + timedelta(minutes=act.buy_minutes)),
            }
        res = await s.execute(
            update(Bargain)
            .where(
                Bargain.id == b.id,
                Bargain.price_fen == b.price_fen,
                Bargain.helps == b.helps,
                Bargain.status == "active",
                Bargain.expires_at > now,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(res) == 1:
            break
        b = await get_bargain(s, bargain_id=bargain_id)  # another friend's help won: draw again from there
        _refuse_help(b, who, now)
    else:
        raise Conflict(BargainError.HELP_BUSY)
    price, helps, was_due = b.price_fen - cut, b.helps + 1, b.expires_at  # before b is read again
    row = await s.scalar(
        _insert(s, BargainHelp)
        .values(
            bargain_id=b.id,
            helper_id=who.id,
            cut_fen=cut,
            price_after_fen=price,
            is_new_user=is_new,
            helper_since=since,
            ip=who.ip[:45],
            device_id=who.device_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["bargain_id", "helper_id"])
        .returning(BargainHelp.id)
    )
    if row is None:  # the same friend's other request got in first: this one rolls back whole
        raise Conflict(BargainError.ALREADY_HELPED)
    await events.publish(
        s,
        BargainHelped(
            bargain_id=b.id,
            activity_id=b.activity_id,
            helper_id=who.id,
            cut_fen=cut,
            price_fen=price,
            helps=helps,
            is_new_user=is_new,
        ),
    )
    status = "active"
    if helps == b.helpers_needed:
        status = "reached"
        fresh = await get_bargain(s, bargain_id=b.id)
        if fresh.expires_at > was_due:
            await _schedule_expiry(s, fresh, fresh.expires_at)
        await events.publish(
            s,
            BargainReached(
                bargain_id=b.id,
                activity_id=b.activity_id,
                customer_id=b.customer_id,
                price_fen=price,
                helps=fresh.helps,
                new_helpers=fresh.new_helpers,
            ),
        )
    return Helped(cut_fen=cut, price_fen=price, helps=helps, helpers_needed=b.helpers_needed, status=status)


async def expire(s: AsyncSession, *, bargain_id: int) -> bool:
    """The deadline came: a bargain nobody ordered expires, once (a timer fired twice finds it done). One
    with an order waiting for payment is left to that order (its cancel expires it)."""
    b = await s.scalar(select(Bargain).where(Bargain.id == bargain_id))
    if b is None:
        return False
    res = await s.execute(
        update(Bargain)
        .where(Bargain.id == bargain_id, Bargain.status.in_(("active", "reached")), Bargain.expires_at <= clock.now())
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    return rows_changed(res) == 1


async def helps_of(s: AsyncSession, *, bargain_id: int) -> list[BargainHelp]:
    """A bargain's helps in the order they came."""
    q = select(BargainHelp).where(BargainHelp.bargain_id == bargain_id).order_by(BargainHelp.id)
    return list((await s.scalars(q)).all())
