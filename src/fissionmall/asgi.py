"""`uvicorn fissionmall.asgi:app`: the app as configured by the environment.

The flash-sale attempt route (POST /api/v1/seckill/items/{id}/attempts) is answered by a lean ASGI
lane in front of FastAPI with the same checks and answers; routing and dependency solving across every
mounted domain cost ~70% of an attempt (docs/seckill.md). Everything else goes through FastAPI.
"""

import gc

from fissionmall.app import create_app
from fissionmall.seckill.fast import FastAttempts

app = FastAttempts(create_app())

# The ~160,000 objects built at import (modules, routes, schemas, mappers) live as long as the process.
# Frozen, a full collection skips them: it took ~50 ms with them in it, a pause that lands in some
# request's latency under load (docs/seckill.md, "Tail latency").
gc.collect()
gc.freeze()
