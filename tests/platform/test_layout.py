"""The layout rules of docs/architecture.md, checked on the source: no file too long to read as one room,
and service functions that read the same way everywhere (keyword-only after the session, a docstring)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "fissionmall"
MAX_LINES = 600
# Modules whose public functions are not service calls: HTTP and console handlers, schemas, tables, pure
# rules (called with plain values), error tables; signing and fakes of an outside API; checkout
# contributions, whose signatures the `Contribution` protocol fixes; distribution's SQL ledger helpers.
NOT_SERVICES = {"router.py", "admin.py", "schemas.py", "models.py", "errors.py", "rules.py", "__init__.py"} | {
    "crypto.py",
    "fake.py",
    "mpfake.py",
    "poster.py",
    "checkout.py",
    "ledger.py",
}
SESSION_NAMES = {"s", "session", "db"}


def _sources() -> list[Path]:
    return [p for p in SRC.rglob("*") if p.suffix in {".py", ".js", ".html", ".css"} and "vendor" not in p.parts]


def test_no_source_file_is_over_600_lines() -> None:
    long = {str(p.relative_to(SRC)): n for p in _sources() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def _service_functions() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    found = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        # the domains' modules; core/ is plumbing with its own shapes (loops, decorators, the engine)
        if path.name in NOT_SERVICES or rel.parts[0] in {"core", "web", "demo"} or len(rel.parts) == 1:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                if any(ast.unparse(d).split("(")[0].endswith("background") for d in node.decorator_list):
                    continue  # a worker loop: the runner calls it as loop(db, stop)
                found.append((f"{rel}:{node.lineno} {node.name}", node))
    return found


def test_service_functions_take_keywords_after_the_session() -> None:
    functions = _service_functions()
    assert len(functions) > 150  # the rule must be looking at the real services
    positional = []
    for where, fn in functions:
        args = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        if args and args[0] in SESSION_NAMES and len(args) > 1:
            positional.append(f"{where}({', '.join(args)})")
    assert positional == []


def test_service_functions_say_what_they_do() -> None:
    undocumented = [where for where, fn in _service_functions() if not ast.get_docstring(fn)]
    assert undocumented == []
