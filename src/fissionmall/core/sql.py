"""Small SQL helpers shared by the services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

LIKE_ESCAPE = "\\"


def like_pattern(q: str) -> str:
    """`%q%` with q's own `%`, `_` and escape character matched literally (use with `escape=LIKE_ESCAPE`):
    a search for `%` finds names containing a percent sign, not every row."""
    lit = q.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{lit}%"


def contains_text(column: Any, q: str) -> ColumnElement[bool]:
    """column LIKE '%q%' with q taken literally, on SQLite and PostgreSQL alike."""
    return column.like(like_pattern(q), escape=LIKE_ESCAPE)
