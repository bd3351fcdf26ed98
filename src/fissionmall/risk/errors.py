"""Risk control's refusals: the flash-sale path (RATE_LIMITED is core's), a friend's help on a bargain, and
the one risk layer's refusals every tool answers with (plain words, never a rule's name)."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class RiskError(ErrorCode):
    BAD_TOKEN = "BAD_TOKEN", "页面已过期，请重试", 403
    CAPTCHA_REQUIRED = "CAPTCHA_REQUIRED", "请先完成验证", 429
    # A friend's help on a bargain (砍价): the gate's refusals in a shopper's words.
    HELP_SAME_DEVICE = "HELP_SAME_DEVICE", "检测到你和发起人使用同一台设备，不能助力", 403
    HELP_SAME_NETWORK = "HELP_SAME_NETWORK", "检测到你和发起人在同一网络下，不能助力", 403
    HELP_NEW_ACCOUNT_BURST = "HELP_NEW_ACCOUNT_BURST", "短时间内新注册账号助力过多，请稍后再试", 429
    HELP_NEEDS_PURCHASE = "HELP_NEEDS_PURCHASE", "助力次数已达上限，在本店购物后可继续助力", 403
    # The one risk layer (risk/decisions.py): what a shopper reads when `check` refuses an act, any tool.
    RISK_DENIED = "RISK_DENIED", "当前账号存在异常风险，暂时无法参与此活动", 403
    RISK_FROZEN = "RISK_FROZEN", "账号暂时无法参与营销活动，如有疑问请联系客服", 403
    RISK_CHALLENGE = "RISK_CHALLENGE", "操作过于频繁，请完成安全验证后再试", 429
    # The rulebook and review queue's admin API (risk/api.py): what an operator reads.
    RULE_INVALID = "RULE_INVALID", "规则条件有误", 422
    RULE_DENIES_EVERYONE = "RULE_DENIES_EVERYONE", "这条规则会拒绝所有买家，确认无误请勾选确认后再保存", 422
    RULE_NAME_TAKEN = "RULE_NAME_TAKEN", "规则名称已存在", 409
    RULE_NOT_FOUND = "RULE_NOT_FOUND", "找不到这条规则", 404
    RISK_ACTION_UNKNOWN = "RISK_ACTION_UNKNOWN", "未知的操作类型", 422
    REVIEW_NOT_FOUND = "REVIEW_NOT_FOUND", "找不到这条审核", 404
    REVIEW_ALREADY_DECIDED = "REVIEW_ALREADY_DECIDED", "这条审核已经处理过了", 409
    REVIEW_BAD_DECISION = "REVIEW_BAD_DECISION", "审核结果只能是放行或作废", 422
    REVIEW_KIND_UNKNOWN = "REVIEW_KIND_UNKNOWN", "这类审核暂时无法处理", 409
    RISK_LIST_BAD = "RISK_LIST_BAD", "名单条目有误", 422
    RISK_LIST_DUPLICATE = "RISK_LIST_DUPLICATE", "名单里已有这一条", 409
    ORDER_UNDER_REVIEW = "ORDER_UNDER_REVIEW", "这笔订单正在风控审核中：审核放行后才能发货", 409
