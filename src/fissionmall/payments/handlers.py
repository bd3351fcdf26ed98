"""Payments' job handlers that live outside payments/service.py, imported here so the worker registers them.

registry.import_all("handlers") finds only a domain's top-level `handlers` module, not payments/wechatpay/.
"""

from __future__ import annotations

from fissionmall.payments.wechatpay import sweeps  # noqa: F401  (registers the wechat.* jobs and arm_sweeps)
