"""Run Alembic from code (the CLI, the demo and the tests share this)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[3]


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def _in_thread(fn: Callable[[], None]) -> None:
    # Alembic's env.py runs its own event loop; a thread keeps it clear of any loop the caller runs.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(fn).result()


def upgrade(url: str, revision: str = "heads") -> None:
    _in_thread(lambda: command.upgrade(alembic_config(url), revision))


def downgrade(url: str, revision: str) -> None:
    _in_thread(lambda: command.downgrade(alembic_config(url), revision))


def check(url: str) -> None:
    """Raise if the models and the migrations disagree."""
    _in_thread(lambda: command.check(alembic_config(url)))
