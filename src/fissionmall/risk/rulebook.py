"""Rules as data: a condition in `rule-engine`'s expression language (no eval) over named facts, the acts it
applies to, the outcome and the credit penalty. Pure: parsing, the vocabulary of facts, the seeded defaults.

The facts a condition may name (every count includes the act being judged):

- `<scope>_<dim>_<window>`: acts counted in an exact sliding window. scope is `acts` (this act), `any` (every
  act) or an act's name (`order`, `seckill_attempt`, …); dim is customer, device, ip, ip24 (the IPv4 /24 or
  IPv6 /64), phone, address or distributor; window is a number and s, m, h or d (`acts_device_5m`).
- `accounts_<dim>_<window>`: distinct shoppers seen on that device / address / network / … in the window.
- `joins_same_leader_<window>`: times this shopper joined a group of the same leader (虚假拼团).
- `account_age_minutes`, `credit` (0–100), `amount_fen`, `unpaid_orders` (unpaid orders of the last 30 min),
  `wechat_risk_rank` (0–4 where WeChat is configured; -1 unknown), `helps_without_purchase`, and the flags
  `frozen`, `has_paid`, `distributor_same_device`, `circular_referral`, `refund_after_commission`.
- `action`: the act's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import rule_engine

from fissionmall.risk.decisions import Action, Outcome

DIMS = ("customer", "device", "ip", "ip24", "phone", "address", "distributor")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_WINDOW = 30 * 86400
SCOPES = ("acts", "any", *(a.value for a in Action))
_COUNT = re.compile(rf"^({'|'.join(sorted(SCOPES, key=len, reverse=True))})_({'|'.join(DIMS)})_(\d{{1,5}})([smhd])$")
_DISTINCT = re.compile(rf"^accounts_({'|'.join(d for d in DIMS if d != 'customer')})_(\d{{1,5}})([smhd])$")
_PAIR = re.compile(r"^joins_same_leader_(\d{1,5})([smhd])$")
NUMBERS = (
    "account_age_minutes",
    "credit",
    "amount_fen",
    "unpaid_orders",
    "wechat_risk_rank",
    "helps_without_purchase",
)
FLAGS = ("frozen", "has_paid", "distributor_same_device", "circular_referral", "refund_after_commission")
# Acts a frozen or low-credit shopper may no longer take: marketing only, never a paid order or a refund.
MARKETING = frozenset(
    {
        Action.SECKILL_ATTEMPT,
        Action.GROUP_OPEN,
        Action.GROUP_JOIN,
        Action.BARGAIN_START,
        Action.BARGAIN_HELP,
        Action.COUPON_CLAIM,
        Action.NEW_USER_GIFT,
        Action.DISTRIBUTOR_BIND,
        Action.COMMISSION_ACCRUE,
    }
)
SEVERITY = {Outcome.ALLOW: 0, Outcome.DEGRADE: 1, Outcome.REVIEW: 2, Outcome.CHALLENGE: 3, Outcome.DENY: 4}


@dataclass(frozen=True)
class Counter:
    """A sliding-window count the engine keeps: `kind` count/distinct/pair, for `scope` and `dim`."""

    kind: str
    scope: str
    dim: str
    window: int  # seconds


def _window(n: str, unit: str) -> int:
    return int(n) * UNITS[unit]


def counter_of(symbol: str) -> Counter | None:
    """The counter a fact's name stands for, or None (not a counter)."""
    if m := _COUNT.match(symbol):
        return Counter("count", m[1], m[2], _window(m[3], m[4]))
    if m := _DISTINCT.match(symbol):
        return Counter("distinct", "any", m[1], _window(m[2], m[3]))
    if m := _PAIR.match(symbol):
        return Counter("pair", Action.GROUP_JOIN.value, "customer", _window(m[1], m[2]))
    return None


# Named graph signals that are counters underneath (the engine reads them like any other).
DERIVED = {
    "helps_without_purchase": Counter("count", Action.BARGAIN_HELP.value, "customer", 30 * 86400),
    "refund_after_commission": Counter("count", Action.COMMISSION_ACCRUE.value, "customer", 86400),
    "distributor_same_device": Counter("distinct", "any", "device", 30 * 86400),
}


