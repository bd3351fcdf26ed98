"""Every table, imported in one place for Alembic and `create_all`."""

from fissionmall.accounts.models import AdminUser, Customer
from fissionmall.catalog.models import Category, Product, Sku
from fissionmall.core.db import Base
from fissionmall.core.idempotency import IdempotencyKey
from fissionmall.core.jobs import Event, Job
from fissionmall.orders.models import Order, OrderLine, Refund
from fissionmall.payments.models import GatewayNotification, Payment

__all__ = [
    "AdminUser",
    "Base",
    "Category",
    "Customer",
    "Event",
    "GatewayNotification",
    "IdempotencyKey",
    "Job",
    "Order",
    "OrderLine",
    "Payment",
    "Product",
    "Refund",
    "Sku",
]


def load_handlers() -> None:
    """Import every module that registers job and event handlers."""
    import fissionmall.orders.service
    import fissionmall.payments.service  # noqa: F401
