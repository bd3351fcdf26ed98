"""The import rules of DESIGN.md, checked on the source: the platform names no marketing tool, domain
packages import each other without cycles (pyproject's import-linter contracts), only app.py mounts
routers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "4 kept, 0 broken" in r.stdout


def test_only_the_app_imports_routers() -> None:
    graph = grimp.build_graph("fissionmall")
    routers = [m for m in graph.modules if m.rsplit(".", 1)[-1] == "router"]
    assert len(routers) > 5  # the rule must be looking at the real routers
    importers = {m: sorted(graph.find_modules_that_directly_import(m) - {"fissionmall.app"}) for m in routers}
    assert {m: who for m, who in importers.items() if who} == {}