class RuleError(ValueError):
    """A condition that cannot be a rule: the message (Chinese) and the character position it points at."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Compiled:
    name: str
    label: str
    actions: frozenset[str]  # empty: every act
    condition: str
    outcome: Outcome
    penalty: int
    symbols: frozenset[str]
    counters: tuple[tuple[str, Counter], ...]
    rule: Any = field(compare=False, repr=False)

    def applies(self, action: str) -> bool:
        return not self.actions or action in self.actions

    def matches(self, facts: dict[str, Any]) -> bool:
        """Whether the condition holds for these facts (a fact it names that is missing: it does not)."""
        if not self.symbols <= facts.keys():
            return False
        try:
            return bool(self.rule.matches(facts))
        except Exception:  # a value the condition cannot compute with (a division by zero…): no match
            return False


def _type_of(name: str) -> Any:
    if name == "action":
        return rule_engine.DataType.STRING
    if name in FLAGS:
        return rule_engine.DataType.BOOLEAN
    if name in NUMBERS:
        return rule_engine.DataType.FLOAT
    c = counter_of(name)
    if c is None:
        raise rule_engine.errors.SymbolResolutionError(name)
    if c.window > MAX_WINDOW or c.window <= 0:
        raise rule_engine.errors.SymbolResolutionError(name)
    return rule_engine.DataType.FLOAT


def _position(text: str, exc: Exception) -> int:
    token = getattr(exc, "token", None)
    if token is not None and getattr(token, "lexpos", None) is not None:
        return int(token.lexpos)
    name = getattr(exc, "symbol_name", None)
    if name:
        m = re.search(rf"\b{re.escape(str(name))}\b", text)
        if m:
            return m.start()
    return len(text)


def parse(condition: str) -> tuple[Any, frozenset[str]]:
    """The parsed condition and the facts it names; RuleError (with the position) when it is not one."""
    text = condition.strip()
    if not text:
        raise RuleError("条件不能为空", 0)
    names: set[str] = set()

    def resolve(name: str) -> Any:
        t = _type_of(name)
        names.add(name)
        return t

    ctx = rule_engine.Context(type_resolver=resolve)
    try:
        rule = rule_engine.Rule(condition, context=ctx)
    except rule_engine.errors.SymbolResolutionError as exc:
        pos = _position(condition, exc)
        raise RuleError(f"第 {pos + 1} 个字符处：未知的指标 {exc.symbol_name}", pos) from None
    except rule_engine.errors.RuleSyntaxError as exc:
        pos = _position(condition, exc)
        raise RuleError(f"第 {pos + 1} 个字符处：条件写法有误", pos) from None
    except (rule_engine.errors.EngineError, ValueError, TypeError, RecursionError) as exc:
        pos = _position(condition, exc)
        raise RuleError(f"第 {pos + 1} 个字符处：条件无法计算（类型不符）", pos) from None
    if rule.statement.expression.result_type not in (rule_engine.DataType.BOOLEAN, rule_engine.DataType.UNDEFINED):
        raise RuleError("条件的结果必须是“是/否”（例如 acts_device_5m > 2）", 0)
    return rule, frozenset(names)


def compile_rule(*, name: str, label: str, actions: list[str], condition: str, outcome: str, penalty: int) -> Compiled:
    """A rule ready to judge with; RuleError when its condition is malformed."""
    rule, names = parse(condition)
    counters = tuple((n, c) for n in sorted(names) if (c := counter_of(n) or DERIVED.get(n)) is not None)
    return Compiled(name, label, frozenset(actions), condition, Outcome(outcome), penalty, names, counters, rule)


def ordinary_facts(action: str) -> dict[str, Any]:
    """What an ordinary shopper's first act of the day looks like: a rule that fires on it denies everyone."""
    return {"action": action, "credit": 100.0, "account_age_minutes": 365 * 1440.0, "wechat_risk_rank": -1.0}


