"""How a tool asks the one risk layer (decisions.py) and answers the shopper: the wiring every tool shares.

- `subject_of(caller)`: the `Subject` a request knows (the shopper, X-Device-Id, the client IP as the
  caller helpers read it behind the trusted proxies).
- `guard(db, action=, subject=, facts=)`: `decisions.check` then `decisions.refuse`; a deny or a challenge
  reaches the shopper in plain Chinese (RISK_DENIED / RISK_CHALLENGE even while `refuse` is the stub);
  allow, degrade and review come back as the verdict for the tool to act on (a review holds the benefit:
  reviews.hold). Called outside the tool's own transaction where there is one (a job handler asks from
  inside the worker's: the engine only reads there and writes its record later, in its own flush).
- `standing_refusal(customer_id)`: the flash sale's per-attempt question, no I/O (`cached_standing`).
- `report_once(db, ...)`: a tool's own judgement of a bad act, at most once a second per shopper and
  signal, so a scripted storm costs one write a second, not one per request; `burst(...)` counts a
  shopper's refusals in memory, for a tool that calls many of them in a row scripting.

`settings.risk_enabled` (default on) off: no tool asks; every act is allowed as before the layer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import jobs
from fissionmall.core.db import Database, get_db
from fissionmall.core.errors import AppError
from fissionmall.risk import decisions
from fissionmall.risk.decisions import ALLOW, Action, Outcome, Subject, Verdict
from fissionmall.risk.errors import RiskError
from fissionmall.settings import get_settings

REPORT_EVERY_S = 1.0
_reported: dict[tuple[int, str], float] = {}
_bursts: dict[int, tuple[float, int]] = {}


class CallerLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def ip(self) -> str: ...
    @property
    def device_id(self) -> str | None: ...


def enabled() -> bool:
    """Whether the tools ask the risk layer at all (`settings.risk_enabled`)."""
    return get_settings().risk_enabled


def subject_of(caller: CallerLike, *, distributor_id: int | None = None) -> Subject:
    """What the request knows of who acts: the shopper, their device id and their address."""
    return Subject(customer_id=caller.id, device_id=caller.device_id, ip=caller.ip, distributor_id=distributor_id)


def raise_refusal(verdict: Verdict) -> None:
    """The shopper-facing refusal of a deny or a challenge (the engine's own words first)."""
    decisions.refuse(verdict)
    if verdict.outcome is Outcome.CHALLENGE:
        raise AppError(RiskError.RISK_CHALLENGE)
    if not verdict.allowed:
        raise AppError(RiskError.RISK_DENIED)


async def judge(db: Database, *, action: Action, subject: Subject, facts: Mapping[str, Any] | None = None) -> Verdict:
    """Ask the risk layer and return the verdict without raising (job handlers: nobody to answer)."""
    if not enabled():
        return ALLOW
    return await decisions.check(db, action=action, subject=subject, facts=facts)


async def guard(db: Database, *, action: Action, subject: Subject, facts: Mapping[str, Any] | None = None) -> Verdict:
    """Ask the risk layer about one act and refuse a deny or a challenge; the verdict otherwise."""
    verdict = await judge(db, action=action, subject=subject, facts=facts)
    raise_refusal(verdict)
    return verdict


def standing_refusal(customer_id: int) -> None:
    """Refuse a shopper this process knows to be frozen or denied, without I/O (the flash sale's lane)."""
    if enabled() and decisions.cached_standing(customer_id) is Outcome.DENY:
        raise AppError(RiskError.RISK_DENIED)


async def report_once(
    db: Database,
    *,
    subject: Subject,
    signal: str,
    action: Action | None = None,
) -> None:
    """Tell the risk layer of a bad act a tool saw itself, at most once a second per shopper and signal."""
    if not enabled() or subject.customer_id is None:
        return
    key, now = (subject.customer_id, signal), time.monotonic()
    if now - _reported.get(key, -REPORT_EVERY_S) < REPORT_EVERY_S:
        return
    if len(_reported) > 100_000:
        _reported.clear()
    _reported[key] = now
    await decisions.report(db, subject=subject, signal=signal, action=action)


def burst(customer_id: int, *, over: int, window_s: float) -> bool:
    """Count one refusal of this shopper; True when there were more than `over` in `window_s` seconds (a
    tool's sign of a script: a person gives up long before), in this process's memory."""
    now = time.monotonic()
    since, n = _bursts.get(customer_id, (now, 0))
    if now - since > window_s:
        since, n = now, 0
    if len(_bursts) > 100_000:
        _bursts.clear()
    _bursts[customer_id] = (since, n + 1)
    return n + 1 > over


def forget() -> None:
    """Drop the report throttle and the refusal counts (a new database reuses customer ids; tests)."""
    _reported.clear()
    _bursts.clear()


@jobs.on("CustomerRegistered", "risk.signup")
async def _on_registered(s: AsyncSession, job: jobs.Job) -> None:
    """A new account is judged once (the counters see accounts per device and address); the login stands:
    risk refuses marketing, never shopping, so the verdict only feeds the counters and the record."""
    p = job.payload
    subject = Subject(customer_id=int(p["customer_id"]), device_id=p.get("device_id"), ip=p.get("ip"))
    await judge(get_db(), action=Action.SIGNUP, subject=subject, facts={"ref": p.get("ref")})
