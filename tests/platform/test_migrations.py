"""Migrations: upgrade from empty, agree with the models, and round-trip, on this run's backend."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from fissionmall.core.migrate import check, downgrade, upgrade
from tests.conftest import BACKEND, PG_URL, RUN_ID, _pg_admin


@pytest.fixture
def empty_db(tmp_path) -> Iterator[str]:
    if BACKEND == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"fm_mig_{RUN_ID}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_migrations_build_the_schema_the_models_describe(empty_db):
    upgrade(empty_db)
    check(empty_db)  # raises if `alembic revision --autogenerate` would find anything to do


def test_migrations_downgrade_to_empty_and_back(empty_db):
    upgrade(empty_db)
    downgrade(empty_db, "base")
    upgrade(empty_db)
    check(empty_db)


def test_the_migration_history_has_one_head():
    # Tools may branch from the platform while they are built side by side; what lands is merged.
    from alembic.script import ScriptDirectory

    from fissionmall.core.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: add a merge revision"
