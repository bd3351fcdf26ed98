"""Every value a request can send is bounded in the API's own schema, so no value the API accepts can
overflow a column or a cursor: integers have a maximum and strings a length, a format, a pattern or a
fixed set of values. New endpoints inherit the check without anyone remembering to add a case."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fissionmall.app import create_app
from fissionmall.core.schemas import MAX_FEN
from fissionmall.models import Base

BIGINT_MAX = 2**63 - 1


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from fissionmall.settings import Settings

    var = tmp_path_factory.mktemp("var")
    return create_app(Settings(env="dev", var_dir=var, secret_key="s" * 40)).openapi()


def _unbounded(name: str, s: dict[str, Any], path: str, out: list[str]) -> None:
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in s.get(key, ()):
            _unbounded(name, sub, path, out)
    kind = s.get("type")
    if kind == "integer":
        top = s.get("maximum", s.get("exclusiveMaximum"))
        if top is None or top > BIGINT_MAX:
            out.append(f"{name} {path}: integer without a maximum a BIGINT holds")
    # A file part (contentMediaType) is bounded by its route's body cap in core/http.py (1 MB, or the
    # cap an upload route registers with allow_uploads; tests/media and tests/orders refuse one larger).
    elif kind == "string" and not any(
        k in s for k in ("maxLength", "format", "enum", "const", "pattern", "contentMediaType")
    ):
        out.append(f"{name} {path}: string without a bound")
    elif kind == "object":
        for prop, sub in s.get("properties", {}).items():
            _unbounded(name, sub, f"{path}.{prop}" if path else prop, out)
    elif kind == "array":
        _unbounded(name, s.get("items", {}), path + "[]", out)


def _request_schemas(spec: dict[str, Any]) -> tuple[set[str], list[tuple[str, dict[str, Any], str]]]:
    """The component schemas that request bodies use (transitively), and every parameter's schema."""
    refs: list[str] = []
    params = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for content in op.get("requestBody", {}).get("content", {}).values():
                refs += re.findall(r"#/components/schemas/([\w.\-]+)", str(content["schema"]))
            for p in op.get("parameters", ()):
                params.append((f"{method.upper()} {path}", p.get("schema", {}), p["name"]))
    components, seen = spec["components"]["schemas"], set()
    while refs:
        ref = refs.pop()
        if ref not in seen:
            seen.add(ref)
            refs += re.findall(r"#/components/schemas/([\w.\-]+)", str(components[ref]))
    return seen, params


def test_every_request_value_is_bounded(spec):
    names, params = _request_schemas(spec)
    assert len(names) >= 20 and len(params) >= 50  # the walk found the API, not nothing
    problems: list[str] = []
    for name in sorted(names):
        _unbounded(name, spec["components"]["schemas"][name], "", problems)
    for where, schema, param in params:
        _unbounded(where, schema, param, problems)
    assert problems == []


def test_every_money_column_holds_the_largest_accepted_amount():
    from sqlalchemy.dialects import postgresql

    money = [
        (t.name, c.name, c.type.compile(dialect=postgresql.dialect()))
        for t in Base.metadata.tables.values()
        for c in t.columns
        if c.name.endswith("_fen")
    ]
    assert len(money) >= 30
    narrow = [m for m in money if m[2] != "BIGINT"]
    assert narrow == [], f"these hold at most 2^31-1 fen, less than MAX_FEN={MAX_FEN}"
