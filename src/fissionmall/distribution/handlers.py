"""Registers distribution's job and event handlers: importing a workflow module registers its own.

models.load_handlers imports every domain's `handlers` module at start-up. The subscribers:
binding (CustomerRegistered, CustomerLoggedIn), commissions (OrderPaid, OrderLineRefunded,
OrderCancelled, OrderCompleted); the jobs: settlement (distribution.settle) and withdrawals
(distribution.payout); the /me contribution: distributors (is_distributor).
"""

from __future__ import annotations

from fissionmall.distribution import binding, commissions, distributors, settlement, withdrawals

__all__ = ["binding", "commissions", "distributors", "settlement", "withdrawals"]
