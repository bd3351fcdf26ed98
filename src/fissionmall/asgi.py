"""`uvicorn fissionmall.asgi:app`: the app as configured by the environment."""

from fissionmall.app import create_app

app = create_app()
