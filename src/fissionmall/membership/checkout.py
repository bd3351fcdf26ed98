"""What membership adds to checkout: the level's rate, the member day's rate, free shipping.

Checkout's own member step (pricing.rules.member_step) does the arithmetic; this contribution only
fills the context: `member_rate_bp = min(what is there, the level's rate)` for a member (10000 for a
member whose level has no discount, so the member day still applies), `member_day_bp` on the member
day, `free_shipping` for a free-shipping level, and `member_stacks_with_limited` from the level rules.
Its rows are 会员价 (ref "membership") and 会员日 (ref "membership:day").
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.checkout.contributions import Ask, Contribution, register
from fissionmall.core import clock
from fissionmall.core.money import BP
from fissionmall.membership import benefits, config
from fissionmall.pricing.rules import PricingContext


async def load(s: AsyncSession, ask: Ask) -> dict[str, Any] | None:
    if ask.customer_id is None:
        return None
    now = clock.now()
    st = await benefits.standing(s, customer_id=ask.customer_id)
    cfg = await config.get_config(s)
    day = config.member_day_now(cfg, now)
    # A base-level shopper is a member only by a registered check (a paid membership), and that only
    # matters on the member day: other days cost no read (vip prices its own members).
    member = not st.base or (day and await benefits.checked_member(s, customer_id=ask.customer_id, at=now))
    return {
        "member": member,
        "rate_bp": BP if st.base else st.level.discount_bp,
        "day_bp": cfg.member_day.extra_rate_bp if member and day else None,
        "free_shipping": not st.base and st.level.free_shipping,
        "stacks": cfg.rules.stacks_with_limited,
    }


def context(part: dict[str, Any] | None, ctx: PricingContext, ask: Ask) -> PricingContext:
    if part is None:
        return ctx
    changes: dict[str, Any] = {"member_stacks_with_limited": part["stacks"]}
    if part["member"]:
        changes["member_rate_bp"] = min(ctx.member_rate_bp or BP, part["rate_bp"])
        if part["day_bp"] is not None:
            changes["member_day_bp"] = min(ctx.member_day_bp or BP, part["day_bp"])
    if part["free_shipping"]:
        changes["free_shipping"] = True
    return replace(ctx, **changes)


CONTRIBUTION = register(Contribution(name="membership", refs=("membership",), load=load, context=context))
