"""Every table, imported in one place for Alembic and the tests (domains found by `registry`)."""

from fissionmall import registry
from fissionmall.core.cache import CacheVersion
from fissionmall.core.db import Base
from fissionmall.core.idempotency import IdempotencyKey
from fissionmall.core.jobs import Event, Job

registry.import_all("models")

__all__ = ["Base", "CacheVersion", "Event", "IdempotencyKey", "Job"]


def load_handlers() -> None:
    """Import every module that registers job and event handlers."""
    # Domain by domain, service then handlers: subscribers of one event are queued in this order, and a
    # package split into workflow modules (registered by its handlers.py) keeps its place among the others.
    registry.import_all("service", "handlers")
    registry.import_all("checkout")  # a domain's checkout contribution (checkout/contributions.py)
