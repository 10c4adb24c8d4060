"""Imports every domain's models so that metadata (migrations, tests) sees all tables."""

from __future__ import annotations


def load_all() -> None:
    import shiyu.audit.models  # noqa: F401
    import shiyu.auth.models  # noqa: F401
    import shiyu.jurisdiction.models  # noqa: F401
