"""The command line as an operator uses it: migrate, create-admin, and the demo loader kept across runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="exercises the embedded default")


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"FISSIONMALL_VAR_DIR": str(tmp_path / "var"), "FISSIONMALL_ENV": "dev", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "fissionmall.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_migrate_create_admin_and_a_demo_that_keeps_its_data(tmp_path):
    r = _cli(tmp_path, "migrate")
    assert r.returncode == 0, r.stderr
    r = _cli(tmp_path, "create-admin", "--username", "boss", "--password", "long-enough-pw", "--role", "finance")
    assert r.returncode == 0 and "created finance boss" in r.stdout
    r = _cli(tmp_path, "create-admin", "--username", "boss", "--password", "long-enough-pw")
    assert r.returncode == 1 and "USERNAME_TAKEN" in r.stderr
    r = _cli(tmp_path, "create-admin", "--username", "x", "--password", "short")
    assert r.returncode == 1 and "PASSWORD_TOO_SHORT" in r.stderr
    r = _cli(tmp_path, "reset-admin", "--username", "boss", "--password", "another-long-pw")
    assert r.returncode == 0 and "unlocked boss" in r.stdout, r.stderr
    r = _cli(tmp_path, "reset-admin", "--username", "nobody")
    assert r.returncode == 1 and "ADMIN_NOT_FOUND" in r.stderr

    first = _cli(tmp_path, "demo", "--load-only")
    assert first.returncode == 0, first.stderr
    password = (tmp_path / "var" / "admin-password.txt").read_text().strip()
    assert f"password: {password}" in first.stdout and "/shop/" in first.stdout and "/admin/" in first.stdout
    assert len(list((tmp_path / "var" / "media" / "products").glob("*.png"))) >= 10
    second = _cli(tmp_path, "demo", "--load-only")
    assert second.returncode == 0 and f"password: {password}" in second.stdout  # same shop, same login


def test_prod_refuses_the_default_secret(tmp_path):
    env = {"FISSIONMALL_VAR_DIR": str(tmp_path), "FISSIONMALL_ENV": "prod", "PATH": "/usr/bin:/bin"}
    r = subprocess.run(
        [sys.executable, "-m", "fissionmall.cli", "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode != 0 and "FISSIONMALL_SECRET_KEY" in r.stderr
