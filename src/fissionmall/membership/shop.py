"""What the shop reads: the member centre (GET /me/level), the level name on /me, a product's member
prices for the caller, the member day's banner; and the birthday a shopper sets once."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.core import clock, extras
from fissionmall.core.errors import AppError
from fissionmall.core.money import BP
from fissionmall.membership import benefits, config, growth, levels, rules
from fissionmall.membership.errors import MembershipError
from fissionmall.membership.models import MemberProfile
from fissionmall.membership.schemas import MeLevel, MemberPrices, SkuMemberPrice


async def me_level(s: AsyncSession, *, customer_id: int) -> MeLevel:
    """The member centre's data: level, growth in the window, progress to the next, every level."""
    now = clock.now()
    st = await benefits.standing(s, customer_id=customer_id)
    cfg = await config.get_config(s)
    months = cfg.rules.window_months
    grown = await growth.window_growth(s, customer_id=customer_id, at=now, months=months)
    nxt = rules.next_level(st.ladder, st.level)
    base = levels.base_of(st.ladder)
    return MeLevel(
        level=st.level.name,
        level_id=st.level.id,
        rank=st.level.rank,
        growth_fen=grown,
        next_level=nxt.name if nxt else None,
        next_at_fen=nxt.threshold_fen if nxt else None,
        to_next_fen=max(0, nxt.threshold_fen - grown) if nxt else None,
        benefits=rules.benefit_texts(st.level, base=st.base),
        is_member=not st.base or await benefits.checked_member(s, customer_id=customer_id, at=now),
        window_months=months,
        birthday=st.birthday,
        levels=[levels.to_public(lv, base=lv.id == base.id) for lv in rules.by_rank(st.ladder)],
        member_day=config.member_day_public(cfg, now),
    )


@extras.contributes(extras.ME)
async def _me_level(s: AsyncSession, customer_id: int) -> dict[str, Any]:
    """/me's `level`: the level's display name (the base level's too)."""
    st = await benefits.standing(s, customer_id=customer_id)
    return {"level": st.level.name}


async def member_prices(s: AsyncSession, *, customer_id: int, product_id: int) -> MemberPrices:
    """A product's unit prices for the caller's level (and the member day), as checkout charges them
    without a limited-time discount."""
    now = clock.now()
    product = catalog.to_public(await catalog.get_product(s, product_id=product_id))
    st = await benefits.standing(s, customer_id=customer_id)
    cfg = await config.get_config(s)
    member = not st.base or await benefits.checked_member(s, customer_id=customer_id, at=now)
    rate = None if st.base or st.level.discount_bp >= BP else st.level.discount_bp
    day = cfg.member_day.extra_rate_bp if member and config.member_day_now(cfg, now) else None
    day = day if day is not None and day < BP else None
    parts = []
    if rate is not None:
        parts.append(f"{st.level.name} {rules.zhe(rate)}")
    if day is not None:
        parts.append(f"会员日再享{rules.zhe(day)}")
    skus = [
        SkuMemberPrice(
            sku_id=k.id,
            price_fen=k.price_fen,
            member_price_fen=rules.member_unit_price(k.price_fen, rate_bp=rate, day_bp=day),
        )
        for k in product.skus
    ]
    return MemberPrices(applies=bool(parts), level=st.level.name, label=" · ".join(parts), skus=skus)


def parse_birthday(text: str, *, today: date) -> date:
    """A birthday typed as YYYY-MM-DD, not in the future, not before 1900."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise AppError(MembershipError.BIRTHDAY_INVALID, field="birthday") from None
    if not date(1900, 1, 1) <= day <= today:
        raise AppError(MembershipError.BIRTHDAY_INVALID, field="birthday")
    return day


async def set_birthday(s: AsyncSession, *, customer_id: int, text: str) -> date:
    """Set the shopper's birthday, once (a second try is BIRTHDAY_ALREADY_SET, even with the same date)."""
    day = parse_birthday(text, today=clock.now().astimezone(config.shop_tz()).date())
    await growth.locked_profile(s, customer_id=customer_id)
    res = await s.execute(
        update(MemberProfile)
        .where(MemberProfile.customer_id == customer_id, MemberProfile.birthday.is_(None))
        .values(birthday=day, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise AppError(MembershipError.BIRTHDAY_ALREADY_SET)
    return day
