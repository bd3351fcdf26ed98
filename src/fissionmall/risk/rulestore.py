"""The rulebook's workflow: the merchant's rules (CRUD, checked at save), a preview against the last 24 h of
decisions, the decision log, and the block/allow lists. Every edit moves the `risk_book` version in its own
transaction, so each process judges by it within a poll."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from fissionmall.core import cache, clock
from fissionmall.core.db import Database
from fissionmall.core.errors import AppError, Conflict, NotFound
from fissionmall.risk import engine
from fissionmall.risk.decisions import Action
from fissionmall.risk.errors import RiskError
from fissionmall.risk.models import RiskDecision, RiskListEntry, RiskRule
from fissionmall.risk.rulebook import DIMS, SEVERITY, Compiled, RuleError, compile_rule, fires_on_everyone

PREVIEW_ROWS = 5000
LIST_DIMS = DIMS


async def ensure_seeded(db: Database) -> None:
    """Store the default rules if this shop never had its rulebook stored (before the console lists it)."""
    async with db.read() as s:
        bk = await engine.book(s)
    if not bk.seeded:
        async with db.tx() as s:
            await engine.seed(s)


def check_rule(body: dict[str, Any]) -> Compiled:
    """The rule compiled, or a 4xx: unknown acts, a malformed condition (with its position), a rule that
    refuses everyone without `confirm`."""
    bad = [a for a in body["actions"] if a not in Action.__members__.values()]
    if bad:
        raise AppError(RiskError.RISK_ACTION_UNKNOWN, f"未知的操作类型：{bad[0]}", actions=bad)
    try:
        c = compile_rule(
            name=body["name"],
            label=body["label"],
            actions=list(body["actions"]),
            condition=body["condition"],
            outcome=body["outcome"],
            penalty=body["penalty"],
        )
    except RuleError as exc:
        raise AppError(RiskError.RULE_INVALID, exc.message, position=exc.position) from None
    if body.get("enabled", True) and fires_on_everyone(c) and not body.get("confirm"):
        raise AppError(RiskError.RULE_DENIES_EVERYONE, confirm_required=True)
    return c


async def list_rules(db: Database) -> list[RiskRule]:
    """Every rule, in the order they are judged."""
    await ensure_seeded(db)
    async with db.read() as s:
        return list((await s.scalars(select(RiskRule).order_by(RiskRule.position, RiskRule.id))).all())


async def get_rule(db: Database, *, rule_id: int) -> RiskRule:
    """One rule, or RULE_NOT_FOUND."""
    async with db.read() as s:
        row = await s.get(RiskRule, rule_id)
    if row is None:
        raise NotFound(RiskError.RULE_NOT_FOUND)
    return row


_FIELDS = ("name", "label", "actions", "condition", "outcome", "penalty", "enabled", "position")


async def save_rule(db: Database, *, body: dict[str, Any], rule_id: int | None = None) -> RiskRule:
    """Create a rule (rule_id None) or replace one; checked first (check_rule)."""
    await ensure_seeded(db)
    check_rule(body)
    now = clock.now()
    try:
        async with db.tx() as s:
            if rule_id is None:
                row = RiskRule(**{k: body[k] for k in _FIELDS}, created_at=now, updated_at=now)
                s.add(row)
            else:
                found = await s.get(RiskRule, rule_id)
                if found is None:
                    raise NotFound(RiskError.RULE_NOT_FOUND)
                row = found
                for k in _FIELDS:
                    setattr(row, k, body[k])
                row.updated_at = now
            await s.flush()
            await cache.bump(s, "risk_book")
    except IntegrityError:
        raise Conflict(RiskError.RULE_NAME_TAKEN) from None
    return row


async def delete_rule(db: Database, *, rule_id: int) -> None:
    """Remove a rule (RULE_NOT_FOUND when there is none)."""
    async with db.tx() as s:
        gone = await s.execute(delete(RiskRule).where(RiskRule.id == rule_id))
        if getattr(gone, "rowcount", 0) != 1:
            raise NotFound(RiskError.RULE_NOT_FOUND)
        await cache.bump(s, "risk_book")


async def preview(db: Database, *, body: dict[str, Any]) -> dict[str, Any]:
    """What the rule would have done to the last 24 h of decisions (their recorded facts): how many it
    applies to, would fire on, would make stricter, and how many lack a fact it names."""
    c = check_rule({**body, "confirm": True})
    await engine.flush_now(db)
    since = clock.now() - timedelta(hours=24)
    q = select(RiskDecision).where(RiskDecision.at >= since).order_by(RiskDecision.id.desc()).limit(PREVIEW_ROWS)
    async with db.read() as s:
        rows = (await s.scalars(q)).all()
    applies = fired = stricter = unknown = 0
    customers: set[int] = set()
    samples: list[dict[str, Any]] = []
    for r in rows:
        if not c.applies(r.action) or r.action == "report":
            continue
        applies += 1
        facts = dict(r.facts or {})
        if not c.symbols <= facts.keys():
            unknown += 1
            continue
        if c.matches(facts):
            fired += 1
            if r.customer_id is not None:
                customers.add(r.customer_id)
            try:
                was = SEVERITY[engine.Outcome(r.outcome)]
            except ValueError:
                was = 0
            if SEVERITY[c.outcome] > was:
                stricter += 1
            if len(samples) < 20:
                samples.append(
                    {
                        "decision_id": r.id,
                        "at": r.at,
                        "action": r.action,
                        "customer_id": r.customer_id,
                        "outcome": r.outcome,
                    }
                )
    return {
        "decisions": len(rows),
        "applies": applies,
        "fired": fired,
        "stricter": stricter,
        "unknown": unknown,
        "customers": len(customers),
        "denies_everyone": fires_on_everyone(c),
        "samples": samples,
    }


async def decisions(
    db: Database,
    *,
    customer_id: int | None = None,
    action: str | None = None,
    outcome: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[RiskDecision]:
    """Decisions newest first (the ones still queued in this process written first)."""
    await engine.flush_now(db)
    q = select(RiskDecision).order_by(RiskDecision.id.desc()).limit(limit)
    if customer_id is not None:
        q = q.where(RiskDecision.customer_id == customer_id)
    if action:
        q = q.where(RiskDecision.action == action)
    if outcome:
        q = q.where(RiskDecision.outcome == outcome)
    if before:
        q = q.where(RiskDecision.id < before)
    async with db.read() as s:
        return list((await s.scalars(q)).all())


async def list_entries(db: Database) -> Sequence[RiskListEntry]:
    """The block and allow lists, newest first."""
    async with db.read() as s:
        return (await s.scalars(select(RiskListEntry).order_by(RiskListEntry.id.desc()).limit(1000))).all()


async def add_entry(db: Database, *, kind: str, dim: str, value: str, note: str = "") -> RiskListEntry:
    """Put a shopper, device, address, network, phone or address hash on the block or allow list."""
    value = value.strip()
    if kind not in ("block", "allow") or dim not in LIST_DIMS or not value:
        raise AppError(RiskError.RISK_LIST_BAD)
    if dim == "ip24":
        value = engine.network(value.split("/")[0]) or ""
        if not value:
            raise AppError(RiskError.RISK_LIST_BAD)
    try:
        async with db.tx() as s:
            row = RiskListEntry(kind=kind, dim=dim, value=value[:64], note=note[:200], created_at=clock.now())
            s.add(row)
            await s.flush()
            await cache.bump(s, "risk_book")
    except IntegrityError:
        raise Conflict(RiskError.RISK_LIST_DUPLICATE) from None
    return row


async def remove_entry(db: Database, *, entry_id: int) -> None:
    """Take an entry off its list."""
    async with db.tx() as s:
        await s.execute(delete(RiskListEntry).where(RiskListEntry.id == entry_id))
        await cache.bump(s, "risk_book")


async def customer_exists(db: Database, *, customer_id: int) -> None:
    """CUSTOMER_NOT_FOUND unless this shopper exists."""
    from fissionmall.accounts import service as accounts
    from fissionmall.accounts.errors import AccountsError

    async with db.read() as s:
        if await accounts.get_customer(s, customer_id=customer_id) is None:
            raise NotFound(AccountsError.CUSTOMER_NOT_FOUND)
