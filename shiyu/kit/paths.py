"""Materialised jurisdiction paths ('/city/district/.../') and subtree filters."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement

_PATH = re.compile(r"^/(?:[0-9]+/)*$")


def within(column: Any, path: str) -> ColumnElement[bool]:
    """`column` lies in the subtree rooted at `path`.

    A plain `LIKE 'prefix%'` with the whole pattern bound as one parameter, so that SQLite
    (with case_sensitive_like) and PostgreSQL (varchar_pattern_ops index) use an index.
    Paths hold only digits and slashes, so nothing needs escaping."""
    if not _PATH.match(path):
        raise ValueError(f"not a jurisdiction path: {path!r}")
    result: ColumnElement[bool] = column.like(f"{path}%")
    return result
