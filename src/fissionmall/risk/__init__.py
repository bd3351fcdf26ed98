"""Risk control: the flash sale's limits, the block list, and the one risk layer every tool asks
(decisions.check, backed by engine.py: rules, counters, credit, lists; reviews.py the review queue)."""

from fissionmall.risk import engine as engine