def fact_or_default(name: str, facts: dict[str, Any]) -> Any:
    """A fact for the ordinary shopper: every count is 1 (the act itself), every flag false."""
    if name in facts:
        return facts[name]
    if name in FLAGS:
        return name == "has_paid"
    c = counter_of(name)
    if c is not None:
        return 1.0
    return 0.0


def fires_on_everyone(c: Compiled) -> bool:
    """Whether the rule refuses an ordinary shopper's first act of one of its acts (threshold 0, `true`…)."""
    if SEVERITY[c.outcome] < SEVERITY[Outcome.REVIEW]:
        return False
    for action in c.actions or {a.value for a in Action}:
        base = ordinary_facts(action)
        facts = {n: fact_or_default(n, base) for n in c.symbols} | {"action": action}
        if c.matches(facts):
            return True
    return False


_MKT = sorted(a.value for a in MARKETING)
# Seeded defaults, from public engines' thresholds; the merchant edits or disables them (风控规则).
DEFAULTS: tuple[dict[str, Any], ...] = (
    {
        "name": "device_many_accounts",
        "label": "同一设备 5 分钟内超过 2 个账号",
        "actions": _MKT,
        "condition": "accounts_device_5m > 2",
        "outcome": "deny",
        "penalty": 10,
        "position": 10,
    },
    {
        "name": "unpaid_orders_burst",
        "label": "30 分钟内未支付订单超过 4 笔",
        "actions": ["order", "seckill_attempt"],
        "condition": "unpaid_orders > 4",
        "outcome": "challenge",
        "penalty": 0,
        "position": 20,
    },
    {
        "name": "coupon_device_burst",
        "label": "同一设备 1 小时内领券超过 20 次",
        "actions": ["coupon_claim", "new_user_gift"],
        "condition": "acts_device_1h > 20",
        "outcome": "deny",
        "penalty": 5,
        "position": 30,
    },
    {
        "name": "network_new_accounts",
        "label": "同一网段 1 小时内超过 30 个新账号领新人礼",
        "actions": ["new_user_gift"],
        "condition": "accounts_ip24_1h > 30 and account_age_minutes < 60",
        "outcome": "degrade",
        "penalty": 0,
        "position": 40,
        "enabled": False,
    },
    {
        "name": "helper_never_buys",
        "label": "只助力不购买（30 天助力超过 30 次）",
        "actions": ["bargain_help"],
        "condition": "helps_without_purchase > 30",
        "outcome": "deny",
        "penalty": 0,
        "position": 50,
    },
    {
        "name": "same_leader_groups",
        "label": "同一团长的团 1 天内反复参加超过 3 次",
        "actions": ["group_join"],
        "condition": "joins_same_leader_1d > 3",
        "outcome": "deny",
        "penalty": 10,
        "position": 60,
    },
    {
        "name": "distributor_same_device",
        "label": "买家与分销员使用同一设备",
        "actions": ["commission_accrue", "distributor_bind"],
        "condition": "distributor_same_device",
        "outcome": "deny",
        "penalty": 10,
        "position": 70,
    },
    {
        "name": "circular_referral",
        "label": "循环推荐",
        "actions": ["distributor_bind"],
        "condition": "circular_referral",
        "outcome": "deny",
        "penalty": 10,
        "position": 80,
    },
    {
        "name": "refund_after_commission",
        "label": "产生佣金后 1 天内退款（只扣信用分）",
        "actions": ["refund"],
        "condition": "refund_after_commission",
        "outcome": "allow",
        "penalty": 20,
        "position": 90,
    },
    {
        "name": "large_withdrawal",
        "label": "单笔提现超过 5000 元或信用分低于 80",
        "actions": ["withdrawal"],
        "condition": "amount_fen > 500000 or credit < 80",
        "outcome": "review",
        "penalty": 0,
        "position": 100,
    },
    {
        "name": "wechat_high_risk",
        "label": "微信判定为高风险用户（等级 3 及以上）",
        "actions": _MKT,
        "condition": "wechat_risk_rank >= 3",
        "outcome": "challenge",
        "penalty": 0,
        "position": 110,
    },
)
