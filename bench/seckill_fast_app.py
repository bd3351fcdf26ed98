"""The app with the flash-sale fast lane in front (the wiring proposed in seckill/fast.py), for bench (b+)."""

from __future__ import annotations

from fissionmall.asgi import app as _app
from fissionmall.seckill.fast import FastAttempts

app = FastAttempts(_app)
