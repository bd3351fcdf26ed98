"""Spendable points (消费积分): the ledger, earn rules, sign-in, points at checkout, expiry (docs/points.md)."""
