"""`uvicorn fissionmall.asgi:app`: the app as configured by the environment.

The flash-sale attempt route (POST /api/v1/seckill/items/{id}/attempts) is answered by a lean ASGI
lane in front of FastAPI with the same checks and answers; routing and dependency solving across every
mounted domain cost ~70% of an attempt (docs/seckill.md). Everything else goes through FastAPI.
"""

from fissionmall.app import create_app
from fissionmall.seckill.fast import FastAttempts

app = FastAttempts(create_app())
