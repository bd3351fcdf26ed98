"""fissionmall: a marketing-driven mall engine for WeChat mini-programs."""

__version__ = "0.1.0"
