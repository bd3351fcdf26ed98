"""The engine behind `decisions.check`: the rulebook (cached, versioned), the lists, the counters, credit,
the facts tools and other rooms provide, and the decision record.

One decision costs one read transaction (the rulebook and lists are in memory behind a version poll; credit
and account age are cached) and one counter round trip (one Lua call in Redis, or memory). Nothing is written
to the database on the caller's path: decisions and credit penalties are queued and written by a flush of
their own (at once for a refusal, within half a second for an allow), so a decision never waits on, or
deadlocks with, the caller's transaction, and an order or a flash-sale attempt pays no extra commit.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import column, func, select, table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import cache, clock
from fissionmall.core.db import Database, UTCDateTime, is_postgres
from fissionmall.risk import counters, credit
from fissionmall.risk.decisions import ENGINE, Action, Outcome, Subject, Verdict
from fissionmall.risk.models import RiskDecision, RiskListEntry, RiskRule, RiskRules
from fissionmall.risk.rulebook import DEFAULTS, MARKETING, SEVERITY, Compiled, Counter, RuleError, compile_rule

log = logging.getLogger(__name__)

BOOK = cache.Value["Book"]("risk_book")
SEED_SCOPE = "rulebook"
ALL_ACTIONS = tuple(a.value for a in Action)
_customers = table("customers", column("id"), column("created_at", UTCDateTime), column("openid"))
_orders = table("orders", column("customer_id"), column("status"), column("created_at", UTCDateTime))
FactProvider = Callable[..., Awaitable[float | bool | None]]  # (db, *, subject, facts)
PROVIDERS: dict[str, FactProvider] = {}  # facts other rooms compute (wechat registers wechat_risk_rank)


def provide(name: str, fn: FactProvider) -> None:
    """Let another room compute a fact the rules may name (None: unknown, so a rule naming it does not fire)."""
    PROVIDERS[name] = fn


@dataclass(frozen=True)
class Book:
    rules: tuple[Compiled, ...]
    lists: dict[tuple[str, str], frozenset[str]]  # (block|allow, dim) → values
    seeded: bool
    by_action: dict[str, tuple[Compiled, ...]]
    adds: dict[str, tuple[tuple[str, str, str, int], ...]]  # act → (kind, scope, dim, keep ms) to record

    @classmethod
    def build(cls, rules: list[Compiled], lists: dict[tuple[str, str], frozenset[str]], seeded: bool) -> Book:
        keep: dict[tuple[str, str, str], int] = {}
        for r in rules:
            for _, c in r.counters:
                scopes = (r.actions or ALL_ACTIONS) if c.scope == "acts" else (c.scope,)
                for sc in scopes:
                    fam = (c.kind, sc, c.dim)
                    keep[fam] = max(keep.get(fam, 0), c.window * 1000)
        adds = {
            a: tuple((k, sc, d, ms) for (k, sc, d), ms in keep.items() if sc in (a, "any") or k == "distinct")
            for a in ALL_ACTIONS
        }
        by_action = {a: tuple(r for r in rules if r.applies(a)) for a in ALL_ACTIONS}
        return cls(tuple(rules), lists, seeded, by_action, adds)


def compiled(row: RiskRule) -> Compiled | None:
    """A stored rule ready to judge with (None, logged, for one that no longer compiles)."""
    try:
        return compile_rule(
            name=row.name,
            label=row.label,
            actions=list(row.actions),
            condition=row.condition,
            outcome=row.outcome,
            penalty=row.penalty,
        )
    except (RuleError, ValueError):
        log.warning("risk: stored rule %s does not compile; skipped", row.name)
        return None


def defaults() -> list[Compiled]:
    """The seeded default rules, compiled (what a shop judges by before its rulebook is stored)."""
    return [
        compile_rule(**{k: d[k] for k in ("name", "label", "actions", "condition", "outcome", "penalty")})
        for d in DEFAULTS
        if d.get("enabled", True)
    ]


async def _load_book(s: AsyncSession) -> Book:
    seeded = bool(await s.scalar(select(RiskRules.id).where(RiskRules.scope == SEED_SCOPE)))
    if seeded:
        rows = (
            await s.scalars(select(RiskRule).where(RiskRule.enabled).order_by(RiskRule.position, RiskRule.id))
        ).all()
        rules = [c for r in rows if (c := compiled(r)) is not None]
    else:
        rules = defaults()  # a shop that never saw its rulebook judges by the defaults (the flush stores them)
    lists: dict[tuple[str, str], set[str]] = {}
    for kind, dim, value in (await s.execute(select(RiskListEntry.kind, RiskListEntry.dim, RiskListEntry.value))).all():
        lists.setdefault((kind, dim), set()).add(value)
    return Book.build(rules, {k: frozenset(v) for k, v in lists.items()}, seeded)


async def book(s: AsyncSession) -> Book:
    """The rulebook and lists in force (this process's copy, reloaded when an edit moves the version)."""
    return await BOOK.get(s, _load_book)


def network(ip: str | None) -> str | None:
    """The /24 of an IPv4 address or the /64 of an IPv6 one (an address's neighbourhood)."""
    if not ip:
        return None
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    bits = 24 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{addr}/{bits}", strict=False))


def keys_of(subject: Subject) -> dict[str, str]:
    """The subject's values per dimension (those it has), as the counters and lists key them."""
    raw = {
        "customer": None if subject.customer_id is None else str(subject.customer_id),
        "device": subject.device_id,
        "ip": subject.ip,
        "ip24": network(subject.ip),
        "phone": subject.phone_hash,
        "address": subject.address_hash,
        "distributor": None if subject.distributor_id is None else str(subject.distributor_id),
    }
    return {d: v[:64] for d, v in raw.items() if v}


def _count_key(c: Counter, action: str, keys: dict[str, str], facts: Mapping[str, Any]) -> str | None:
    if c.kind == "pair":
        leader = facts.get("leader_id")
        return None if leader is None or "customer" not in keys else f"p:{leader}:{keys['customer']}"
    value = keys.get(c.dim)
    if value is None:
        return None
    if c.kind == "distinct":
        return f"u:{c.dim}:{value}"
    return f"c:{action if c.scope == 'acts' else c.scope}:{c.dim}:{value}"


# ---- the state of this process: which database, the queued records -----------------------------------

_db: Database | None = None
_buffer: list[dict[str, Any]] = []
_seed_wanted = False
_closing = False  # the app is shutting down: close() writes what is queued, no new background flush
_task: asyncio.Task[None] | None = None
_lock = asyncio.Lock()
_ages: dict[int, datetime | None] = {}
_EPOCH_MS = 1_767_225_600_000  # 2026-01-01
_tag = secrets.randbelow(1024)
_seq = itertools.count()
MAX_BUFFER = 20_000


def forget() -> None:
    """Drop everything this process holds (a new database, tests)."""
    global _db, _seed_wanted, _lock, _task, _closing
    _db, _seed_wanted, _task, _closing = None, False, None, False
    _lock = asyncio.Lock()  # a new app may run on a new event loop
    _buffer.clear()
    _ages.clear()
    credit.forget()
    BOOK._keyed.clear()


def _attach(db: Database) -> None:
    if db is not _db:
        forget()
        globals()["_db"] = db
        credit.remember_db(db)


def new_id() -> int:
    """A decision's id, made here (time, process, sequence) so a decision has one before it is written."""
    ms = int(time.time() * 1000) - _EPOCH_MS
    return (ms << 22) | (_tag << 12) | (next(_seq) & 0xFFF)


async def _age_minutes(s: AsyncSession, customer_id: int) -> float | None:
    if customer_id not in _ages:
        if len(_ages) > 200_000:
            _ages.clear()
        _ages[customer_id] = await s.scalar(select(_customers.c.created_at).where(_customers.c.id == customer_id))
    at = _ages[customer_id]
    return None if at is None else max(0.0, (clock.now() - at).total_seconds() / 60)


async def _unpaid(s: AsyncSession, customer_id: int) -> int:
    since = clock.now() - timedelta(minutes=30)
    q = select(func.count()).where(
        _orders.c.customer_id == customer_id, _orders.c.status == "pending_payment", _orders.c.created_at >= since
    )
    return int(await s.scalar(q) or 0)


async def _circular(keys: dict[str, str], facts: Mapping[str, Any]) -> bool | None:
    me, up = keys.get("customer"), facts.get("distributor_customer_id")
    if me is None or up is None:
        return None
    at, seen = str(up), set()
    # The distributor's own chain upwards: reaching the shopper is a loop. Binding to oneself (depth 0) and
    # to one's own downline (depth 1) are the binding's own refusals (REF_SELF, BIND_CYCLE), answered by
    # distribution with its codes and under its lock; the layer adds the longer loops it cannot see.
    for depth in range(8):
        if at == me:
            return depth >= 2
        if at in seen:
            return False
        seen.add(at)
        nxt = await counters.get_edge(at)
        if nxt is None:
            return False
        at = nxt
    return False


async def judge(db: Database, *, action: Action, subject: Subject, facts: Mapping[str, Any]) -> Verdict:
    """Decide one act and queue its record (see the module docstring)."""
    _attach(db)
    a = action.value
    keys = keys_of(subject)
    cid = subject.customer_id
    now = clock.now()
    now_ms = int(now.timestamp() * 1000)
    fx: dict[str, Any] = {"action": a}
    async with db.read() as s:
        bk = await book(s)
        if not bk.seeded:
            _want_seed()
        rules = bk.by_action[a]
        names = frozenset().union(*(r.symbols for r in rules)) if rules else frozenset()
        score, frozen = (100, False)
        if cid is not None:
            score, frozen = await credit.standing(s, customer_id=cid)
            fx["credit"], fx["frozen"] = float(score), frozen
            if "account_age_minutes" in names and (age := await _age_minutes(s, cid)) is not None:
                fx["account_age_minutes"] = age
            if "unpaid_orders" in names:
                fx["unpaid_orders"] = float(await _unpaid(s, cid))
    if "amount_fen" in facts:
        fx["amount_fen"] = float(facts["amount_fen"])
    if isinstance(facts.get("has_paid"), bool):
        fx["has_paid"] = facts["has_paid"]

    def listed(kind: str) -> bool:
        return any(v in bk.lists.get((kind, d), ()) for d, v in keys.items())

    if listed("allow"):
        return _decide(a, subject, Outcome.ALLOW, ("allow_list",), fx, 0)
    # Every act is counted, the refused ones too (a bot's retries are what the windows are for).
    adds: list[counters.Add] = []
    for kind, scope, dim, keep in bk.adds[a]:
        if kind == "pair":
            if a == Action.GROUP_JOIN.value and (k := _count_key(Counter("pair", scope, dim, 0), a, keys, facts)):
                # one member per group: retrying one group is not filling a leader's groups (虚假拼团)
                adds.append((k, str(facts.get("group_id") or ""), keep))
            continue
        value = keys.get(dim)
        if value is None or (kind == "distinct" and cid is None):
            continue
        adds.append(
            (f"u:{dim}:{value}", str(cid), keep) if kind == "distinct" else (f"c:{scope}:{dim}:{value}", "", keep)
        )
    queries: list[counters.Query] = []
    asked: list[str] = []
    for r in rules:
        for name, c in r.counters:
            if name in asked:
                continue
            if name == "distributor_same_device":
                up = facts.get("distributor_customer_id")
                if up is None or "device" not in keys or str(up) == keys.get("customer"):
                    continue
                queries.append((f"u:device:{keys['device']}", c.window * 1000, str(up)))
            elif (k := _count_key(c, a, keys, facts)) is not None:
                queries.append((k, c.window * 1000, ""))
            else:
                continue
            asked.append(name)
    got = await counters.tally(adds, queries, now_ms=now_ms) if adds or queries else []
    for name, n in zip(asked, got, strict=True):
        if name == "helps_without_purchase":
            fx[name] = float(n) if facts.get("has_paid") is False else 0.0
        elif name in ("refund_after_commission", "distributor_same_device"):
            fx[name] = n > 0
        else:
            fx[name] = float(n)
    if "circular_referral" in names and (loop := await _circular(keys, facts)) is not None:
        fx["circular_referral"] = loop
    for name, fn in PROVIDERS.items():
        if name in names and name not in fx:
            try:
                v = await fn(db, subject=subject, facts=facts)
            except Exception:
                log.warning("risk: fact %s could not be computed", name, exc_info=True)
                v = None
            if v is not None:
                fx[name] = v
    if listed("block") and action is not Action.REFUND:
        return _decide(a, subject, Outcome.DENY, ("block_list",), fx, 0)
    outcome, reasons, penalty = Outcome.ALLOW, [], 0
    for r in rules:
        if r.matches(fx):
            reasons.append(r.name)
            penalty += r.penalty
            if SEVERITY[r.outcome] > SEVERITY[outcome]:
                outcome = r.outcome
    if cid is not None and action in MARKETING and (frozen or score < credit.FREEZE_BELOW):
        reasons.append("frozen" if frozen else "low_credit")
        outcome = Outcome.DENY
    if action is Action.DISTRIBUTOR_BIND and SEVERITY[outcome] < SEVERITY[Outcome.CHALLENGE]:
        if (up := facts.get("distributor_customer_id")) is not None and cid is not None:
            await counters.set_edge(str(cid), str(up))
    return _decide(a, subject, outcome, tuple(reasons), fx, penalty)


def _decide(
    action: str, subject: Subject, outcome: Outcome, reasons: tuple[str, ...], fx: dict[str, Any], penalty: int
) -> Verdict:
    did = new_id()
    record(
        id=did,
        action=action,
        subject=subject,
        outcome=outcome.value,
        reasons=list(reasons),
        facts=fx,
    )
    if penalty and subject.customer_id is not None:
        credit.queue_penalty(subject.customer_id, penalty)
    return Verdict(outcome, reasons, did, {"credit": fx.get("credit", 100.0)})


def record(*, id: int, action: str, subject: Subject, outcome: str, reasons: list[str], facts: dict[str, Any]) -> None:
    """Queue one decision row; refusals are written at once, allows within half a second."""
    if len(_buffer) >= MAX_BUFFER:
        del _buffer[: MAX_BUFFER // 10]
        log.warning("risk: decision buffer full; the oldest were dropped")
    _buffer.append(
        {
            "id": id,
            "at": clock.now(),
            "action": action,
            "outcome": outcome,
            "customer_id": subject.customer_id,
            "device_id": (subject.device_id or None) and subject.device_id[:64],
            "ip": (subject.ip or None) and subject.ip[:64],
            "reasons": reasons,
            "facts": facts,
        }
    )
    _schedule(0.02 if outcome != Outcome.ALLOW.value or reasons else 0.5)


def _want_seed() -> None:
    global _seed_wanted
    _seed_wanted = True
    _schedule(0.02)


def _schedule(delay: float) -> None:
    global _task
    if _db is None or _closing or (_task is not None and not _task.done()):
        return
    db = _db

    async def later() -> None:
        global _task
        await asyncio.sleep(delay)
        failed = False
        try:
            await flush(db)
        except Exception:
            failed = True
            log.warning("risk: decisions not written yet (will retry)", exc_info=True)
        finally:
            _task = None
        if db is _db and (_buffer or _seed_wanted or credit.take_pending()):
            _schedule(1.0 if failed else 0.02)

    try:
        _task = asyncio.get_running_loop().create_task(later())
    except RuntimeError:
        pass


async def seed(s: AsyncSession) -> bool:
    """Store the default rules once per shop (a marker row says it was done); whether this call did."""
    ins = pg_insert(RiskRules) if is_postgres(s) else sqlite_insert(RiskRules)
    done = await s.execute(
        ins.values(scope=SEED_SCOPE, rules={"seeded": True}, updated_at=clock.now())
        .on_conflict_do_nothing(index_elements=["scope"])
        .returning(RiskRules.id)
    )
    if done.scalar() is None:
        return False
    now = clock.now()
    for d in DEFAULTS:
        s.add(RiskRule(**{"enabled": True, **d}, created_at=now, updated_at=now))
    await s.flush()
    await cache.bump(s, "risk_book")
    return True


async def flush(db: Database) -> None:
    """Write the queued decisions, credit penalties and (once) the seeded rules, in one transaction."""
    global _seed_wanted
    async with _lock:
        if db is not _db:
            return  # the database this was queued for is gone (a new app)
        rows = list(_buffer)
        del _buffer[: len(rows)]
        penalties = credit.take_pending()
        want_seed, _seed_wanted = _seed_wanted, False
        if not rows and not penalties and not want_seed:
            return
        try:
            async with db.tx() as s:
                if want_seed:
                    await seed(s)
                if rows:
                    ins = pg_insert(RiskDecision) if is_postgres(s) else sqlite_insert(RiskDecision)
                    await s.execute(ins.on_conflict_do_nothing(index_elements=["id"]), rows)
                stored = await credit.apply(s, penalties=penalties)
        except Exception:
            _buffer[:0] = rows
            _seed_wanted = _seed_wanted or want_seed
            raise
        credit.settled(penalties, stored)


async def flush_now(db: Database) -> None:
    """Write what this process has queued for this database now (before the log is read, tests)."""
    if db is _db:
        await flush(db)


async def set_credit(
    db: Database, *, customer_id: int, clear: bool = False, frozen: bool | None = None, note: str = ""
) -> credit.Standing:
    """An operator clears a shopper's score and/or freezes the account (the API's and the console's act).
    The penalties this process queued are written first: a flush landing after the clear would lower the
    score the operator just restored."""
    await flush_now(db)
    return await credit.set_credit(db, customer_id=customer_id, clear=clear, frozen=frozen, note=note)


async def report(db: Database, *, subject: Subject, signal: str, action: Action | None = None) -> None:
    """A tool's own judgement of a bad act: recorded as a decision, the shopper's credit lowered."""
    if subject.customer_id is None:
        return
    _attach(db)
    async with db.read() as s:  # the standing loaded, so the penalty counts on top of what is stored
        await credit.standing(s, customer_id=subject.customer_id)
    points = credit.SIGNALS.get(signal, credit.DEFAULT_SIGNAL)
    record(
        id=new_id(),
        action=action.value if action is not None else "report",
        subject=subject,
        outcome=Outcome.DENY.value,
        reasons=[f"report:{signal[:40]}"],
        facts={"signal": signal[:40], "penalty": points},
    )
    credit.queue_penalty(subject.customer_id, points)


ENGINE.judge, ENGINE.report, ENGINE.standing = judge, report, credit.cached_standing


async def close(db: Database) -> None:
    """At app shutdown: write what is queued and stop the background work (nothing left on a closed loop)."""
    global _task, _closing
    _closing = True
    task, _task = _task, None
    if task is not None and not task.done():
        # Awaited, not cancelled: a flush cancelled inside its transaction leaves SQLite's write lock with a
        # connection nobody closes (the next app on that file then waits out the busy timeout). The task
        # only sleeps a second at most before it writes.
        with suppress(Exception):
            await asyncio.wait_for(task, timeout=10)
    with suppress(Exception):
        await flush_now(db)
    await credit.stop()
    forget()
