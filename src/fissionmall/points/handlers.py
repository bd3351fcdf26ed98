"""Points' job and event handlers, imported by models.load_handlers: earning, refunds, leaders, expiry."""

from fissionmall.points import earning, expiry

__all__ = ["earning", "expiry"]
