"""Orders' jobs that live outside service.py: the after-sales timers (imported by the worker)."""

from fissionmall.orders import aftersales  # noqa: F401  (registers the after-sales timers)
