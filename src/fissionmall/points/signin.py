"""Daily sign-in (签到): one row per shopper per shop-local day, by a unique key, so ten taps at once sign in once.

The streak is yesterday's plus one (1 after a gap); the calendar shows the current streak before today's
sign-in too (yesterday's, so a shopper sees what they keep by signing in). A day pays the base points plus
the streak bonus of the highest threshold reached (rules.streak_bonus): a day's pay never falls as the
streak grows, so breaking and restarting a streak never pays more than keeping it.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock
from fissionmall.core.db import is_postgres
from fissionmall.core.errors import AppError
from fissionmall.points import ledger, rules
from fissionmall.points.errors import PointsError
from fissionmall.points.expiry import deadline_for
from fissionmall.points.models import SignIn
from fissionmall.points.schemas import RulesUpdate, SignInCalendar, SignInDay, SignInResult
from fissionmall.points.service import get_rules, shop_tz


async def _row(s: AsyncSession, *, customer_id: int, day: date) -> SignIn | None:
    return await s.scalar(select(SignIn).where(SignIn.customer_id == customer_id, SignIn.day == day))


def day_points(r: RulesUpdate, streak: int) -> int:
    """What a sign-in on day `streak` of a streak pays."""
    return r.sign_in_points + rules.streak_bonus(streak, r.streak_table())


async def sign_in(s: AsyncSession, *, customer_id: int) -> SignInResult:
    """Sign in for today once (a repeat grants 0 and says the same streak); the points go to the ledger."""
    r = await get_rules(s)
    if not (r.enabled and r.sign_in_enabled):
        raise AppError(PointsError.SIGN_IN_DISABLED)
    now = clock.now()
    today = rules.local_day(now, shop_tz())
    before = await _row(s, customer_id=customer_id, day=today - timedelta(days=1))
    streak = before.streak + 1 if before is not None else 1
    pts = day_points(r, streak)
    ins = (pg_insert if is_postgres(s) else sqlite_insert)(SignIn).values(
        customer_id=customer_id, day=today, streak=streak, points=pts, created_at=now
    )
    got = await s.scalar(ins.on_conflict_do_nothing(index_elements=["customer_id", "day"]).returning(SignIn.id))
    if got is None:  # signed in already today (another tap won)
        mine = await _row(s, customer_id=customer_id, day=today)
        return SignInResult(
            granted=0, streak=mine.streak if mine else streak, points=await ledger.balance(s, customer_id=customer_id)
        )
    bal = await ledger.balance(s, customer_id=customer_id)
    if pts > 0:
        posted = await ledger.grant(
            s,
            customer_id=customer_id,
            points=pts,
            kind="signin",
            ref=today.isoformat(),
            note=f"连续签到第 {streak} 天",
            expires_at=await deadline_for(s, r=r, at=now),
        )
        bal = posted.balance
    return SignInResult(granted=pts, streak=streak, points=max(bal, 0))


async def calendar(s: AsyncSession, *, customer_id: int, month: str | None = None) -> SignInCalendar:
    """The month's sign-ins (this month by default), the current streak, whether today is signed."""
    r = await get_rules(s)
    today = rules.local_day(clock.now(), shop_tz())
    year, mon = (int(month[:4]), int(month[5:7])) if month else (today.year, today.month)
    days = rules.month_days(year, mon)
    rows = (
        await s.scalars(
            select(SignIn).where(SignIn.customer_id == customer_id, SignIn.day >= days[0], SignIn.day <= days[-1])
        )
    ).all()
    mine = await _row(s, customer_id=customer_id, day=today)
    yesterday = await _row(s, customer_id=customer_id, day=today - timedelta(days=1))
    streak = mine.streak if mine else (yesterday.streak if yesterday else 0)
    return SignInCalendar(
        month=f"{year:04d}-{mon:02d}",
        today=today.isoformat(),
        days=[SignInDay(day=x.day.isoformat(), points=x.points) for x in sorted(rows, key=lambda x: x.day)],
        streak=streak,
        signed_today=mine is not None,
        today_points=mine.points if mine else day_points(r, streak + 1),
        tomorrow_points=day_points(r, (streak if mine else streak + 1) + 1),
        enabled=r.enabled and r.sign_in_enabled,
    )
