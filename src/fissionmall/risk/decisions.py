"""The one decision call every tool asks before it gives a benefit: `check(db, action=, subject=, facts=)`.

It returns a `Verdict`: allow, challenge (a captcha first), degrade (a silent minimum reward), review (the
benefit is held for a person: the caller opens a review, risk/reviews.py) or deny, with the reasons, and
records the decision in a transaction of its own, so a refusal that rolls the caller back is still on
record. `refuse(verdict)` raises the shopper-facing refusal in plain Chinese (no rule names).

Tools call it with what they know of the caller (`Subject`) and of the act (`facts`: amounts, the other
party of a group or a help, the distributor…). The rules, counters and credit behind it are data an
operator edits in the console (风控规则).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fissionmall.core.db import Database


class Action(StrEnum):
    SIGNUP = "signup"
    SECKILL_ATTEMPT = "seckill_attempt"
    GROUP_OPEN = "group_open"
    GROUP_JOIN = "group_join"
    BARGAIN_START = "bargain_start"
    BARGAIN_HELP = "bargain_help"
    COUPON_CLAIM = "coupon_claim"
    NEW_USER_GIFT = "new_user_gift"
    DISTRIBUTOR_BIND = "distributor_bind"
    COMMISSION_ACCRUE = "commission_accrue"
    WITHDRAWAL = "withdrawal"
    WALLET_TOPUP = "wallet_topup"
    REFUND = "refund"
    ORDER = "order"


class Outcome(StrEnum):
    ALLOW = "allow"
    CHALLENGE = "challenge"
    DEGRADE = "degrade"
    REVIEW = "review"
    DENY = "deny"


@dataclass(frozen=True)
class Subject:
    """Who acts: the shopper and what their request says of them (any may be unknown)."""

    customer_id: int | None
    device_id: str | None = None
    ip: str | None = None
    phone_hash: str | None = None
    address_hash: str | None = None
    distributor_id: int | None = None


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reasons: tuple[str, ...] = ()  # rule names, for the console; never shown to a shopper
    decision_id: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.outcome in (Outcome.ALLOW, Outcome.DEGRADE, Outcome.REVIEW)


ALLOW = Verdict(Outcome.ALLOW)


class _Engine:
    """What risk/engine.py plugs in when it is imported (risk/__init__.py imports it): the bodies below call
    these, so this module (which every tool imports) depends on nothing of the engine's."""

    judge: Callable[..., Awaitable[Verdict]] | None = None
    report: Callable[..., Awaitable[None]] | None = None
    standing: Callable[[int], Outcome | None] | None = None


ENGINE = _Engine()


def enabled() -> bool:
    """Whether the layer judges at all (the setting `risk_enabled`, on unless a deployment turns it off)."""
    from fissionmall.settings import get_settings

    return bool(getattr(get_settings(), "risk_enabled", True))


async def check(db: Database, *, action: Action, subject: Subject, facts: Mapping[str, Any] | None = None) -> Verdict:
    """Judge one act against the rules, the velocity counters, the lists and the shopper's credit, and
    record the decision (risk/engine.py)."""
    if not enabled() or ENGINE.judge is None:
        return ALLOW
    return await ENGINE.judge(db, action=Action(action), subject=subject, facts=facts or {})


def _code(name: str, fallback: str) -> Any:
    from fissionmall.core.errors import CoreError
    from fissionmall.risk.errors import RiskError

    return RiskError.__members__.get(name) or RiskError.__members__.get(fallback) or CoreError.PERMISSION_DENIED


def refuse(verdict: Verdict) -> None:
    """Raise the shopper-facing refusal of a deny or a challenge; return for every other outcome."""
    from fissionmall.core.errors import AppError

    if verdict.outcome is Outcome.CHALLENGE:
        raise AppError(_code("RISK_CHALLENGE", "CAPTCHA_REQUIRED"))
    if verdict.outcome is Outcome.DENY:
        frozen = any(r in ("frozen", "low_credit") for r in verdict.reasons)
        raise AppError(_code("RISK_FROZEN" if frozen else "RISK_DENIED", "RISK_DENIED"))


def cached_standing(customer_id: int) -> Outcome | None:
    """The shopper's standing as this process last saw it (frozen or low credit → DENY), without I/O: what
    the flash sale's fast lane consults. None: nothing known, ask `check`."""
    return None if ENGINE.standing is None else ENGINE.standing(customer_id)


async def report(db: Database, *, subject: Subject, signal: str, action: Action | None = None) -> None:
    """A tool saw a bad act it judged itself (a forged path token, scripting the flash sale, a refund right
    after a commission): lower the shopper's credit, shared by every tool."""
    if enabled() and subject.customer_id is not None and ENGINE.report is not None:
        await ENGINE.report(db, subject=subject, signal=signal, action=action)
