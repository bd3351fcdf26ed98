"""Admin roles and what each may do. Pure data: the routers ask `allowed()`."""

from __future__ import annotations

ROLES = ("owner", "operator", "finance", "store_staff")

# A permission is "<area>" (full) or "<area>.read". Owner may do everything; "staff" (the staff page:
# accounts, roles, passwords) is the owner's alone, so no other role is granted it.
_GRANTS: dict[str, frozenset[str]] = {
    "owner": frozenset({"*"}),
    # monitor: 实时监控 (orders per minute, payments, flash sales, queue lag: ops/monitor.py)
    "operator": frozenset({"catalog", "orders", "marketing", "dashboard", "refunds.read", "customers", "monitor"}),
    # wallet: manual 余额 adjustments and top-up refunds (money the shop owes its shoppers)
    "finance": frozenset(
        {"refunds", "orders.read", "catalog.read", "dashboard", "withdrawals", "customers.read", "wallet"}
    ),
    "store_staff": frozenset({"verify", "orders.read"}),
}


def allowed(role: str, permission: str) -> bool:
    grants = _GRANTS.get(role, frozenset())
    if "*" in grants or permission in grants:
        return True
    area, _, level = permission.partition(".")
    return level == "read" and area in grants
